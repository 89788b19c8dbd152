"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The one data path in-process tests may open: chDB binds a process to a single path."""
    return str(tmp_path_factory.mktemp("chdb-in-process"))
