"""DDL for the tables of contrib's ClickHouse exporter: same columns, types, codecs, skip
indexes, partitioning and ordering (internal/sqltemplates/*.sql), so Grafana's ClickHouse plugin
and existing SQL work unchanged. Retention is a table TTL (`ttl_only_drop_parts = 1` drops whole
day partitions); `cluster_name` adds `ON CLUSTER` and a Distributed table over `<name>_local`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from summitcol.cicd import schema as builds_schema
from summitcol.errors import schema as errors_schema
from summitcol.pdata.tenant import TENANT_DDL
from summitcol.sentry import replays
from summitcol.sqltext import sql_string

MAP = "Map(LowCardinality(String), String)"
Z = "CODEC(ZSTD(1))"
# Summit's one addition to contrib's tables: the tenant of every row, first in the ordering key,
# so that one tenant's queries read only its own granules (summitcol.pdata.tenant).
TENANT_COLUMN = TENANT_DDL


def _expiry(time_field: str, seconds: int) -> str:
    """contrib's GenerateTTLExpr: whole days as toIntervalDay, else hours, minutes, seconds."""
    for unit, size in (("Day", 86400), ("Hour", 3600), ("Minute", 60), ("Second", 1)):
        if seconds % size == 0:
            return f"{time_field} + toInterval{unit}({seconds // size})"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def ttl_clause(time_field: str, ttl: timedelta, tenants: Mapping[str, timedelta] | None = None) -> str:
    """The table's TTL ("" for none). With `tenants` (a tenant's own retention, for a table with
    a TenantId column): one rule per tenant (`… WHERE TenantId = 'acme'`; 0 keeps its rows) and the
    table's TTL for every other tenant (`… WHERE TenantId NOT IN (…)`)."""
    seconds = int(ttl.total_seconds())
    if not tenants:
        return f"TTL {_expiry(time_field, seconds)}" if seconds > 0 else ""
    names = sorted(tenants)
    rules = []
    if seconds > 0:
        rules.append(f"{_expiry(time_field, seconds)} WHERE TenantId NOT IN ({', '.join(sql_string(n) for n in names)})")
    for name in names:
        own = int(tenants[name].total_seconds())
        if own > 0:
            rules.append(f"{_expiry(time_field, own)} WHERE TenantId = {sql_string(name)}")
    return f"TTL {', '.join(rules)}" if rules else ""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table: its columns and indexes (DDL lines), key clauses, and the time field TTL uses."""

    columns: tuple[str, ...]
    partition_by: str
    order_by: str
    ttl_field: str
    primary_key: str = ""
    engine: str = ""  # this table's own engine (else the exporter's table_engine)

    @property
    def has_tenants(self) -> bool:
        return TENANT_COLUMN in self.columns

    def create(self, database: str, table: str, engine: str, ttl: timedelta, cluster: str = "",
               tenants: Mapping[str, timedelta] | None = None) -> list[str]:
        """CREATE statements; with a cluster: `<table>_local` on every node plus a Distributed `<table>`."""
        on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
        local = f"{table}_local" if cluster else table
        body = ",\n    ".join(self.columns)
        primary = f"\nPRIMARY KEY {self.primary_key}" if self.primary_key else ""
        ttl_text = ttl_clause(self.ttl_field, ttl, tenants if self.has_tenants else None)
        statements = [
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{local}`{on_cluster} (\n    {body}\n) ENGINE = {engine}\n"
            f"PARTITION BY {self.partition_by}{primary}\nORDER BY {self.order_by}\n"
            f"{ttl_text + chr(10) if ttl_text else ''}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"
        ]
        if cluster:
            statements.append(
                f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}`{on_cluster} AS `{database}`.`{local}` "
                f"ENGINE = Distributed(`{cluster}`, `{database}`, `{local}`, rand())"
            )
        return statements


_RESOURCE_SCOPE_METRICS = (
    TENANT_COLUMN,
    f"ResourceAttributes {MAP} {Z}",
    f"ResourceSchemaUrl String {Z}",
    f"ScopeName String {Z}",
    f"ScopeVersion String {Z}",
    f"ScopeAttributes {MAP} {Z}",
    f"ScopeDroppedAttrCount UInt32 {Z}",
    f"ScopeSchemaUrl String {Z}",
    f"ServiceName LowCardinality(String) {Z}",
    f"MetricName String {Z}",
    f"MetricDescription String {Z}",
    f"MetricUnit String {Z}",
    f"Attributes {MAP} {Z}",
    "StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1))",
    "TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1))",
)
_EXEMPLARS = (
    f"Exemplars Nested (\n        FilteredAttributes {MAP},\n        TimeUnix DateTime64(9),\n        Value Float64,\n"
    f"        SpanId String,\n        TraceId String\n    ) {Z}"
)
_METRIC_INDEXES = (
    "INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
    "INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
    "INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
    "INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
    "INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1",
    "INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1",
)


def _metric(*specific: str) -> TableSpec:
    return TableSpec(
        columns=(*_RESOURCE_SCOPE_METRICS, *specific, _EXEMPLARS, f"Flags UInt32 {Z}", *_METRIC_INDEXES),
        partition_by="toDate(TimeUnix)",
        order_by="(TenantId, ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))",
        ttl_field="toDateTime(TimeUnix)",
    )


# The fingerprint processor's rows: one per exception occurrence (summitcol/errors/schema.py).
ERRORS = TableSpec(
    columns=errors_schema.EVENT_COLUMNS,
    partition_by="toDate(Timestamp)",
    order_by=errors_schema.EVENT_ORDER_BY,
    ttl_field="toDateTime(Timestamp)",
)


@dataclass(frozen=True, slots=True)
class SideTable:
    """A table written from SignalData.side rows: its spec, the time column partitions and TTL
    use, and which retention setting applies (`ttl_for`'s key)."""

    spec: TableSpec
    time_column: str
    retention: str


def _build_spec(table: builds_schema.BuildTable) -> TableSpec:
    return TableSpec(
        columns=table.ddl_columns,
        partition_by=f"toDate({table.time_column})",
        order_by=table.key,
        ttl_field=f"toDateTime({table.time_column})",
        engine=table.engine,
    )


def _replay_spec(columns: tuple, engine: str = "") -> TableSpec:  # type: ignore[type-arg]
    return TableSpec(columns=replays.ddl_columns(columns), partition_by="toDate(Timestamp)", order_by=replays.REPLAY_ORDER_BY,
                     ttl_field="toDateTime(Timestamp)", engine=engine)


# Side tables by name; "traces" retention for errors means the signal the exporter carries.
SIDE_TABLES = {
    replays.REPLAYS_TABLE: SideTable(_replay_spec(replays.REPLAY_COLUMNS), "Timestamp", "logs"),
    # a segment an SDK sends again replaces itself: read with FINAL
    replays.SEGMENTS_TABLE: SideTable(_replay_spec(replays.SEGMENT_COLUMNS, "ReplacingMergeTree"), "Timestamp", "logs"),
    errors_schema.EVENTS_TABLE: SideTable(ERRORS, "Timestamp", "signal"),
    **{name: SideTable(_build_spec(table), table.time_column, "builds") for name, table in builds_schema.TABLES.items()},
}

TRACES = TableSpec(
    columns=(
        TENANT_COLUMN,
        "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
        f"TraceId String {Z}",
        f"SpanId String {Z}",
        f"ParentSpanId String {Z}",
        f"TraceState String {Z}",
        f"SpanName LowCardinality(String) {Z}",
        f"SpanKind LowCardinality(String) {Z}",
        f"ServiceName LowCardinality(String) {Z}",
        f"ResourceAttributes {MAP} {Z}",
        f"ScopeName String {Z}",
        f"ScopeVersion String {Z}",
        f"SpanAttributes {MAP} {Z}",
        "Duration UInt64 CODEC(T64, ZSTD(1))",
        f"StatusCode LowCardinality(String) {Z}",
        f"StatusMessage String {Z}",
        f"Events Nested (\n        Timestamp DateTime64(9),\n        Name LowCardinality(String),\n        Attributes {MAP}\n    ) {Z}",
        f"Links Nested (\n        TraceId String,\n        SpanId String,\n        TraceState String,\n        Attributes {MAP}\n    ) {Z}",
        "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
        "INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_duration Duration TYPE minmax GRANULARITY 1",
    ),
    partition_by="toDate(Timestamp)",
    primary_key="(TenantId, ServiceName, SpanName, toDateTime(Timestamp))",
    order_by="(TenantId, ServiceName, SpanName, toDateTime(Timestamp), Timestamp)",
    ttl_field="toDateTime(Timestamp)",
)

TRACE_ID_TS = TableSpec(
    columns=(
        f"TraceId String {Z}",
        f"Start SimpleAggregateFunction(min, DateTime) {Z}",
        f"End SimpleAggregateFunction(max, DateTime) {Z}",
    ),
    partition_by="toStartOfWeek(Start)",
    order_by="(TraceId)",
    ttl_field="Start",
)


def trace_id_ts_view(database: str, table: str, cluster: str = "") -> str:
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    return (
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{table}_trace_id_ts_mv`{on_cluster}\n"
        f"TO `{database}`.`{table}_trace_id_ts`\n"
        f"AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End\n"
        f"FROM `{database}`.`{table}{'_local' if cluster else ''}`\nWHERE TraceId != ''\nGROUP BY TraceId"
    )


WEB_VITALS_VIEW = "web_vitals_v1"
# web-vitals.js's thresholds: good up to the first, poor above the second
_VITAL_THRESHOLDS = {"lcp": (2500, 4000), "fcp": (1800, 3000), "fp": (1800, 3000), "inp": (200, 500), "fid": (100, 300),
                     "ttfb": (800, 1800), "cls": (0.1, 0.25)}


def web_vitals_view(database: str, table: str, cluster: str = "") -> str:
    """`web_vitals_v1`: the p75 of each web vital per tenant, service, release, environment and
    page (`url.path`, else the span name), from the spans' `sentry.measurement.<vital>` and
    `browser.web_vital.<vital>.value` attributes, with web-vitals.js's rating of that p75."""
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    names = "|".join(_VITAL_THRESHOLDS)
    rating = ", ".join(f"Vital = '{v}', if(P75 <= {good}, 'good', if(P75 <= {poor}, 'needs-improvement', 'poor'))"
                       for v, (good, poor) in _VITAL_THRESHOLDS.items())
    return (
        f"CREATE VIEW IF NOT EXISTS `{database}`.`{WEB_VITALS_VIEW}`{on_cluster} AS\n"
        "SELECT TenantId, ServiceName, Release, Environment, Page, Vital, quantile(0.75)(Value) AS P75, count() AS Samples,\n"
        f"    multiIf({rating}, '') AS Rating\n"
        "FROM (\n"
        "    SELECT TenantId, ServiceName, ResourceAttributes['service.version'] AS Release,\n"
        "        ResourceAttributes['deployment.environment.name'] AS Environment,\n"
        "        if(SpanAttributes['url.path'] != '', SpanAttributes['url.path'], SpanName) AS Page,\n"
        "        extract(key, '^(?:sentry\\\\.measurement\\\\.|browser\\\\.web_vital\\\\.)([a-z]+)') AS Vital, toFloat64OrNull(value) AS Value\n"
        f"    FROM `{database}`.`{table}` ARRAY JOIN mapKeys(SpanAttributes) AS key, mapValues(SpanAttributes) AS value\n"
        f"    WHERE match(key, '^sentry\\\\.measurement\\\\.({names})$|^browser\\\\.web_vital\\\\.({names})\\\\.value$')\n"
        ")\nWHERE Value IS NOT NULL\nGROUP BY TenantId, ServiceName, Release, Environment, Page, Vital"
    )


LOGS = TableSpec(
    columns=(
        TENANT_COLUMN,
        "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
        "TimestampTime DateTime DEFAULT toDateTime(Timestamp)",
        f"TraceId String {Z}",
        f"SpanId String {Z}",
        "TraceFlags UInt8",
        f"SeverityText LowCardinality(String) {Z}",
        "SeverityNumber UInt8",
        f"ServiceName LowCardinality(String) {Z}",
        f"Body String {Z}",
        f"ResourceSchemaUrl LowCardinality(String) {Z}",
        f"ResourceAttributes {MAP} {Z}",
        f"ScopeSchemaUrl LowCardinality(String) {Z}",
        f"ScopeName String {Z}",
        f"ScopeVersion LowCardinality(String) {Z}",
        f"ScopeAttributes {MAP} {Z}",
        f"LogAttributes {MAP} {Z}",
        f"EventName String {Z}",
        "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
        "INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
        "INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8",
    ),
    partition_by="toDate(TimestampTime)",
    primary_key="(TenantId, ServiceName, TimestampTime)",
    order_by="(TenantId, ServiceName, TimestampTime, Timestamp)",
    ttl_field="TimestampTime",
)

METRICS = {
    "gauge": _metric(f"Value Float64 {Z}"),
    "sum": _metric(f"Value Float64 {Z}", f"AggregationTemporality Int32 {Z}", f"IsMonotonic Boolean {Z}"),
    "histogram": _metric(
        "Count UInt64 CODEC(Delta, ZSTD(1))",
        f"Sum Float64 {Z}",
        f"BucketCounts Array(UInt64) {Z}",
        f"ExplicitBounds Array(Float64) {Z}",
        f"Min Float64 {Z}",
        f"Max Float64 {Z}",
        f"AggregationTemporality Int32 {Z}",
    ),
    "exponential_histogram": _metric(
        "Count UInt64 CODEC(Delta, ZSTD(1))",
        f"Sum Float64 {Z}",
        f"Scale Int32 {Z}",
        f"ZeroCount UInt64 {Z}",
        f"PositiveOffset Int32 {Z}",
        f"PositiveBucketCounts Array(UInt64) {Z}",
        f"NegativeOffset Int32 {Z}",
        f"NegativeBucketCounts Array(UInt64) {Z}",
        f"Min Float64 {Z}",
        f"Max Float64 {Z}",
        f"AggregationTemporality Int32 {Z}",
    ),
    "summary": _metric(
        "Count UInt64 CODEC(Delta, ZSTD(1))",
        f"Sum Float64 {Z}",
        f"ValueAtQuantiles Nested(\n        Quantile Float64,\n        Value Float64\n    ) {Z}",
    ),
}
