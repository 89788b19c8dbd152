"""The `chdb` extension: opens the embedded engine at start, serves HTTP, closes at shutdown."""

from __future__ import annotations

import asyncio

from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.extensions.chdb.config import Config
from summitcol.extensions.chdb.engine import Engine
from summitcol.extensions.chdb.http import ClickHouseHTTP


class ChdbExtension(Extension):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.engine: Engine | None = None
        self._http: ClickHouseHTTP | None = None

    async def start(self, host: Host) -> None:
        self.engine = await asyncio.to_thread(Engine, self.config.path, self.config.query_handles)
        if self.config.http is not None:
            self._http = ClickHouseHTTP(self.engine, self.config)
            await self._http.start()

    async def shutdown(self) -> None:
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
