"""The `audit` extension: installs the process's audit ledger (summitcol.audit), a hash-chained
JSON-lines file every worker appends to; with `storage` (a chdb extension id) the first worker
also copies the new records into `otel.audit_v1` every `flush_interval`.
`summitcol audit verify --config …` checks the file, and the file against the table."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from summitcol import audit
from summitcol.audit import ledger, table
from summitcol.component import ComponentID, CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.exceptions import ConfigError

log = logging.getLogger("summitcol.extension.audit")

DEFAULT_PATH = "./data/audit/audit.jsonl"
STARTUP_GRACE_S = 10.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: str = DEFAULT_PATH
    storage: str = ""  # a chdb extension id: copy the records into <database>.audit_v1
    database: str = "otel"
    flush_interval: timedelta = timedelta(seconds=2)

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path must name the ledger file")
        if self.flush_interval <= timedelta(0):
            raise ConfigError("flush_interval must be positive")


class AuditExtension(Extension):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.worker = settings.worker
        self._copier: asyncio.Task[None] | None = None

    async def start(self, host: Host) -> None:
        try:
            ledger.install(audit.Ledger(self.config.path))
        except OSError as exc:
            raise OSError(f"audit: cannot create the ledger's directory for {self.config.path}: {exc.strerror}") from None
        if self.config.storage and self.worker.owner:
            self._copier = asyncio.get_running_loop().create_task(self._copy_loop(host))

    async def _copy_loop(self, host: Host) -> None:
        """Every flush_interval, the records appended since into the table; the chdb extension may
        start after this one, so it is looked up on the first round."""
        tail: table.Tail | None = None
        writer: Any = None
        started = time.monotonic()
        while True:
            await asyncio.sleep(self.config.flush_interval.total_seconds())
            try:
                if writer is None:
                    writer = self._writer(host)
                    await asyncio.to_thread(writer.command, f"CREATE DATABASE IF NOT EXISTS `{self.config.database}`")
                    await asyncio.to_thread(writer.command, table.ddl(self.config.database))
                    done = await asyncio.to_thread(
                        writer.scalar, f"SELECT max(Seq) FROM `{self.config.database}`.`{table.TABLE}`")
                    tail = table.Tail(self.config.path, int(done or 0))
                assert tail is not None
                records = await asyncio.to_thread(tail.read)
                if records:
                    await asyncio.to_thread(writer.insert, self.config.database, table.TABLE, table.rows(records))
            except Exception as exc:  # the store is down: the file has everything, try again next round
                starting = time.monotonic() - started < STARTUP_GRACE_S  # the chdb extension may still be starting
                log.log(logging.DEBUG if starting else logging.WARNING,"audit: cannot copy the ledger into %s.%s: %s", self.config.database, table.TABLE, str(exc)[:300])
                writer = tail = None  # looked up again; the table's max(Seq) says where to resume

    def _writer(self, host: Host) -> Any:  # noqa: ANN401 - a chdb Writer
        from summitcol.extensions.chdb.extension import ChdbExtension

        extension = host.extension(ComponentID.parse(self.config.storage))
        writer = extension.writer() if isinstance(extension, ChdbExtension) else None
        if writer is None:
            raise OSError(f"storage '{self.config.storage}' is not a running chdb extension")
        return writer

    async def shutdown(self) -> None:
        if self._copier is not None:
            self._copier.cancel()
            self._copier = None
        ledger.install(None)


def _create(settings: CreateSettings, config: Config) -> AuditExtension:
    return AuditExtension(settings, config)


FACTORY = Factory(
    type="audit",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.ALPHA,
    description="append-only, hash-chained audit ledger (auth failures, queries, config loads, error-group changes)",
)
