"""The build tables: `metrics_build_v1` (one row per pipeline run, stage, job and step),
`tests_v1` (one row per test case execution), `deployments_v1` and `changes_v1` (one row per
commit pushed), written from canonical BuildEvents by `cicd.rows`.

Each table is declared once, column by column, and both its ClickHouse DDL and its Arrow schema
come from that list. The tables are ReplacingMergeTree, keyed by what identifies the thing (a
run attempt's job, a test execution, a deployment, a commit on a branch), versioned by
`Progress` (the state's rank, then the provider's latest time; `rows._progress`): a job seen
queued, then started, then finished is three events and, after merges, one row holding its
latest state, whatever order the deliveries came in; a redelivered webhook replaces its own row
instead of counting twice. Read with `FINAL` for exact counts before merges happen.
Durations are nanoseconds (as otel_traces' Duration); times never known are NULL, not 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from summitcol.pdata.tenant import TENANT_DDL

Z = "CODEC(ZSTD(1))"
MAP = "Map(LowCardinality(String), String)"
_TIME = ("Nullable(DateTime64(9))", pa.timestamp("ns"))
_TEXT = ("String", pa.string())
_LOW = ("LowCardinality(String)", pa.string())
_DURATION = ("Nullable(Int64)", pa.int64())


@dataclass(frozen=True, slots=True)
class BuildTable:
    """One build table: columns as (name, ClickHouse type, Arrow type), its key and time column."""

    name: str
    columns: tuple[tuple[str, str, pa.DataType], ...]
    order_by: str
    time_column: str = "Timestamp"

    @property
    def ddl_columns(self) -> tuple[str, ...]:
        """The columns, after TenantId (the tenant of the row, which the clickhouse exporter fills)."""
        codec = {"Timestamp": "CODEC(Delta(8), ZSTD(1))"}
        return (TENANT_DDL, *(f"{name} {ch} {codec.get(name, Z)}" for name, ch, _ in self.columns))

    @property
    def key(self) -> str:
        """The ordering key: the tenant first, so that one tenant's runs never replace another's."""
        return f"(TenantId, {self.order_by.strip('()')})"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, arrow, nullable=ch.startswith("Nullable")) for name, ch, arrow in self.columns])

    @property
    def engine(self) -> str:
        return "ReplacingMergeTree(Progress)"


def _columns(*specs: tuple[str, tuple[str, pa.DataType]]) -> tuple[tuple[str, str, pa.DataType], ...]:
    return tuple((name, ch, arrow) for name, (ch, arrow) in specs)


_ENVELOPE = (
    ("Timestamp", ("DateTime64(9)", pa.timestamp("ns"))),  # when it began: queued, else started, else observed
    ("Provider", _LOW),  # github, gitlab, circleci, jenkins, otel
    ("ProviderName", _LOW),
    ("Repository", _TEXT),  # vcs.repository.url.full
    ("RepositoryName", _TEXT),
    ("Owner", _LOW),
    ("Branch", _TEXT),  # vcs.ref.head.name
    ("RefType", _LOW),
    ("Commit", _TEXT),  # vcs.ref.head.revision
)
_TRAILER = (
    ("TraceId", _TEXT),
    ("SpanId", _TEXT),
    ("EventId", _TEXT),
    ("ObservedAt", ("DateTime64(9)", pa.timestamp("ns"))),  # when Summit received it
    ("Progress", ("UInt64", pa.uint64())),  # the version: state rank, then the provider's latest time
    ("Attributes", (MAP, pa.map_(pa.string(), pa.string()))),
)

BUILDS = BuildTable(
    name="metrics_build_v1",
    columns=_columns(
        *_ENVELOPE,
        ("Level", _LOW),  # run, stage, job, step
        ("PipelineName", _LOW),
        ("PipelineId", _TEXT),
        ("RunId", _TEXT),
        ("RunNumber", ("Int64", pa.int64())),
        ("Attempt", ("UInt32", pa.uint32())),
        ("JobId", _TEXT),
        ("ParentJobId", _TEXT),
        ("JobName", _TEXT),
        ("Stage", _TEXT),
        ("TaskType", _LOW),
        ("StepId", _TEXT),
        ("StepNumber", ("UInt32", pa.uint32())),
        ("StepName", _TEXT),
        ("State", _LOW),  # pending, executing, finalizing, completed
        ("Result", _LOW),  # success, failure, error, timeout, cancellation, skip; "" until finished
        ("ResultDetail", _LOW),
        ("QueuedAt", _TIME),
        ("StartedAt", _TIME),
        ("FinishedAt", _TIME),
        ("QueueDuration", _DURATION),  # started - queued
        ("Duration", _DURATION),  # finished - started
        ("Runner", _TEXT),
        ("RunnerId", _TEXT),
        ("RunnerGroup", _TEXT),
        ("RunnerLabels", ("Array(String)", pa.list_(pa.string()))),
        ("Url", _TEXT),
        ("Trigger", _LOW),
        ("Actor", _TEXT),
        ("ChangeId", _TEXT),
        ("BaseBranch", _TEXT),
        ("ParentSpanId", _TEXT),
        *_TRAILER,
    ),
    order_by="(Provider, Repository, RunId, Attempt, Level, JobId, StepId)",
)

TESTS = BuildTable(
    name="tests_v1",
    columns=_columns(
        *_ENVELOPE,
        ("RunId", _TEXT),
        ("Attempt", ("UInt32", pa.uint32())),
        ("JobId", _TEXT),
        ("StepId", _TEXT),
        ("Suite", _TEXT),
        ("ClassName", _TEXT),
        ("Name", _TEXT),
        ("File", _TEXT),
        ("Result", _LOW),  # pass, fail, error, skip
        ("Duration", _DURATION),
        ("FailureMessage", _TEXT),
        ("FailureType", _TEXT),
        ("FailureDetail", _TEXT),
        *_TRAILER,
    ),
    order_by="(Repository, Suite, ClassName, Name, RunId, Attempt, EventId)",
)

DEPLOYMENTS = BuildTable(
    name="deployments_v1",
    columns=_columns(
        *_ENVELOPE,
        ("DeploymentId", _TEXT),
        ("Name", _TEXT),
        ("ServiceName", _LOW),
        ("Environment", _LOW),
        ("Version", _TEXT),
        ("Status", _LOW),  # pending, in_progress, succeeded, failed, cancelled
        ("StatusDetail", _LOW),
        ("StartedAt", _TIME),
        ("FinishedAt", _TIME),
        ("Duration", _DURATION),
        ("Url", _TEXT),
        ("RunId", _TEXT),
        ("JobId", _TEXT),
        *_TRAILER,
    ),
    order_by="(ServiceName, Environment, Provider, DeploymentId)",
)

CHANGES = BuildTable(
    name="changes_v1",
    columns=_columns(
        *_ENVELOPE,  # Timestamp = authored
        ("AuthorName", _TEXT),
        ("AuthorEmail", _TEXT),
        ("AuthoredAt", _TIME),
        ("CommittedAt", _TIME),
        ("PushedAt", _TIME),
        ("Title", _TEXT),
        ("Url", _TEXT),
        ("Pusher", _TEXT),
        *_TRAILER,
    ),
    order_by="(Repository, Commit, Branch)",
)

TABLES = {table.name: table for table in (BUILDS, TESTS, DEPLOYMENTS, CHANGES)}
