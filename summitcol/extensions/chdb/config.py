"""Config of the `chdb` extension (a Summit component; there is no otelcol equivalent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from summitcol.errors import ConfigError
from summitcol.netaddr import validate_endpoint

DEFAULT_PATH = "./data/clickhouse"
DEFAULT_HTTP_ENDPOINT = "localhost:8123"
DEFAULT_QUERY_HANDLES = 4


@dataclass(frozen=True, kw_only=True, slots=True)
class HTTPConfig:
    endpoint: str = DEFAULT_HTTP_ENDPOINT
    max_request_body_size: int = 1024 * 1024 * 1024

    def validate(self) -> None:
        validate_endpoint(self.endpoint, "http::endpoint")


@dataclass(frozen=True, kw_only=True, slots=True)
class UserConfig:
    name: str = ""
    password: str = ""

    def validate(self) -> None:
        if not self.name:
            raise ConfigError("users: every user needs a name")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: str = DEFAULT_PATH
    http: HTTPConfig | None = None
    read_only: bool = False
    users: list[UserConfig] = field(default_factory=list)
    query_handles: int = DEFAULT_QUERY_HANDLES

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path must be a directory for the embedded ClickHouse data, e.g. ./data/clickhouse")
        if self.query_handles < 1:
            raise ConfigError("query_handles must be at least 1")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ConfigError("users: each name may appear once")
