"""Config of the `chdb` extension (a Summit component; there is no otelcol equivalent)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from summitcol.exceptions import ConfigError
from summitcol.netaddr import validate_endpoint

DEFAULT_PATH = "./data/clickhouse"
DEFAULT_HTTP_ENDPOINT = "localhost:8123"
DEFAULT_QUERY_HANDLES = 4
# Per-query limits of the query handles (ClickHouse setting names); ingestion has its own handle.
DEFAULT_MAX_EXECUTION_TIME = timedelta(seconds=60)
DEFAULT_MAX_MEMORY_USAGE = 1 << 30  # 1 GiB
DEFAULT_MAX_RESULT_ROWS = 1_000_000
DEFAULT_MAX_RESULT_BYTES = 512 << 20  # 512 MiB
DEFAULT_MAX_ROWS_TO_READ = 0  # 0 = no limit: a scan is bounded by max_execution_time
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, kw_only=True, slots=True)
class HTTPConfig:
    endpoint: str = DEFAULT_HTTP_ENDPOINT
    max_request_body_size: int = 1024 * 1024 * 1024

    def validate(self) -> None:
        validate_endpoint(self.endpoint, "http::endpoint")


@dataclass(frozen=True, kw_only=True, slots=True)
class UserConfig:
    """A query user. `role: reader` with a `tenant` reads that tenant's rows only (SELECT, every
    table with a TenantId column, row-filtered by the engine); `admin` (the default without a
    tenant) sees all tenants and may run what the interface allows."""

    name: str = ""
    password: str = ""
    tenant: str = ""
    role: Literal["", "admin", "reader"] = ""

    def validate(self) -> None:
        if not self.name:
            raise ConfigError("users: every user needs a name")
        if self.role == "reader" and not self.tenant:
            raise ConfigError(f"users: {self.name}: a reader reads one tenant's rows; set its tenant")
        if self.role == "admin" and self.tenant:
            raise ConfigError(f"users: {self.name}: an admin sees every tenant; remove its tenant or make it a reader")

    @property
    def scoped(self) -> bool:
        """Bound to one tenant (role reader)."""
        return bool(self.tenant)


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryLimitsConfig:
    """Limits every query of the HTTP interface and `summitcol query` runs under; a client cannot
    lift them (readonly mode refuses setting changes; for admins the statement check refuses them)."""

    max_execution_time: timedelta = DEFAULT_MAX_EXECUTION_TIME
    max_memory_usage: int = DEFAULT_MAX_MEMORY_USAGE
    max_result_rows: int = DEFAULT_MAX_RESULT_ROWS
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_rows_to_read: int = DEFAULT_MAX_ROWS_TO_READ
    # Threads one query may use; 0: half the cores (at least one), so that queries leave the other
    # half to ingestion (a runaway query on every core raised OTLP p99 by 1.4x on 2 cores).
    max_threads: int = 0

    def validate(self) -> None:
        if self.max_execution_time <= timedelta(0):
            raise ConfigError("query_limits::max_execution_time must be greater than zero, e.g. 60s")
        for key in ("max_memory_usage", "max_result_rows", "max_result_bytes"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"query_limits::{key} must be greater than zero")
        if self.max_threads < 0:
            raise ConfigError("query_limits::max_threads must be >= 0 (0 = half the cores)")
        if self.max_rows_to_read < 0:
            raise ConfigError("query_limits::max_rows_to_read must be >= 0 (0 = no limit)")

    def settings(self) -> dict[str, int | float | str]:
        """The ClickHouse settings of a query handle; overflow throws rather than truncating."""
        return {
            "max_execution_time": self.max_execution_time.total_seconds(),
            "timeout_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_usage,
            "max_result_rows": self.max_result_rows,
            "max_result_bytes": self.max_result_bytes,
            "result_overflow_mode": "throw",
            "max_rows_to_read": self.max_rows_to_read,
            "read_overflow_mode": "throw",
            "max_threads": self.max_threads or max(1, len(os.sched_getaffinity(0)) // 2),
            # the lowest CPU priority for a query's threads (Linux nice 19), so ingestion wins a busy core
            "os_threads_nice_value_query": 19,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: str = DEFAULT_PATH
    http: HTTPConfig | None = None
    read_only: bool = False
    users: list[UserConfig] = field(default_factory=list)
    query_handles: int = DEFAULT_QUERY_HANDLES
    query_limits: QueryLimitsConfig = field(default_factory=QueryLimitsConfig)
    # Table functions query users may call besides the harmless built-in ones (numbers, values …).
    allowed_table_functions: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path must be a directory for the embedded ClickHouse data, e.g. ./data/clickhouse")
        if self.query_handles < 1:
            raise ConfigError("query_handles must be at least 1")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ConfigError("users: each name may appear once")
        for name in self.allowed_table_functions:
            if not _IDENTIFIER.fullmatch(name):
                raise ConfigError(f"allowed_table_functions: {name!r} is not a table function name")
        if self.read_only and self.allowed_table_functions:
            raise ConfigError(
                "allowed_table_functions has no effect with read_only: true (ClickHouse's readonly mode refuses "
                "table functions that read a source); remove it, or set read_only: false"
            )

    def query_settings(self) -> dict[str, int | float | str]:
        """Every query handle's settings: the limits, no introspection, VALUES data as literals only
        (expressions there could call file()), and readonly mode for a read-only interface."""
        settings = self.query_limits.settings()
        settings |= {
            "allow_introspection_functions": 0,
            "input_format_values_interpret_expressions": 0,
            "input_format_values_deduce_templates_of_expressions": 0,
        }
        if self.read_only:
            # readonly = 2 when tenants' readers query here: their row filter is a per-query
            # setting, which readonly = 1 would refuse; the statement check refuses every other
            # SETTINGS of a reader, and readonly = 2 still refuses writes and DDL
            settings["readonly"] = 2 if any(u.scoped for u in self.users) else 1
        return settings
