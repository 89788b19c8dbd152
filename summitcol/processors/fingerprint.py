"""The `fingerprint` processor (traces, logs): error tracking in the pipeline.

Every exception (span events named `exception`, log records with `exception.*` attributes) is
parsed, fingerprinted and grouped (summitcol/errors); the event or record gets
`exception.fingerprint` and `exception.group_id`, and one `events_error_v1` row per occurrence
rides with the batch (`SignalData.side`) to the `clickhouse` exporter. Group state lives in
the store named by `storage` (a chdb extension) or `endpoint` (a ClickHouse server), shared by
all `service.workers` and kept across restarts; it is re-read every `refresh_interval`, so a
merge or resolve from the CLI applies to new events within that time.

    processors: {fingerprint: {storage: chdb}}

A batch whose new decisions cannot be stored is refused retryably (nothing is acknowledged that
the store does not know how to group); a trace that no parser understands still gets a
fingerprint, from its type and message template.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from summitcol.component import (
    ComponentID,
    Consumer,
    CreateSettings,
    Factory,
    Host,
    Kind,
    Processor,
    Signal,
    Stability,
)
from summitcol.errors.grouping import Grouper
from summitcol.errors.model import DEFAULT_THRESHOLD, PairModel
from summitcol.errors.normalize import InAppRules
from summitcol.errors.rules import FingerprintRules
from summitcol.errors.schema import EVENTS_TABLE
from summitcol.errors.store import GroupStore
from summitcol.errors.tracker import ErrorTracker
from summitcol.exceptions import ConfigError, RetryableError
from summitcol.pdata.signal import LOGS, SPANS, SignalData

log = logging.getLogger("summitcol.processor.fingerprint")


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupingConfig:
    model: str = "builtin"  # "builtin" (the shipped v0.1), "none" (fingerprints only), or a model file
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    storage: str = ""
    endpoint: str = ""
    username: str = "default"
    password: str = ""
    database: str = "otel"
    in_app_include: list[str] = field(default_factory=list)
    in_app_exclude: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    grouping: GroupingConfig = field(default_factory=GroupingConfig)
    refresh_interval: timedelta = timedelta(seconds=2)

    def validate(self) -> None:
        if bool(self.endpoint) == bool(self.storage):
            raise ConfigError(
                "set exactly one of 'storage' (a chdb extension id) or 'endpoint' (http(s)://host:port of a "
                "ClickHouse server): group state is kept there, shared by every worker and restart"
            )
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"endpoint '{self.endpoint}' must be http(s)://host:port (the ClickHouse HTTP interface)")
        if not self.database or "`" in self.database:
            raise ConfigError(f"'{self.database}' is not a usable database name")
        if not 0.0 < self.grouping.threshold <= 1.0:
            raise ConfigError(f"grouping::threshold must be in (0, 1], got {self.grouping.threshold}")
        if self.grouping.model not in ("builtin", "none") and not Path(self.grouping.model).is_file():
            raise ConfigError(f"grouping::model: no model file at {self.grouping.model} (or use builtin / none)")
        if self.refresh_interval <= timedelta(0):
            raise ConfigError("refresh_interval must be positive")
        FingerprintRules(self.rules)  # raises ConfigError naming the rule


class FingerprintProcessor(Processor):
    def __init__(self, settings: CreateSettings, config: Config, next_consumer: Consumer) -> None:
        self.settings = settings
        self.config = config
        self.label = str(settings.id)
        self.next_consumer = next_consumer
        self.tracker: ErrorTracker | None = None
        self._client: object | None = None
        self._refresher: asyncio.Task[None] | None = None

    async def start(self, host: Host) -> None:
        self._client = await asyncio.to_thread(self._connect, host)
        store = GroupStore(self._client, self.config.database)  # type: ignore[arg-type]
        await asyncio.to_thread(store.create_schema)
        model = None if self.config.grouping.model == "none" else await asyncio.to_thread(
            PairModel.load, None if self.config.grouping.model == "builtin" else self.config.grouping.model
        )
        self.tracker = ErrorTracker(
            Grouper(model, self.config.grouping.threshold),
            store,
            in_app=InAppRules(tuple(self.config.in_app_include), tuple(self.config.in_app_exclude)),
            rules=FingerprintRules(self.config.rules) if self.config.rules else None,
        )
        loaded = await asyncio.to_thread(self.tracker.refresh)
        log.info("processor %s: %d fingerprint decisions loaded from the store", self.label, loaded)
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())

    def _connect(self, host: Host) -> object:
        if self.config.storage:
            from summitcol.extensions.chdb.extension import ChdbExtension

            extension = host.extension(ComponentID.parse(self.config.storage))
            writer = extension.writer() if isinstance(extension, ChdbExtension) else None
            if writer is None:
                raise OSError(f"processor {self.label}: storage '{self.config.storage}' is not a running chdb extension")
            return writer
        from summitcol.exporters.clickhouse.config import Config as ClickHouseConfig
        from summitcol.exporters.clickhouse.writer import RemoteWriter

        target = ClickHouseConfig(endpoint=self.config.endpoint, username=self.config.username,
                                  password=self.config.password, async_insert=False)
        try:
            return RemoteWriter(target)
        except Exception as exc:
            raise OSError(f"processor {self.label}: cannot connect to ClickHouse at {self.config.endpoint}: {exc}") from None

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.refresh_interval.total_seconds())
            try:
                assert self.tracker is not None
                await asyncio.to_thread(self.tracker.refresh)
            except Exception as exc:  # the store is down: keep grouping with what is known
                log.warning("processor %s: cannot refresh group state from the store: %s", self.label, str(exc)[:300])

    def _process(self, data: SignalData) -> tuple[SignalData, int, int]:
        assert self.tracker is not None
        kind = SPANS if data.signal == Signal.TRACES else LOGS
        batch = data.tables.get(kind)
        if batch is None or not batch.num_rows:
            return data, 0, 0
        result = self.tracker.process(kind, batch)
        if result.errors is None:
            return data, 0, 0
        # a second fingerprint processor in the pipeline replaces the first one's rows
        side = {**data.side, EVENTS_TABLE: result.errors}
        out = SignalData(data.signal, {**data.tables, kind: result.batch}, data.client, side)
        return out, result.new_groups, result.regressions

    async def consume(self, data: SignalData) -> None:
        telemetry = self.settings.telemetry
        telemetry.processor_items("incoming", self.label, data.signal, data.item_count())
        if self.tracker is None:
            raise RetryableError(f"processor {self.label} is not running")
        try:
            out, new_groups, regressions = await asyncio.to_thread(self._process, data)
        except Exception as exc:
            log.warning("processor %s: cannot group this batch's exceptions (%s); refusing it for a retry",
                        self.label, str(exc)[:300])
            raise RetryableError(f"error grouping unavailable: {str(exc)[:200]}", retry_after=2.0) from None
        if EVENTS_TABLE in out.side:
            rows = out.side[EVENTS_TABLE].num_rows
            telemetry.count_plain("summitcol_processor_fingerprint_exceptions", rows, processor=self.label)
        if new_groups:
            telemetry.count_plain("summitcol_processor_fingerprint_new_groups", new_groups, processor=self.label)
        if regressions:
            telemetry.count_plain("summitcol_processor_fingerprint_regressions", regressions, processor=self.label)
        telemetry.processor_items("outgoing", self.label, data.signal, out.item_count())
        await self.next_consumer.consume(out)

    async def shutdown(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        close = getattr(self._client, "close", None)
        if close is not None:
            close()
        self.tracker = None


def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> FingerprintProcessor:
    return FingerprintProcessor(settings, config, next_consumer)


FACTORY = Factory(
    type="fingerprint",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES, Signal.LOGS}),
    stability=Stability.ALPHA,
    description="error tracking: parses exceptions, fingerprints and groups them (XGBoost model), feeds events_error_v1",
)
