"""Writers into the embedded engine: in this process, or in the collector's first worker through
the hub (`service.workers`).

They live with the engine because the `chdb` extension builds them (`ChdbExtension.writer`) and
answers the hub's calls with them; the `clickhouse` exporter only uses the `Writer` protocol,
which its own `RemoteWriter` (a ClickHouse server over HTTP) also follows. All take an Arrow
table whose column names are the ClickHouse columns; all are blocking and called from a worker
thread.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from typing import Any, Protocol

import pyarrow as pa

from summitcol.extensions.chdb.engine import Engine
from summitcol.worker import HubClient


class Writer(Protocol):
    def command(self, sql: str) -> None: ...

    def scalar(self, sql: str) -> str: ...

    def query_arrow(self, sql: str) -> pa.Table: ...

    def insert(self, database: str, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


class EmbeddedWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def command(self, sql: str) -> None:
        self.engine.command(sql)

    def scalar(self, sql: str) -> str:
        return self.engine.query(sql, "TabSeparatedRaw").decode().rstrip("\n")

    def query_arrow(self, sql: str) -> pa.Table:
        raw = self.engine.internal_query(sql, "ArrowStream")
        return pa.ipc.open_stream(raw).read_all() if raw else pa.table({})

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        self.engine.insert_arrow(f"`{database}`.`{table}`", data)

    def close(self) -> None:
        return None


_handoffs = itertools.count()


def write_handoff(data: pa.Table) -> str:
    """Write `data` as an Arrow IPC file in shared memory (its one copy) and return its path.

    /dev/shm can be small (64 MiB in a default Docker container): when it is full, the file goes
    to the temp directory, whose pages stay in the page cache for as long as the file lives."""
    name = f"summitcol-{os.getpid()}-{next(_handoffs)}.arrow"
    shared = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    try:
        return _write_ipc(os.path.join(shared, name), data)
    except OSError:
        return _write_ipc(os.path.join(tempfile.gettempdir(), name), data)


def _write_ipc(path: str, data: pa.Table) -> str:
    try:
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, data.schema) as writer:
            writer.write_table(data)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return path


def read_handoff(path: str) -> pa.Table:
    """The table in a handoff file, memory-mapped: its buffers are the file's pages, not a copy."""
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).read_all()


class HandoffWriter:
    """The embedded engine of the collector's first worker, from another worker: each insert is
    written once to shared memory and the owner inserts it from there (see service/workers.py)."""

    def __init__(self, client: HubClient, storage: str) -> None:
        self.client = client
        self.storage = storage

    def _call(self, call: str, **fields: Any) -> Any:
        return self.client.call({"op": "extension", "id": self.storage, "call": call, **fields})

    def command(self, sql: str) -> None:
        self._call("command", sql=sql)

    def scalar(self, sql: str) -> str:
        return str(self._call("scalar", sql=sql))

    def query_arrow(self, sql: str) -> pa.Table:
        """The owner writes the result to a handoff file; read here, then removed."""
        path = str(self._call("query_arrow", sql=sql))
        try:
            return read_handoff(path).combine_chunks()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        path = write_handoff(data)
        try:
            self._call("insert", database=database, table=table, path=path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def close(self) -> None:
        self.client.close()
