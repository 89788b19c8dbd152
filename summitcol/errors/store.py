"""Group state in ClickHouse (embedded or a server), shared by every worker and every restart.

Only facts are inserted (schema.py): a decision about a fingerprint, a status change. Readers
fold them: a fingerprint's group is its latest manual decision, else its earliest automatic
one; a group's status is its latest change. So workers never coordinate: a new group's id is
the first 16 hex digits of the fingerprint that founded it, and two workers founding it at once
write the same row twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pyarrow as pa

from summitcol.errors import schema
from summitcol.pdata.tenant import DEFAULT_TENANT, TENANT_DDL

STATUSES = ("unresolved", "resolved", "ignored")


class SqlClient(Protocol):
    """What the store needs of a ClickHouse connection (the chdb extension's and the clickhouse
    exporter's writers have it)."""

    def command(self, sql: str) -> None: ...

    def query_arrow(self, sql: str) -> pa.Table: ...

    def insert(self, database: str, table: str, data: pa.Table) -> None: ...


@dataclass(frozen=True, slots=True)
class Decision:
    fingerprint: str
    group_id: str
    source: str  # "new", "model", "rule", "merge", "unmerge"
    manual: bool
    score: float = 0.0
    language: str = ""
    service: str = ""
    exception_type: str = ""
    template: str = ""
    title: str = ""
    culprit: str = ""
    signature: tuple[str, ...] = ()
    decided_at: float = 0.0  # unix seconds; 0 = now
    tenant: str = ""  # the founding event's tenant ("" for a merge or unmerge)


@dataclass(frozen=True, slots=True)
class GroupStatus:
    status: str
    regressed: bool
    release: str
    changed_at: float


def group_id_for(fingerprint: str) -> str:
    return fingerprint[:16]


_DECISION_SCHEMA = pa.schema([
    ("Fingerprint", pa.string()), ("GroupId", pa.string()), ("Source", pa.string()), ("Manual", pa.uint8()),
    ("DecidedAt", pa.timestamp("us")), ("Score", pa.float32()), ("Language", pa.string()),
    ("ServiceName", pa.string()), ("ExceptionType", pa.string()), ("MessageTemplate", pa.string()),
    ("Title", pa.string()), ("Culprit", pa.string()), ("Signature", pa.list_(pa.string())), ("TenantId", pa.string()),
])
_STATUS_SCHEMA = pa.schema([
    ("GroupId", pa.string()), ("Status", pa.string()), ("Regressed", pa.uint8()), ("Release", pa.string()),
    ("ChangedAt", pa.timestamp("us")), ("Actor", pa.string()),
])


def events_ddl(db: str) -> str:
    """events_error_v1 as the clickhouse exporter creates it, without its TTL (which the exporter
    sets and keeps in line with its config); here so the view can exist before the first insert."""
    columns = ",\n    ".join(schema.EVENT_COLUMNS)
    return (
        f"CREATE TABLE IF NOT EXISTS `{db}`.`{schema.EVENTS_TABLE}` (\n    {columns}\n) ENGINE = MergeTree\n"
        f"PARTITION BY toDate(Timestamp)\nORDER BY {schema.EVENT_ORDER_BY}\n"
        "SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"
    )


class GroupStore:
    def __init__(self, client: SqlClient, database: str = "otel") -> None:
        self.client = client
        self.db = database

    def create_schema(self) -> None:
        self.client.command(f"CREATE DATABASE IF NOT EXISTS `{self.db}`")
        self.client.command(events_ddl(self.db))
        self.client.command(schema.decisions_ddl(self.db))
        # a decisions table made before tenants existed: its decisions belong to `default`
        self.client.command(f"ALTER TABLE `{self.db}`.`{schema.DECISIONS_TABLE}` ADD COLUMN IF NOT EXISTS {TENANT_DDL}")
        self.client.command(schema.status_ddl(self.db))
        self.client.command(schema.groups_view_ddl(self.db))

    # -- decisions --------------------------------------------------------------------------
    def decisions(self, since: float = 0.0) -> pa.Table:
        """Decision rows decided after `since` (unix seconds), oldest first."""
        where = f"WHERE DecidedAt > fromUnixTimestamp64Micro({int(since * 1e6)})" if since else ""
        return self.client.query_arrow(
            f"SELECT Fingerprint, GroupId, Source, Manual, toUnixTimestamp64Micro(DecidedAt) AS DecidedAtUs, Score, "
            f"Language, ServiceName, ExceptionType, MessageTemplate, Title, Culprit, Signature, TenantId "
            f"FROM `{self.db}`.`{schema.DECISIONS_TABLE}` {where} ORDER BY DecidedAt, Fingerprint"
        )

    def record(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        now = time.time()
        rows = {
            "Fingerprint": [d.fingerprint for d in decisions],
            "GroupId": [d.group_id for d in decisions],
            "Source": [d.source for d in decisions],
            "Manual": [int(d.manual) for d in decisions],
            "DecidedAt": [datetime.fromtimestamp(d.decided_at or now, UTC).replace(tzinfo=None) for d in decisions],
            "Score": [d.score for d in decisions],
            "Language": [d.language for d in decisions],
            "ServiceName": [d.service for d in decisions],
            "ExceptionType": [d.exception_type for d in decisions],
            "MessageTemplate": [d.template for d in decisions],
            "Title": [d.title for d in decisions],
            "Culprit": [d.culprit for d in decisions],
            "Signature": [list(d.signature) for d in decisions],
            "TenantId": [d.tenant or DEFAULT_TENANT for d in decisions],
        }
        self.client.insert(self.db, schema.DECISIONS_TABLE, pa.table(rows, schema=_DECISION_SCHEMA))

    def current(self) -> dict[str, str]:
        """Fingerprint → group now."""
        table = self.client.query_arrow(schema.current_groups_sql(self.db))
        if not table.num_rows:
            return {}
        return dict(zip(table.column("Fingerprint").to_pylist(), table.column("GroupId").to_pylist(), strict=True))

    def members(self, group_id: str) -> list[str]:
        return sorted(fp for fp, group in self.current().items() if group == group_id)

    def merge(self, target: str, source: str, actor: str = "cli") -> int:
        """Every fingerprint of `source` joins `target`; returns how many moved."""
        moved = [Decision(fp, target, "merge", True) for fp in self.members(source)]
        self.record(moved)
        return len(moved)

    def unmerge(self, group_id: str, fingerprints: list[str] | None = None) -> int:
        """The fingerprints (default: all but the founder's) leave `group_id` for groups of their own."""
        chosen = fingerprints or [fp for fp in self.members(group_id) if group_id_for(fp) != group_id]
        moved = [Decision(fp, group_id_for(fp), "unmerge", True) for fp in chosen if group_id_for(fp) != group_id]
        self.record(moved)
        return len(moved)

    # -- status ------------------------------------------------------------------------------
    def statuses(self) -> dict[str, GroupStatus]:
        table = self.client.query_arrow(
            f"SELECT GroupId, argMax(Status, ChangedAt) AS Status, argMax(Regressed, ChangedAt) AS Regressed, "
            f"argMax(Release, ChangedAt) AS Release, toUnixTimestamp64Micro(max(ChangedAt)) AS ChangedAtUs "
            f"FROM `{self.db}`.`{schema.STATUS_TABLE}` GROUP BY GroupId"
        )
        return {
            row["GroupId"]: GroupStatus(row["Status"], bool(row["Regressed"]), row["Release"], row["ChangedAtUs"] / 1e6)
            for row in table.to_pylist()
        }

    def set_status(self, group_id: str, status: str, *, release: str = "", regressed: bool = False, actor: str = "cli") -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
        row = {
            "GroupId": [group_id], "Status": [status], "Regressed": [int(regressed)], "Release": [release],
            "ChangedAt": [datetime.now(UTC).replace(tzinfo=None)], "Actor": [actor],
        }
        self.client.insert(self.db, schema.STATUS_TABLE, pa.table(row, schema=_STATUS_SCHEMA))
