"""Config of the `clickhouse` exporter; keys follow contrib's exporter/clickhouseexporter.

Summit additions: `storage` (write into the embedded engine of a `chdb` extension instead of a
server), and per-signal TTLs (`traces_ttl`, `logs_ttl`, `metrics_ttl`) overriding `ttl`.
The default `database` is `otel` (contrib's is `default`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from summitcol.component import ComponentID
from summitcol.exceptions import ConfigError
from summitcol.exporters.helper.config import HelperConfig

DEFAULT_DATABASE = "otel"
DEFAULT_TIMEOUT = timedelta(seconds=5)
METRIC_TABLE_DEFAULTS = {
    "gauge": "otel_metrics_gauge",
    "sum": "otel_metrics_sum",
    "summary": "otel_metrics_summary",
    "histogram": "otel_metrics_histogram",
    "exponential_histogram": "otel_metrics_exponential_histogram",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class TableEngine:
    name: str = "MergeTree"
    params: str = ""

    def render(self) -> str:
        return f"{self.name}({self.params})"


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricTable:
    name: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricsTables:
    gauge: MetricTable = field(default_factory=lambda: MetricTable(name=METRIC_TABLE_DEFAULTS["gauge"]))
    sum: MetricTable = field(default_factory=lambda: MetricTable(name=METRIC_TABLE_DEFAULTS["sum"]))
    summary: MetricTable = field(default_factory=lambda: MetricTable(name=METRIC_TABLE_DEFAULTS["summary"]))
    histogram: MetricTable = field(default_factory=lambda: MetricTable(name=METRIC_TABLE_DEFAULTS["histogram"]))
    exponential_histogram: MetricTable = field(
        default_factory=lambda: MetricTable(name=METRIC_TABLE_DEFAULTS["exponential_histogram"])
    )

    def name(self, metric_type: str) -> str:
        return getattr(self, metric_type).name or METRIC_TABLE_DEFAULTS[metric_type]


@dataclass(frozen=True, kw_only=True, slots=True)
class Config(HelperConfig):
    endpoint: str = ""
    storage: str = ""
    username: str = "default"
    password: str = ""
    database: str = DEFAULT_DATABASE
    connection_params: dict[str, str] = field(default_factory=dict)
    compress: Literal["lz4", "zstd", "none", ""] = "lz4"
    async_insert: bool = True
    timeout: timedelta = DEFAULT_TIMEOUT
    create_schema: bool = True
    cluster_name: str = ""
    table_engine: TableEngine = field(default_factory=TableEngine)
    ttl: timedelta = timedelta(0)
    traces_ttl: timedelta | None = None
    logs_ttl: timedelta | None = None
    metrics_ttl: timedelta | None = None
    # Summit: retention of the build tables (metrics_build_v1, tests_v1, deployments_v1,
    # changes_v1); DORA looks back three months, so they usually outlive the traces.
    builds_ttl: timedelta | None = None
    # Summit: the `tenants` extension whose tenants' own `retention` overrides the TTL for their rows
    tenants: str = ""
    traces_table_name: str = "otel_traces"
    logs_table_name: str = "otel_logs"
    metrics_tables: MetricsTables = field(default_factory=MetricsTables)

    def validate(self) -> None:
        if bool(self.endpoint) == bool(self.storage):
            raise ConfigError(
                "set exactly one of 'storage' (a chdb extension id, for the embedded engine) "
                "or 'endpoint' (http(s)://host:port of a ClickHouse server)"
            )
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"endpoint '{self.endpoint}' must be http(s)://host:port (the ClickHouse HTTP interface)")
        for name, value in (("ttl", self.ttl), ("traces_ttl", self.traces_ttl), ("logs_ttl", self.logs_ttl), ("metrics_ttl", self.metrics_ttl),
                            ("builds_ttl", self.builds_ttl)):
            if value is not None and value < timedelta(0):
                raise ConfigError(f"{name} must not be negative (0 keeps data forever)")
            if value is not None and value.total_seconds() % 1:
                raise ConfigError(f"{name} must be whole seconds")
        for table in (self.database, self.traces_table_name, self.logs_table_name):
            if not table or "`" in table:
                raise ConfigError(f"'{table}' is not a usable database or table name")

    def storage_id(self) -> ComponentID:
        return ComponentID.parse(self.storage)

    def ttl_for(self, signal: str) -> timedelta:
        specific = {"traces": self.traces_ttl, "logs": self.logs_ttl, "metrics": self.metrics_ttl,
                    "builds": self.builds_ttl}[signal]
        return specific if specific is not None else self.ttl
