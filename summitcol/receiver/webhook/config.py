"""The `webhook` block of the CI receivers: contrib's githubreceiver / gitlabreceiver `WebHook`
(confighttp.ServerConfig squashed in, plus path, health_path, required_headers and secret).

Defaults are contrib's: endpoint localhost:8080, path /events, health_path /health, read and
write timeouts 500 ms (at most 10 s: a provider gives up on a delivery after 10 s anyway).
`max_request_body_size` is the OTLP receiver's default (64 MiB; GitHub caps payloads at 25 MB).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar

from summitcol.exceptions import ConfigError
from summitcol.netaddr import validate_endpoint
from summitcol.receiver.auth import AuthConfig
from summitcol.receiver.otlp.config import DEFAULT_MAX_REQUEST_BODY_SIZE
from summitcol.tlsconfig import TLSServerConfig

DEFAULT_ENDPOINT = "localhost:8080"
DEFAULT_MAX_DELIVERIES_PER_SECOND = 10.0  # Summit: what a webhook receiver takes on per second; past it deliveries wait, then 503
DEFAULT_PATH = "/events"
DEFAULT_HEALTH_PATH = "/health"
DEFAULT_TIMEOUT = timedelta(milliseconds=500)
MAX_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookConfig:
    """The HTTP server and delivery checks every CI receiver has."""

    # Delivery headers the provider always sends, which required_headers may not name (contrib).
    FIXED_HEADERS: ClassVar[tuple[str, ...]] = ()

    endpoint: str = DEFAULT_ENDPOINT
    path: str = DEFAULT_PATH
    health_path: str = DEFAULT_HEALTH_PATH
    secret: str = ""
    required_headers: dict[str, str] = field(default_factory=dict)
    max_request_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE
    max_deliveries_per_second: float = DEFAULT_MAX_DELIVERIES_PER_SECOND  # Summit: 0 = no limit
    include_metadata: bool = False
    response_headers: dict[str, str] = field(default_factory=dict)
    read_timeout: timedelta = DEFAULT_TIMEOUT
    read_header_timeout: timedelta = timedelta(0)
    write_timeout: timedelta = DEFAULT_TIMEOUT
    idle_timeout: timedelta = timedelta(minutes=1)
    tls: TLSServerConfig | None = None
    auth: AuthConfig | None = None  # confighttp's, in addition to the provider's signature

    @property
    def junit_path(self) -> str:
        """Where JUnit XML is uploaded: `junit` beside `path` (/events → /junit, /ci/events → /ci/junit)."""
        return self.path.rsplit("/", 1)[0] + "/junit"

    def validate(self) -> None:
        validate_endpoint(self.endpoint, "webhook::endpoint")
        if self.auth is not None:
            self.auth.validate()
        for key, path in (("path", self.path), ("health_path", self.health_path)):
            if not path.startswith("/"):
                raise ConfigError(f"webhook::{key} '{path}' must start with '/'")
        if len({self.path, self.health_path, self.junit_path}) != 3:
            raise ConfigError(
                f"webhook::path ('{self.path}'), its JUnit upload path ('{self.junit_path}') and health_path "
                f"('{self.health_path}') must differ"
            )
        if self.max_request_body_size <= 0:
            raise ConfigError("webhook::max_request_body_size must be greater than 0")
        if self.max_deliveries_per_second < 0:
            raise ConfigError("webhook::max_deliveries_per_second must be 0 (no limit) or more")
        if self.read_timeout > MAX_TIMEOUT:
            raise ConfigError("the duration specified for read_timeout exceeds the maximum allowed value of 10s")
        if self.write_timeout > MAX_TIMEOUT:
            raise ConfigError("the duration specified for write_timeout exceeds the maximum allowed value of 10s")
        fixed = {name.lower() for name in self.FIXED_HEADERS}
        for key, value in self.required_headers.items():
            if not key or not value:
                raise ConfigError("both key and value are required to assign a required_header")
            if key.lower() in fixed:
                raise ConfigError(
                    f"webhook::required_headers: '{key}' cannot be configured; the provider sets "
                    f"[{', '.join(self.FIXED_HEADERS)}] itself"
                )
