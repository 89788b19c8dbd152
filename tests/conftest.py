"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The one data path in-process tests may open: chDB binds a process to a single path."""
    return str(tmp_path_factory.mktemp("chdb-in-process"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the hub directory of a collector a test killed with kill -9 when no later start
    did (each multi-worker start removes those it finds; see workers.remove_stale_hub_dirs)."""
    from summitcol.service.workers import remove_stale_hub_dirs

    remove_stale_hub_dirs()
