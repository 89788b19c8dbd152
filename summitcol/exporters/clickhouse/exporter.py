"""The `clickhouse` exporter: creates contrib's schema, keeps its TTL in line with the config,
and inserts each batch's tables as Arrow (one INSERT per table per batch, cut by day when the
rows span more days than one INSERT may touch partitions; see partitions.py).

Rows already past the table's TTL are not inserted (ClickHouse would delete them at its next
merge, after queries had seen them): they are counted in `summitcol_exporter_expired_*` and
logged, at most one line per `EXPIRED_LOG_INTERVAL_S` per exporter and signal."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc

from summitcol.cicd.rows import build_tables
from summitcol.cicd.spans import recognize
from summitcol.component import (
    CreateSettings,
    Exporter,
    Factory,
    Host,
    Kind,
    Signal,
    Stability,
    required_extension,
)
from summitcol.exceptions import RetryableError
from summitcol.exporters.clickhouse import partitions, schema
from summitcol.exporters.clickhouse.config import Config
from summitcol.exporters.clickhouse.projection import project, project_map
from summitcol.exporters.clickhouse.writer import RemoteWriter
from summitcol.extensions.chdb.extension import ChdbExtension
from summitcol.extensions.chdb.writer import Writer
from summitcol.logthrottle import LogThrottle
from summitcol.pdata.metrics import METRIC_TYPES
from summitcol.pdata.signal import LOGS, SPANS, SignalData, concat
from summitcol.pdata.tenant import TENANT_COLUMN, row_tenants, with_tenant_column
from summitcol.pdata.values import ATTRIBUTES
from summitcol.sqltext import sql_string
from summitcol.telemetry import ITEM_NAMES
from summitcol.tenancy import TenantRetention

log = logging.getLogger("summitcol.exporter.clickhouse")


# Group commit: batches that arrive while an insert runs are merged into the next one (every
# insert makes a MergeTree part, ~30 ms whatever its size), up to this many rows per insert.
MAX_GROUP_ROWS = 100_000
EXPIRED_LOG_INTERVAL_S = 10.0
_CLICKHOUSE_CODE = re.compile(r"Code: \d+")  # in every error ClickHouse itself answers (chDB and server)


class ClickHouseExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.signals = settings.signals or frozenset(Signal)
        self.label = str(settings.id)
        self.telemetry = settings.telemetry
        self._expired_log = LogThrottle(EXPIRED_LOG_INTERVAL_S)  # per signal
        self.writer: Writer | None = None
        self._waiting: list[tuple[SignalData, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        self.retention: dict[str, timedelta] = {}  # tenants' own retention (the `tenants` extension)
        self._retention_s: dict[str, int] = {}  # the same in seconds, as the insert-time expiry takes it

    def table_name(self, kind: str) -> str:
        if kind == SPANS:
            return self.config.traces_table_name
        if kind == LOGS:
            return self.config.logs_table_name
        return self.config.metrics_tables.name(kind)

    async def start(self, host: Host) -> None:
        if self.config.storage:
            extension = host.extension(self.config.storage_id())
            writer = extension.writer() if isinstance(extension, ChdbExtension) else None
            if writer is None:
                raise OSError(f"exporter {self.label}: storage '{self.config.storage}' is not a running chdb extension")
            self.writer = writer
        else:
            try:
                self.writer = await asyncio.to_thread(RemoteWriter, self.config)
            except Exception as exc:
                raise OSError(f"exporter {self.label}: cannot connect to ClickHouse at {self.config.endpoint}: {exc}") from None
        if self.config.tenants:
            tenants = required_extension(host, self.config.tenants, TenantRetention, self.label, "tenants",
                                         "a tenants extension")
            self.retention = dict(tenants.retention())
            self._retention_s = {tenant: int(ttl.total_seconds()) for tenant, ttl in self.retention.items()}
        if self.config.create_schema:
            await asyncio.to_thread(self._create_schema)

    def _tables(self) -> list[tuple[str, schema.TableSpec, str]]:
        """(table name, spec, ttl signal) for every table this exporter's signals need."""
        tables = []
        if Signal.TRACES in self.signals:
            tables.append((self.config.traces_table_name, schema.TRACES, "traces"))
            tables.append((f"{self.config.traces_table_name}_trace_id_ts", schema.TRACE_ID_TS, "traces"))
        if Signal.LOGS in self.signals:
            tables.append((self.config.logs_table_name, schema.LOGS, "logs"))
        if Signal.METRICS in self.signals:
            tables.extend((self.config.metrics_tables.name(t), schema.METRICS[t], "metrics") for t in METRIC_TYPES)
        if Signal.TRACES in self.signals or Signal.LOGS in self.signals:
            for name, side in schema.SIDE_TABLES.items():
                tables.append((name, side.spec, self._side_retention(side)))
        return tables

    def _side_retention(self, side: schema.SideTable) -> str:
        if side.retention != "signal":
            return side.retention
        return "traces" if Signal.TRACES in self.signals else "logs"

    def _create_schema(self) -> None:
        assert self.writer is not None
        db, cluster = self.config.database, self.config.cluster_name
        on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
        self.writer.command(f"CREATE DATABASE IF NOT EXISTS `{db}`{on_cluster}")
        for table, spec, signal in self._tables():
            engine = spec.engine or ("AggregatingMergeTree()" if spec is schema.TRACE_ID_TS else self.config.table_engine.render())
            ttl = self.config.ttl_for(signal)
            for statement in spec.create(db, table, engine, ttl, cluster, self.retention):
                self.writer.command(statement)
            if spec.has_tenants:
                self._add_tenant_column(table, cluster)
            self._reconcile_ttl(table if not cluster else f"{table}_local", spec, ttl)
        if Signal.TRACES in self.signals:
            self.writer.command(schema.trace_id_ts_view(db, self.config.traces_table_name, cluster))
            self.writer.command(schema.web_vitals_view(db, self.config.traces_table_name, cluster))

    def _add_tenant_column(self, table: str, cluster: str) -> None:
        """A table made before tenants existed gets its TenantId column (rows so far: `default`).
        It cannot join the ordering key of an existing table, so it prunes less there."""
        assert self.writer is not None
        for name in ([f"{table}_local", table] if cluster else [table]):
            present = self.writer.scalar(
                f"SELECT count() FROM system.columns WHERE database = {sql_string(self.config.database)} "
                f"AND table = {sql_string(name)} AND name = 'TenantId'")
            if int(present or 0):
                continue
            log.warning("exporter %s: adding TenantId to %s.%s, made by an earlier version; its rows so far belong to "
                        "tenant 'default'", self.label, self.config.database, name)
            on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
            self.writer.command(f"ALTER TABLE `{self.config.database}`.`{name}`{on_cluster} "
                                f"ADD COLUMN IF NOT EXISTS {schema.TENANT_COLUMN} FIRST")

    def _reconcile_ttl(self, table: str, spec: schema.TableSpec, ttl: object) -> None:
        """An existing table whose TTL differs from the config is altered in place (no drop)."""
        assert self.writer is not None
        expected = schema.ttl_clause(spec.ttl_field, ttl, self.retention if spec.has_tenants else None)  # type: ignore[arg-type]
        db = self.config.database.replace("'", "\\'")
        engine_full = self.writer.scalar(
            f"SELECT engine_full FROM system.tables WHERE database = '{db}' AND name = '{table}'"
        )
        current = engine_full.split(" TTL ", 1)[1].split(" SETTINGS ", 1)[0].strip() if " TTL " in engine_full else ""
        wanted = expected[len("TTL ") :] if expected else ""
        if _normalize(current) == _normalize(wanted):
            return
        on_cluster = f" ON CLUSTER `{self.config.cluster_name}`" if self.config.cluster_name else ""
        action = f"MODIFY {expected}" if expected else "REMOVE TTL"
        log.info("exporter %s: changing TTL of %s.%s: %r → %r", self.label, self.config.database, table, current, wanted)
        self.writer.command(f"ALTER TABLE `{self.config.database}`.`{table}`{on_cluster} {action}")

    def _insert_group(self, group: list[SignalData]) -> int:
        """Insert the group's data as one; returns how many rows were skipped as expired."""
        return self._insert(group[0] if len(group) == 1 else concat(group))

    def _insert(self, data: SignalData) -> int:
        assert self.writer is not None
        ttl_s = int(self.config.ttl_for(str(data.signal)).total_seconds())
        now_ns = time.time_ns()
        skipped = 0
        span_tenants = None
        for kind, batch in data.tables.items():
            if not batch.num_rows:
                continue
            table = project(kind, batch)
            if kind == SPANS:
                span_tenants = table.column(TENANT_COLUMN).combine_chunks()  # projected once, for the build rows too
            column = partitions.time_column(kind)
            expired = partitions.expired(table, column, ttl_s, now_ns, self._retention_s)
            if expired is not None:
                skipped += int(expired.sum())
                table = table.filter(pa.array(~expired))
            for piece in partitions.by_day(table, column):
                self.writer.insert(self.config.database, self.table_name(kind), piece)
        spans = data.tables.get(SPANS)
        if spans is not None and spans.num_rows and span_tenants is not None:  # CI spans (Jenkins, cicd.*, test.*, deployments) → build rows
            distinct = pc.unique(span_tenants).to_pylist()
            for tenant in distinct:  # each tenant's spans make that tenant's build rows
                own = spans if len(distinct) == 1 else spans.filter(pc.equal(span_tenants, tenant))
                for name, rows in build_tables(recognize(own)).items():
                    data = data.with_side(name, with_tenant_column(rows, tenant))
        for name, batch in data.side.items():  # error occurrences, build rows
            if batch.num_rows:
                skipped += self._insert_side(name, batch, now_ns)
        return skipped

    def _insert_side(self, name: str, batch: pa.RecordBatch, now_ns: int) -> int:
        """Rows for one of Summit's own tables; typed attribute maps are projected to text like
        the spans' own. Rows past the table's TTL are skipped (and counted) as for the signal."""
        assert self.writer is not None
        side = schema.SIDE_TABLES.get(name)
        if side is None:  # a producer's bug; refusing would retry the whole batch forever
            log.error("exporter %s: dropping %d rows for unknown table %r", self.label, batch.num_rows, name)
            return 0
        table = pa.Table.from_batches([batch])
        if TENANT_COLUMN not in table.schema.names:
            table = table.append_column(TENANT_COLUMN, row_tenants(table))
        for position, column in enumerate(table.schema):
            if column.type == ATTRIBUTES:
                table = table.set_column(position, column.name, project_map(table.column(position)))
        ttl_s = int(self.config.ttl_for(self._side_retention(side)).total_seconds())
        expired = partitions.expired(table, side.time_column, ttl_s, now_ns, self._retention_s)
        skipped = 0
        if expired is not None:
            skipped = int(expired.sum())
            table = table.filter(pa.array(~expired))
        for piece in partitions.by_day(table, side.time_column):
            self.writer.insert(self.config.database, name, piece)
        return skipped

    async def consume(self, data: SignalData) -> None:
        """Insert `data`; returns when the insert holding it succeeded (raises if it failed).

        One insert runs at a time; what arrives meanwhile waits and goes in the next insert,
        merged (group commit), so a busy exporter makes fewer, larger parts."""
        if self.writer is None:
            raise RetryableError(f"exporter {self.label} is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((data, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit())
        await done

    async def _commit(self) -> None:
        while self._waiting:
            await self._insert_or_split(self._next_group())

    def _next_group(self) -> list[tuple[SignalData, asyncio.Future[None]]]:
        """The oldest waiting request and the later ones of the same signal (one signal per
        insert: its TTL, its counters), up to MAX_GROUP_ROWS rows."""
        signal = self._waiting[0][0].signal
        group, rest, rows = [], [], 0
        for entry in self._waiting:
            items = entry[0].item_count()
            if entry[0].signal == signal and (not group or rows + items <= MAX_GROUP_ROWS):
                group.append(entry)
                rows += items
            else:
                rest.append(entry)
        self._waiting = rest
        return group

    async def _insert_or_split(self, group: list[tuple[SignalData, asyncio.Future[None]]]) -> None:
        """Insert `group` as one and answer its callers. When ClickHouse refuses the insert of
        several requests, one request's content may be the cause: each half is inserted on its
        own, down to the failing request, so the others are stored and only it is refused. A
        failure to reach ClickHouse (no error code) is answered to all at once."""
        try:
            skipped = await asyncio.to_thread(self._insert_group, [data for data, _ in group])
        except Exception as exc:  # server down, too many parts, …: the client keeps the data and retries
            if len(group) > 1 and _CLICKHOUSE_CODE.search(str(exc)):
                log.warning("exporter %s: an insert merging %d requests failed (%s); inserting them in halves",
                            self.label, len(group), str(exc).strip()[:200])
                middle = len(group) // 2
                await self._insert_or_split(group[:middle])
                await self._insert_or_split(group[middle:])
                return
            error = RetryableError(f"ClickHouse insert failed: {str(exc).strip()[:500]}", retry_after=2.0)
            for _, done in group:
                if not done.done():
                    done.set_exception(error)
            return
        if skipped:
            self._expired(group[0][0].signal, skipped)
        for _, done in group:
            if not done.done():
                done.set_result(None)

    def _expired(self, signal: Signal, rows: int) -> None:
        """Count rows skipped as past the TTL; log them at most once per EXPIRED_LOG_INTERVAL_S
        and signal (a line names what was skipped since the previous one)."""
        self.telemetry.count_plain(f"summitcol_exporter_expired_{ITEM_NAMES[signal]}", rows, exporter=self.label)
        count = self._expired_log.add(signal, rows)
        if count is None:
            return
        log.warning(
            "exporter %s: %d %s not stored: already older than the %s TTL (%s); counted in "
            "summitcol_exporter_expired_%s (check the senders' clocks or the ttl settings)",
            self.label, count, ITEM_NAMES[signal].replace("_", " "), signal, self.config.ttl_for(str(signal)), ITEM_NAMES[signal],
        )

    async def shutdown(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _normalize(ttl: str) -> str:
    return "".join(ttl.split()).lower()


def _create(settings: CreateSettings, config: Config) -> ClickHouseExporter:
    return ClickHouseExporter(settings, config)


FACTORY = Factory(
    type="clickhouse",
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.BETA,
    description="Arrow inserts into contrib-compatible tables: embedded chDB (storage) or a ClickHouse server (endpoint)",
)
