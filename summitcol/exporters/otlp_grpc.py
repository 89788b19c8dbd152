"""The `otlp_grpc` exporter (alias `otlp`): sends OTLP/gRPC to the next collector in a chain."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import grpc
from grpc import aio

from summitcol.component import CreateSettings, Exporter, Factory, Host, Kind, Signal, Stability
from summitcol.exceptions import ConfigError, RetryableError
from summitcol.exporters.helper.config import HelperConfig
from summitcol.exporters.otlp_common import check_partial_success, grpc_error
from summitcol.pdata.codec import CODECS, to_message
from summitcol.pdata.signal import SignalData
from summitcol.tlsconfig import TLSClientConfig, peer_certificate, read_pem

DEFAULT_TIMEOUT = timedelta(seconds=5)  # otelcol exporterhelper


@dataclass(frozen=True, kw_only=True, slots=True)
class Config(HelperConfig):
    endpoint: str = ""
    tls: TLSClientConfig = field(default_factory=TLSClientConfig)
    headers: dict[str, str] = field(default_factory=dict)
    compression: Literal["gzip", "none", ""] = "gzip"
    timeout: timedelta = DEFAULT_TIMEOUT
    balancer_name: str = "round_robin"
    authority: str = ""
    write_buffer_size: int = 0
    read_buffer_size: int = 0

    def validate(self) -> None:
        if not self.endpoint:
            raise ConfigError("endpoint must be set, e.g. endpoint: gateway:4317")
        if self.timeout <= timedelta(0):
            raise ConfigError("timeout must be greater than 0")

    def target(self) -> tuple[str, bool]:
        """(host:port, insecure) from the endpoint; an http:// scheme means plaintext, as in otelcol."""
        endpoint = self.endpoint
        insecure = self.tls.insecure
        for scheme, plain in (("http://", True), ("https://", False)):
            if endpoint.startswith(scheme):
                endpoint = endpoint[len(scheme) :]
                insecure = insecure or plain
        return endpoint.rstrip("/"), insecure


class OtlpGrpcExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self._channel: aio.Channel | None = None
        self._calls: dict[Signal, aio.UnaryUnaryMultiCallable] = {}
        self._metadata = tuple((k.lower(), v) for k, v in config.headers.items())
        # insecure_skip_verify (TLS on): pin the server's certificate at the first send, see _open_pinned
        self._pinning = config.tls.insecure_skip_verify and not config.target()[1]
        self._pin_lock = asyncio.Lock()
        self._running = False

    async def start(self, host: Host) -> None:
        target, insecure = self.config.target()
        self._running = True
        if insecure:
            self._open(aio.insecure_channel, target)
        elif not self._pinning:
            self._open(aio.secure_channel, target, self._credentials())

    def _open(self, make, target: str, *credentials: grpc.ChannelCredentials, name_override: str = "") -> None:  # type: ignore[no-untyped-def]
        options = [("grpc.lb_policy_name", self.config.balancer_name), ("grpc.max_send_message_length", -1)]
        if self.config.authority:
            options.append(("grpc.default_authority", self.config.authority))
        if name_override := name_override or self.config.tls.server_name_override:
            options.append(("grpc.ssl_target_name_override", name_override))
        compression = grpc.Compression.Gzip if self.config.compression == "gzip" else grpc.Compression.NoCompression
        self._channel = make(target, *credentials, options=options, compression=compression)
        for signal, codec in CODECS.items():
            self._calls[signal] = self._channel.unary_unary(codec.grpc_method)

    async def _open_pinned(self) -> None:
        """insecure_skip_verify: trust the certificate the server presents now (see
        tlsconfig.peer_certificate); a refused send drops the channel, so a server whose
        certificate changed is pinned again at the next send."""
        async with self._pin_lock:
            if self._channel is None and self._running:
                await self._pin()

    async def _pin(self) -> None:
        target, _ = self.config.target()
        host, _, port = target.rpartition(":")
        try:
            pem, name = await asyncio.to_thread(
                peer_certificate, host.strip("[]"), int(port), self.config.tls, self.config.timeout.total_seconds()
            )
        except (OSError, ValueError) as exc:
            raise RetryableError(
                f"cannot read the TLS certificate of {self.config.endpoint} (tls::insecure_skip_verify): {exc}"
            ) from None
        credentials = grpc.ssl_channel_credentials(pem, *self._client_pair())
        self._open(aio.secure_channel, target, credentials, name_override=name)

    def _credentials(self) -> grpc.ChannelCredentials:
        roots = read_pem("ca_file", self.config.tls.ca_file) if self.config.tls.ca_file else None
        return grpc.ssl_channel_credentials(roots, *self._client_pair())

    def _client_pair(self) -> tuple[bytes | None, bytes | None]:
        """(private key, certificate chain) for mTLS, or (None, None)."""
        tls = self.config.tls
        if not tls.cert_file:
            return None, None
        return read_pem("key_file", tls.key_file), read_pem("cert_file", tls.cert_file)

    async def consume(self, data: SignalData) -> None:
        if self._pinning and self._channel is None:
            await self._open_pinned()
        call = self._calls.get(data.signal)
        if call is None:
            raise RetryableError("otlp_grpc exporter is not running")
        payload = await asyncio.to_thread(lambda: to_message(data).SerializeToString())
        try:
            reply = await call(payload, timeout=self.config.timeout.total_seconds(), metadata=self._metadata)
        except aio.AioRpcError as exc:
            if self._pinning and exc.code() is grpc.StatusCode.UNAVAILABLE and self._channel is not None:
                channel, self._channel = self._channel, None
                self._calls.clear()
                await channel.close(grace=self.config.timeout.total_seconds())  # sends in flight finish
            trailing = dict(exc.trailing_metadata() or ())
            raise grpc_error(self.config.endpoint, exc.code(), exc.details() or "", trailing) from None
        check_partial_success(self.config.endpoint, CODECS[data.signal].response_type.FromString(reply))

    async def shutdown(self) -> None:
        self._running = False
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._calls.clear()


def _create(settings: CreateSettings, config: Config) -> OtlpGrpcExporter:
    return OtlpGrpcExporter(settings, config)


FACTORY = Factory(
    type="otlp_grpc",
    aliases=("otlp",),
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.STABLE,
    description="OTLP/gRPC to another collector (gzip by default)",
)
