"""Fixtures shared by the whole suite."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The one data path in-process tests may open: chDB binds a process to a single path."""
    return str(tmp_path_factory.mktemp("chdb-in-process"))


@pytest.fixture
def private_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp directory of the test's own, set as TMPDIR for the collectors it starts. Made
    under the system's temp directory, not tmp_path: a hub socket's path in it must stay under
    AF_UNIX's 108 bytes, and tmp_path is longer under pytest-xdist (popen-gwN/)."""
    path = Path(tempfile.mkdtemp(prefix="summit-test-"))
    monkeypatch.setenv("TMPDIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the hub directory of a collector a test killed with kill -9 when no later start
    did (each multi-worker start removes those it finds; see workers.remove_stale_hub_dirs)."""
    from summitcol.service.workers import remove_stale_hub_dirs

    remove_stale_hub_dirs()
