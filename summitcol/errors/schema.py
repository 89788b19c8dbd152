"""The error-tracking tables: one row per exception occurrence, the fingerprint → group decisions,
group status changes, and `error_groups`, the issue list, computed from them.

`error_groups` is a view, not a table kept up to date: every worker and every restart inserts
only facts (an occurrence, a decision, a status change), never read-modify-write counters, so
there is nothing to lose or double-count, and a merge re-attributes past occurrences at once.
An occurrence belongs to the group its fingerprint maps to now: the latest manual decision
(merge/unmerge) if any, else the earliest automatic one (two workers deciding the same new
fingerprint at once agree, since a new group's id is derived from the fingerprint).
"""

from __future__ import annotations

import pyarrow as pa

from summitcol.pdata.tenant import TENANT_DDL
from summitcol.pdata.values import ATTRIBUTES

Z = "CODEC(ZSTD(1))"
MAP = "Map(LowCardinality(String), String)"
EVENTS_TABLE, DECISIONS_TABLE, STATUS_TABLE, GROUPS_VIEW = (
    "events_error_v1", "error_fingerprints", "error_group_status", "error_groups",
)

EVENT_COLUMNS = (
    TENANT_DDL,  # from ResourceAttributes['tenant.id'], by the clickhouse exporter
    "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
    f"ServiceName LowCardinality(String) {Z}",
    f"ServiceVersion LowCardinality(String) {Z}",
    f"DeploymentEnvironment LowCardinality(String) {Z}",
    f"TraceId String {Z}",
    f"SpanId String {Z}",
    f"Source LowCardinality(String) {Z}",
    f"ExceptionType LowCardinality(String) {Z}",
    f"ExceptionMessage String {Z}",
    f"MessageTemplate String {Z}",
    f"Stacktrace String {Z}",
    f"Frames Nested (\n        Module String,\n        Function String,\n        File String,\n"
    f"        Line UInt32,\n        InApp UInt8\n    ) {Z}",
    f"Language LowCardinality(String) {Z}",
    f"Fingerprint String {Z}",
    f"GroupId String {Z}",
    f"ResourceAttributes {MAP} {Z}",
    "INDEX idx_fingerprint Fingerprint TYPE bloom_filter(0.001) GRANULARITY 1",
    "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
)
EVENT_ORDER_BY = "(TenantId, ServiceName, Fingerprint, toUnixTimestamp64Nano(Timestamp))"

EVENT_SCHEMA = pa.schema([
    pa.field("Timestamp", pa.timestamp("ns"), nullable=False),
    pa.field("ServiceName", pa.string()),
    pa.field("ServiceVersion", pa.string()),
    pa.field("DeploymentEnvironment", pa.string()),
    pa.field("TraceId", pa.string()),
    pa.field("SpanId", pa.string()),
    pa.field("Source", pa.string()),
    pa.field("ExceptionType", pa.string()),
    pa.field("ExceptionMessage", pa.string()),
    pa.field("MessageTemplate", pa.string()),
    pa.field("Stacktrace", pa.string()),
    pa.field("Frames.Module", pa.list_(pa.string())),
    pa.field("Frames.Function", pa.list_(pa.string())),
    pa.field("Frames.File", pa.list_(pa.string())),
    pa.field("Frames.Line", pa.list_(pa.uint32())),
    pa.field("Frames.InApp", pa.list_(pa.uint8())),
    pa.field("Language", pa.string()),
    pa.field("Fingerprint", pa.string()),
    pa.field("GroupId", pa.string()),
    pa.field("ResourceAttributes", ATTRIBUTES),  # typed, as in the spans; the clickhouse exporter projects it
])


def decisions_ddl(db: str) -> str:
    """One row per decision about a fingerprint; the founding event's description rides along,
    so the grouping model's candidates load from here alone."""
    return (
        f"CREATE TABLE IF NOT EXISTS `{db}`.`{DECISIONS_TABLE}` (\n"
        "    Fingerprint String, GroupId String, Source LowCardinality(String), Manual UInt8,\n"
        "    DecidedAt DateTime64(6), Score Float32,\n"
        "    Language LowCardinality(String), ServiceName LowCardinality(String),\n"
        "    ExceptionType String, MessageTemplate String, Title String, Culprit String,\n"
        "    Signature Array(String),\n"
        f"    {TENANT_DDL}\n"
        ") ENGINE = MergeTree ORDER BY (Fingerprint, DecidedAt)"
    )


def status_ddl(db: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS `{db}`.`{STATUS_TABLE}` (\n"
        "    GroupId String, Status LowCardinality(String), Regressed UInt8, Release String,\n"
        "    ChangedAt DateTime64(6), Actor String\n"
        ") ENGINE = MergeTree ORDER BY (GroupId, ChangedAt)"
    )


def current_groups_sql(db: str) -> str:
    """Fingerprint → its group now (see the module docstring)."""
    return (
        "SELECT Fingerprint, "
        "if(countIf(Manual = 1) > 0, argMaxIf(GroupId, DecidedAt, Manual = 1), argMinIf(GroupId, DecidedAt, Manual = 0)) AS GroupId "
        f"FROM `{db}`.`{DECISIONS_TABLE}` GROUP BY Fingerprint"
    )


def groups_view_ddl(db: str) -> str:
    return (
        f"CREATE VIEW IF NOT EXISTS `{db}`.`{GROUPS_VIEW}` AS\n"
        "WITH current AS (" + current_groups_sql(db) + "),\n"
        "founders AS (SELECT GroupId, argMin(Title, DecidedAt) AS Title, argMin(Culprit, DecidedAt) AS Culprit, "
        f"argMin(ExceptionType, DecidedAt) AS ExceptionType FROM `{db}`.`{DECISIONS_TABLE}` "
        "WHERE substring(Fingerprint, 1, 16) = GroupId GROUP BY GroupId),\n"
        "status AS (SELECT GroupId, argMax(Status, ChangedAt) AS Status, argMax(Regressed, ChangedAt) AS Regressed "
        f"FROM `{db}`.`{STATUS_TABLE}` GROUP BY GroupId)\n"
        "SELECT c.GroupId AS GroupId, any(f.Title) AS Title, any(f.Culprit) AS Culprit, "
        "any(f.ExceptionType) AS ExceptionType, min(e.Timestamp) AS FirstSeen, max(e.Timestamp) AS LastSeen, "
        "count() AS Count, argMin(e.ServiceVersion, e.Timestamp) AS FirstRelease, "
        "argMax(e.ServiceVersion, e.Timestamp) AS LastRelease, any(e.ServiceName) AS ServiceName, "
        "uniqExact(e.Fingerprint) AS Fingerprints, "
        "if(any(s.Status) = '', 'unresolved', any(s.Status)) AS Status, toUInt8(any(s.Regressed)) AS Regressed\n"
        f"FROM `{db}`.`{EVENTS_TABLE}` AS e INNER JOIN current AS c ON e.Fingerprint = c.Fingerprint\n"
        "LEFT JOIN founders AS f ON f.GroupId = c.GroupId LEFT JOIN status AS s ON s.GroupId = c.GroupId\n"
        "GROUP BY c.GroupId"
    )
