"""Where the clickhouse exporter writes besides the embedded engine: a ClickHouse server over
HTTP. The embedded engine's writers (and the `Writer` protocol) are the chdb extension's
(`extensions/chdb/writer.py`); this one follows the same protocol.

Takes an Arrow table whose column names are the ClickHouse columns; blocking, called from a
worker thread.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa

from summitcol.exporters.clickhouse.config import Config


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

    def query_arrow(self, sql: str) -> pa.Table:
        with self._lock:
            return self.client.query_arrow(sql)

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        with self._lock:
            self.client.insert_arrow(table, data, database=database, settings=self._insert_settings)

    def close(self) -> None:
        self.client.close()
