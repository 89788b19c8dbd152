"""The `otlp_http` exporter (alias `otlphttp`): OTLP/HTTP, protobuf or JSON, to the next collector."""

from __future__ import annotations

import asyncio
import gzip
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import aiohttp

from summitcol.component import CreateSettings, Exporter, Factory, Host, Kind, Signal, Stability
from summitcol.exceptions import ConfigError, RetryableError
from summitcol.exporters.helper.config import HelperConfig
from summitcol.exporters.otlp_common import check_partial_success, http_error
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import CODECS, encode_request
from summitcol.pdata.signal import SignalData
from summitcol.tlsconfig import TLSClientConfig

log = logging.getLogger("summitcol.exporter.otlp_http")

DEFAULT_TIMEOUT = timedelta(seconds=30)  # otelcol exporter/otlphttpexporter
CONTENT_TYPES = {"proto": "application/x-protobuf", "json": "application/json"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Config(HelperConfig):
    endpoint: str = ""
    traces_endpoint: str = ""
    metrics_endpoint: str = ""
    logs_endpoint: str = ""
    tls: TLSClientConfig = field(default_factory=TLSClientConfig)
    headers: dict[str, str] = field(default_factory=dict)
    compression: Literal["gzip", "none", ""] = "gzip"
    encoding: Literal["proto", "json"] = "proto"
    timeout: timedelta = DEFAULT_TIMEOUT

    def validate(self) -> None:
        if not self.endpoint and not (self.traces_endpoint or self.metrics_endpoint or self.logs_endpoint):
            raise ConfigError("endpoint must be set, e.g. endpoint: http://gateway:4318")
        for url in (self.endpoint, self.traces_endpoint, self.metrics_endpoint, self.logs_endpoint):
            if url and not url.startswith(("http://", "https://")):
                raise ConfigError(f"'{url}' must be an http:// or https:// URL")
        if self.timeout <= timedelta(0):
            raise ConfigError("timeout must be greater than 0")

    def url(self, signal: Signal) -> str:
        explicit = {Signal.TRACES: self.traces_endpoint, Signal.METRICS: self.metrics_endpoint, Signal.LOGS: self.logs_endpoint}[signal]
        return explicit or self.endpoint.rstrip("/") + CODECS[signal].http_path


class OtlpHttpExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def start(self, host: Host) -> None:
        # The TLS context only matters for https:// endpoints.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.config.tls.ssl_context()),
            timeout=aiohttp.ClientTimeout(total=self.config.timeout.total_seconds()),
            auto_decompress=True,
        )

    def _body(self, data: SignalData) -> bytes:
        body = encode_request(data, self.config.encoding)
        return gzip.compress(body, compresslevel=6) if self.config.compression == "gzip" else body

    async def consume(self, data: SignalData) -> None:
        if self._session is None:
            raise RetryableError("otlp_http exporter is not running")
        url = self.config.url(data.signal)
        body = await asyncio.to_thread(self._body, data)
        headers = {**self.config.headers, "Content-Type": CONTENT_TYPES[self.config.encoding]}
        if self.config.compression == "gzip":
            headers["Content-Encoding"] = "gzip"
        try:
            # server_name_override: the name the server's certificate is checked against (and SNI).
            server_hostname = self.config.tls.server_name_override or None
            async with self._session.post(url, data=body, headers=headers, server_hostname=server_hostname) as response:
                payload = await response.read()
                if response.status != 200:
                    raise http_error(url, response.status, response.headers.get("Retry-After"), payload)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryableError(f"cannot send to {url}: {type(exc).__name__}: {exc}") from None
        codec = CODECS[data.signal]
        if payload:
            try:
                if response.content_type == "application/json":
                    reply = otlp_json.parse(payload, codec.response_type())
                else:
                    reply = codec.response_type.FromString(payload)
            except Exception as exc:  # an unreadable success body does not undo the success
                log.warning("%s answered 200 with a body that is not an %s (%s); a partial success in it is not seen",
                            url, codec.response_type.DESCRIPTOR.name, exc)
                return
            check_partial_success(url, reply)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _create(settings: CreateSettings, config: Config) -> OtlpHttpExporter:
    return OtlpHttpExporter(settings, config)


FACTORY = Factory(
    type="otlp_http",
    aliases=("otlphttp",),
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.STABLE,
    description="OTLP/HTTP (protobuf or JSON) to another collector (gzip by default)",
)
