"""The embedded ClickHouse engine (chDB), shared by everything in this process.

chDB allows one engine per process, bound to one data path, and ClickHouse cannot share a data
directory between processes. The engine takes an exclusive lock file in the data directory that
records its pid, so a second collector pointed at the same path fails at once with a message
naming the holder. Ingestion has its own connection handle; queries share a pool of others, so a
long query never makes an insert wait (chDB runs queries on different handles in parallel and
releases the GIL while it works).
"""

from __future__ import annotations

import fcntl
import os
import queue
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from summitcol.exceptions import SummitError

LOCK_FILE = ".summitcol.lock"
_CODE = re.compile(r"Code: (\d+)")


class EngineBusyError(SummitError, OSError):
    """The data path is held by another process."""


class QueryError(SummitError):
    """ClickHouse refused a query; `code` is ClickHouse's error code, `str()` its message."""

    def __init__(self, message: str, code: int = 1002) -> None:
        super().__init__(message)
        self.code = code


def query_error(exc: Exception) -> QueryError:
    text = str(exc).strip()
    match = _CODE.search(text)
    return QueryError(text, int(match.group(1)) if match else 1002)


PURGE_INTERVAL_S = 1.0


class Engine:
    def __init__(
        self, path: str, query_handles: int = 4, query_settings: Mapping[str, int | float | str] | None = None
    ) -> None:
        """`query_settings` are SET on every query handle (chDB keeps settings per connection), in
        order, so a trailing `readonly = 1` locks the ones before it; the ingestion handle has none."""
        import chdb

        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self._lock_file = self._lock()
        try:
            self._writer = chdb.connect(self.path)
            self._writer_lock = threading.Lock()
            self._last_purge = 0.0
            self._handles: queue.Queue[Any] = queue.Queue()
            for _ in range(query_handles):
                conn = chdb.connect(self.path)
                for name, value in (query_settings or {}).items():
                    conn.query(f"SET {name} = {value!r}" if isinstance(value, str) else f"SET {name} = {value}")
                self._handles.put(_Handle(conn))
            self._parser = chdb.connect(self.path)
            self._parser.query("SET readonly = 2")  # reads only; settings free, so any SETTINGS clause parses
            self._parser_lock = threading.Lock()
        except Exception as exc:
            self._release()
            raise EngineBusyError(f"cannot open the embedded ClickHouse at {self.path}: {exc}") from None

    def _lock(self):  # type: ignore[no-untyped-def]
        lock_path = os.path.join(self.path, LOCK_FILE)
        handle = open(lock_path, "a+")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise EngineBusyError(
                f"the embedded ClickHouse data path {self.path} is in use by another process (pid {holder}); "
                "stop that collector, query it through its chdb http endpoint, or use another path"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _release(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    @contextmanager
    def _handle(self, database: str | None) -> Iterator[Any]:
        handle = self._handles.get()
        try:
            target = database or "default"
            if handle.database != target:
                quoted = target.replace("\\", "\\\\").replace("`", "\\`")  # a name, never more SQL
                try:
                    handle.conn.query(f"USE `{quoted}`")
                except Exception as exc:
                    raise query_error(exc) from None
                handle.database = target
            yield handle.conn
        finally:
            self._handles.put(handle)

    def query(
        self, sql: str, fmt: str = "TabSeparated", params: dict[str, str] | None = None, database: str | None = None
    ) -> bytes:
        """Run one statement on a query handle and return its output in `fmt` (blocking)."""
        with self._handle(database) as conn:
            try:
                result = conn.query(sql, fmt, params=params) if params else conn.query(sql, fmt)
            except Exception as exc:
                raise query_error(exc) from None
        return _as_bytes(result)

    def parse(self, sql: str, fmt: str = "TSVRaw", params: dict[str, str] | None = None) -> bytes:
        """Run a statement that only parses (`formatQuery…`, `EXPLAIN AST`, system.* names) on a
        handle of its own, outside the query limits, so a check never counts as the query."""
        with self._parser_lock:
            try:
                result = self._parser.query(sql, fmt, params=params) if params else self._parser.query(sql, fmt)
            except Exception as exc:
                raise query_error(exc) from None
        return _as_bytes(result)

    def insert_arrow(self, table: str, data: pa.Table | pa.RecordBatch) -> None:
        """INSERT INTO `table` the Arrow data (columns by name) on the ingestion handle."""
        columns = ", ".join(f"`{name}`" for name in data.schema.names)
        with self._writer_lock:
            try:
                self._writer.query(f"INSERT INTO {table} ({columns}) SELECT * FROM Python(data)")
            except Exception as exc:
                raise query_error(exc) from None
            self._purge()

    def _purge(self) -> None:
        """Hand the insert's freed memory back to the OS. ClickHouse's jemalloc keeps it otherwise:
        measured on 50k-span inserts, RSS rose by ~500 MiB and stayed; with a purge after each
        insert it rose by ~140 MiB at the same throughput. At most once a second."""
        now = time.monotonic()
        if now - self._last_purge < PURGE_INTERVAL_S:
            return
        self._last_purge = now
        try:
            self._writer.query("SYSTEM JEMALLOC PURGE")
        except Exception:  # noqa: S110 - a build without jemalloc: nothing to give back
            pass

    def insert_bytes(self, insert: str, fmt: str, body: bytes, database: str | None = None) -> None:
        """INSERT with data in a ClickHouse input format (what the HTTP interface receives)."""
        with self._handle(database) as conn:
            try:
                inserter = conn.send_insert(insert, fmt)
                inserter.append(body)
                inserter.finish()
            except Exception as exc:
                raise query_error(exc) from None

    def internal_query(self, sql: str, fmt: str = "ArrowStream") -> bytes:
        """A read by Summit itself (the error groups' state), on the ingestion handle: outside
        the limits and read-only mode meant for users' queries, which a large store outgrows."""
        with self._writer_lock:
            try:
                return _as_bytes(self._writer.query(sql, fmt))
            except Exception as exc:
                raise query_error(exc) from None

    def command(self, sql: str) -> None:
        with self._writer_lock:
            try:
                self._writer.query(sql)
            except Exception as exc:
                raise query_error(exc) from None

    def close(self) -> None:
        handles = [self._writer, self._parser]
        while not self._handles.empty():
            handles.append(self._handles.get_nowait().conn)
        for handle in handles:
            try:
                handle.close()
            except Exception:  # noqa: S110 - closing best effort; the process is stopping
                pass
        self._release()


class _Handle:
    """A query connection and the database it is `USE`-ing."""

    __slots__ = ("conn", "database")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.database = "default"


def _as_bytes(result: Any) -> bytes:
    if result is None:
        return b""
    if isinstance(result, bytes):
        return result
    if isinstance(result, str):
        return result.encode()
    return result.bytes()
