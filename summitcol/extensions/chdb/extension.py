"""The `chdb` extension: opens the embedded engine at start, serves HTTP, closes at shutdown.

With several worker processes (`service.workers`) the first worker owns the engine and the HTTP
endpoint; in the other workers this extension holds no engine and its writers reach the owner's
through the hub (`serve_worker` answers them there).
"""

from __future__ import annotations

import asyncio
from typing import Any

from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.extensions.chdb.config import Config
from summitcol.extensions.chdb.engine import Engine
from summitcol.extensions.chdb.http import ClickHouseHTTP
from summitcol.extensions.chdb.writer import (
    EmbeddedWriter,
    HandoffWriter,
    Writer,
    read_handoff,
    write_handoff,
)
from summitcol.worker import HubClient


class ChdbExtension(Extension):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.id = str(settings.id)
        self.worker = settings.worker
        self.engine: Engine | None = None
        self._http: ClickHouseHTTP | None = None
        self._running = False

    async def start(self, host: Host) -> None:
        self._running = True
        if not self.worker.owner:
            return
        self.engine = await asyncio.to_thread(
            Engine, self.config.path, self.config.query_handles, self.config.query_settings()
        )
        if self.config.http is not None:
            self._http = ClickHouseHTTP(self.engine, self.config)
            await self._http.start()

    def writer(self) -> Writer | None:
        """A writer into this engine for an exporter of this process; None when it is not running."""
        if not self._running:
            return None
        if self.engine is not None:
            return EmbeddedWriter(self.engine)
        return HandoffWriter(HubClient(self.worker.hub), self.id)

    async def serve_worker(self, message: dict[str, Any]) -> Any:
        """A call from another worker's `HandoffWriter`, carried out on this engine."""
        writer = self.writer()
        if writer is None or self.engine is None:
            raise OSError(f"extension {self.id} has no running engine")
        call = message.get("call")
        if call == "command":
            return await asyncio.to_thread(writer.command, str(message["sql"]))
        if call == "scalar":
            return await asyncio.to_thread(writer.scalar, str(message["sql"]))
        if call == "query_arrow":
            return await asyncio.to_thread(lambda: write_handoff(writer.query_arrow(str(message["sql"]))))
        if call == "insert":
            def insert() -> None:
                writer.insert(str(message["database"]), str(message["table"]), read_handoff(str(message["path"])))

            return await asyncio.to_thread(insert)
        raise ValueError(f"unknown chdb call {call!r}")

    async def shutdown(self) -> None:
        self._running = False
        if self._http is not None:
            await self._http.stop()
            self._http = None
        if self.engine is not None:
            self.engine.close()
            self.engine = None


def _create(settings: CreateSettings, config: Config) -> ChdbExtension:
    return ChdbExtension(settings, config)


FACTORY = Factory(
    type="chdb",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.ALPHA,
    description="embedded ClickHouse (chDB) owning a data path, with a ClickHouse HTTP interface",
)
