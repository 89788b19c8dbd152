"""Where the clickhouse exporter writes: the embedded engine, or a server over HTTP.

Both take an Arrow table whose column names are the ClickHouse columns; both are blocking and
called from a worker thread.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol
from urllib.parse import urlparse

import pyarrow as pa

from summitcol.exporters.clickhouse.config import Config
from summitcol.extensions.chdb.engine import Engine


class Writer(Protocol):
    def command(self, sql: str) -> None: ...

    def scalar(self, sql: str) -> str: ...

    def insert(self, database: str, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


class EmbeddedWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def command(self, sql: str) -> None:
        self.engine.command(sql)

    def scalar(self, sql: str) -> str:
        return self.engine.query(sql, "TabSeparatedRaw").decode().rstrip("\n")

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        self.engine.insert_arrow(f"`{database}`.`{table}`", data)

    def close(self) -> None:
        return None


class RemoteWriter:
    """clickhouse-connect over the ClickHouse HTTP interface (`insert_arrow`)."""

    def __init__(self, config: Config) -> None:
        import clickhouse_connect

        url = urlparse(config.endpoint)
        secure = url.scheme == "https"
        self._insert_settings: dict[str, Any] = (
            {"async_insert": 1, "wait_for_async_insert": 1} if config.async_insert else {}
        )
        timeout = max(1, int(config.timeout.total_seconds()))
        self.client = clickhouse_connect.get_client(
            host=url.hostname or "localhost",
            port=url.port or (8443 if secure else 8123),
            username=config.username,
            password=config.password,
            secure=secure,
            compress=config.compress if config.compress not in ("", "none") else False,
            connect_timeout=timeout,
            send_receive_timeout=max(timeout, 30),
            autogenerate_session_id=False,
            **config.connection_params,
        )
        self._lock = threading.Lock()

    def command(self, sql: str) -> None:
        with self._lock:
            self.client.command(sql)

    def scalar(self, sql: str) -> str:
        with self._lock:
            rows = self.client.query(sql).result_rows
        return str(rows[0][0]) if rows else ""

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        with self._lock:
            self.client.insert_arrow(table, data, database=database, settings=self._insert_settings)

    def close(self) -> None:
        self.client.close()
