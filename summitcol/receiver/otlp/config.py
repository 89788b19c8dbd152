"""Config of the `otlp` receiver; keys and defaults follow otelcol's receiver/otlpreceiver.

Two defaults differ on purpose, following the OTLP specification's recommendation rather than
grpc-go's and confighttp's: `max_recv_msg_size_mib` is 64 (not 4) and `max_request_body_size`
is 64 MiB (not 20). `max_concurrent_streams` defaults to 250 (Go's net/http2 server default;
grpc-go's is unlimited): with a limit, grpc core refuses the streams of an HTTP/2 rapid-reset
flood past it on that connection (RST_STREAM REFUSED_STREAM) instead of handing each one to the
Python server, where they cost every other client event-loop time. `max_attributes_per_record` and
`max_records_per_request` are Summit additions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from summitcol.exceptions import ConfigError
from summitcol.netaddr import validate_endpoint
from summitcol.pdata.decoded import DEFAULT_MAX_ATTRIBUTES, DEFAULT_MAX_RECORDS
from summitcol.receiver.auth import AuthConfig
from summitcol.tlsconfig import TLSServerConfig

DEFAULT_GRPC_ENDPOINT = "localhost:4317"
DEFAULT_HTTP_ENDPOINT = "localhost:4318"
DEFAULT_MAX_RECV_MSG_SIZE_MIB = 64
DEFAULT_MAX_REQUEST_BODY_SIZE = 64 * 1024 * 1024
DEFAULT_MAX_CONCURRENT_STREAMS = 250


@dataclass(frozen=True, kw_only=True, slots=True)
class KeepaliveServerParameters:
    max_connection_idle: timedelta | None = None
    max_connection_age: timedelta | None = None
    max_connection_age_grace: timedelta | None = None
    time: timedelta | None = None
    timeout: timedelta | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class KeepaliveEnforcementPolicy:
    min_time: timedelta | None = None
    permit_without_stream: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class KeepaliveConfig:
    server_parameters: KeepaliveServerParameters | None = None
    enforcement_policy: KeepaliveEnforcementPolicy | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GRPCServerConfig:
    endpoint: str = DEFAULT_GRPC_ENDPOINT
    transport: str = "tcp"
    max_recv_msg_size_mib: int = DEFAULT_MAX_RECV_MSG_SIZE_MIB
    max_concurrent_streams: int = DEFAULT_MAX_CONCURRENT_STREAMS
    read_buffer_size: int = 512 * 1024
    write_buffer_size: int = 0
    include_metadata: bool = False
    keepalive: KeepaliveConfig | None = None
    tls: TLSServerConfig | None = None
    auth: AuthConfig | None = None

    def validate(self) -> None:
        validate_endpoint(self.endpoint, "protocols::grpc::endpoint")
        if self.auth is not None:
            self.auth.validate()
        if self.transport != "tcp":
            raise ConfigError(f"transport '{self.transport}' is not supported; use tcp")
        if self.max_recv_msg_size_mib <= 0:
            raise ConfigError("max_recv_msg_size_mib must be greater than 0")
        if self.max_concurrent_streams < 0:
            raise ConfigError("max_concurrent_streams must be 0 (no limit) or more")


@dataclass(frozen=True, kw_only=True, slots=True)
class HTTPServerConfig:
    endpoint: str = DEFAULT_HTTP_ENDPOINT
    max_request_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE
    traces_url_path: str = "/v1/traces"
    metrics_url_path: str = "/v1/metrics"
    logs_url_path: str = "/v1/logs"
    include_metadata: bool = False
    response_headers: dict[str, str] = field(default_factory=dict)
    keep_alives_enabled: bool = True
    idle_timeout: timedelta = timedelta(minutes=1)
    read_header_timeout: timedelta = timedelta(minutes=1)
    read_timeout: timedelta = timedelta(0)
    write_timeout: timedelta = timedelta(seconds=30)
    tls: TLSServerConfig | None = None
    auth: AuthConfig | None = None

    def validate(self) -> None:
        validate_endpoint(self.endpoint, "protocols::http::endpoint")
        if self.auth is not None:
            self.auth.validate()
        if self.max_request_body_size <= 0:
            raise ConfigError("max_request_body_size must be greater than 0")
        paths = [self.traces_url_path, self.metrics_url_path, self.logs_url_path]
        for path in paths:
            if not path.startswith("/"):
                raise ConfigError(f"url path '{path}' must start with '/'")
        if len(set(paths)) != len(paths):
            raise ConfigError("traces_url_path, metrics_url_path and logs_url_path must differ")


@dataclass(frozen=True, kw_only=True, slots=True)
class ProtocolsConfig:
    grpc: GRPCServerConfig | None = None
    http: HTTPServerConfig | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    protocols: ProtocolsConfig = field(default_factory=ProtocolsConfig)
    max_attributes_per_record: int = DEFAULT_MAX_ATTRIBUTES
    max_records_per_request: int = DEFAULT_MAX_RECORDS

    def validate(self) -> None:
        if self.protocols.grpc is None and self.protocols.http is None:
            raise ConfigError("must specify at least one protocol when using the OTLP receiver")
        if self.max_attributes_per_record <= 0:
            raise ConfigError("max_attributes_per_record must be greater than 0")
        if self.max_records_per_request <= 0:
            raise ConfigError("max_records_per_request must be greater than 0")
