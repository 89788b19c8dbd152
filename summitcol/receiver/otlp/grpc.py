"""OTLP/gRPC server: generic handlers over raw bytes (no protobuf parsing on the event loop)."""

from __future__ import annotations

import logging
from typing import NoReturn

import grpc
from grpc import aio

from summitcol.auth import AuthFailure
from summitcol.component import Signal
from summitcol.netaddr import ensure_port_free, warn_if_open
from summitcol.pdata.codec import CODECS
from summitcol.receiver.auth import ServerAuth, auth_client_info
from summitcol.receiver.otlp.config import GRPCServerConfig
from summitcol.receiver.otlp.handler import ExportHandler
from summitcol.receiver.otlp.status import Failure, Refusals, failure_for

log = logging.getLogger("summitcol.receiver.otlp.grpc")

SHUTDOWN_GRACE_S = 30.0
# grpc-go's answer to a stream that ends before the message its length prefix announced:
# INTERNAL "unexpected EOF" (processUnaryRPC), here with what it means.
TRUNCATED_MESSAGE = "unexpected EOF: the stream ended before a whole request message arrived"


def _metadata(context: aio.ServicerContext) -> list[tuple[str, str]]:
    return [(key, str(value)) for key, value in context.invocation_metadata() or () if not key.endswith("-bin")]


def _ms(value) -> int:  # type: ignore[no-untyped-def]
    return int(value.total_seconds() * 1000)


def server_options(config: GRPCServerConfig, shared_port: bool = False) -> list[tuple[str, int]]:
    """gRPC server options from the config; `shared_port` when several workers listen on it."""
    size = config.max_recv_msg_size_mib * 1024 * 1024
    options = [
        ("grpc.max_receive_message_length", size),
        ("grpc.max_send_message_length", size),
        ("grpc.so_reuseport", int(shared_port)),
    ]
    if config.max_concurrent_streams:
        options.append(("grpc.max_concurrent_streams", config.max_concurrent_streams))
    keepalive = config.keepalive
    if keepalive is not None:
        params = keepalive.server_parameters
        if params is not None:
            for key, value in (
                ("grpc.max_connection_idle_ms", params.max_connection_idle),
                ("grpc.max_connection_age_ms", params.max_connection_age),
                ("grpc.max_connection_age_grace_ms", params.max_connection_age_grace),
                ("grpc.keepalive_time_ms", params.time),
                ("grpc.keepalive_timeout_ms", params.timeout),
            ):
                if value is not None:
                    options.append((key, _ms(value)))
        policy = keepalive.enforcement_policy
        if policy is not None:
            if policy.min_time is not None:
                options.append(("grpc.http2.min_ping_interval_without_data_ms", _ms(policy.min_time)))
            options.append(("grpc.keepalive_permit_without_calls", int(policy.permit_without_stream)))
    return options


async def _abort(context: aio.ServicerContext, failure: Failure) -> NoReturn:
    """End the call with `failure`'s code, message and google.rpc.Status details."""
    await context.abort(
        failure.grpc_code,
        failure.message,
        trailing_metadata=(("grpc-status-details-bin", failure.rpc_status().SerializeToString()),),
    )
    raise AssertionError("unreachable: abort raises")


class GrpcServer:
    def __init__(self, receiver: ExportHandler, config: GRPCServerConfig, auth: ServerAuth | None = None) -> None:
        self.receiver = receiver
        self.config = config
        self.auth = auth
        self.server: aio.Server | None = None
        self.port = 0
        self.refusals = Refusals(receiver.label, "grpc", receiver.settings.telemetry, log)

    def _client(self, context: aio.ServicerContext) -> dict[str, str]:
        """contrib's client.Info: the peer address, and with include_metadata the request metadata."""
        peer = context.peer() or ""  # "ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:…"
        kind, _, rest = peer.partition(":")
        address = rest.rsplit(":", 1)[0].strip("[]") if kind in ("ipv4", "ipv6") else rest
        client = {"client.address": address}
        if self.config.include_metadata:
            values: dict[str, list[str]] = {}
            for key, value in context.invocation_metadata() or ():
                if not key.endswith("-bin"):
                    values.setdefault(key.lower(), []).append(str(value))
            client.update({f"metadata.{key}": ";".join(v) for key, v in values.items()})
        return client

    def _handler(self, signal: Signal):  # type: ignore[no-untyped-def]
        """The Export method, registered as client-streaming: on the wire a unary call is the same,
        but grpcio's unary path waits for ever (until the client's deadline) on a stream that ends
        inside a message (a length prefix promising more than arrives, then END_STREAM), where a
        read of our own sees the end of the stream at once and can answer as grpc-go does."""
        receiver = self.receiver

        async def export(requests: object, context: aio.ServicerContext) -> bytes:
            client = self._client(context)
            if self.auth is not None:
                try:
                    principal = await self.auth.check(_metadata(context), {}, client["client.address"])
                except AuthFailure as exc:
                    self.refusals.refused("unauthenticated", client["client.address"], str(exc))
                    await _abort(context, Failure(grpc.StatusCode.UNAUTHENTICATED, 401, str(exc)))
                client.update(auth_client_info(principal))
            body = await context.read()
            if body is aio.EOF:
                failure = Failure(grpc.StatusCode.INTERNAL, 400, TRUNCATED_MESSAGE)
                self.refusals.refused("malformed", client["client.address"], failure.message)
                await _abort(context, failure)
            assert isinstance(body, bytes)
            try:
                response = await receiver.export(signal, body, "proto", "grpc", client=client, peer=context.peer() or "")
            except Exception as exc:
                failure = failure_for(exc)
                if failure.grpc_code == grpc.StatusCode.INVALID_ARGUMENT:
                    self.refusals.refused("malformed", client["client.address"], failure.message)
                await _abort(context, failure)
            return response.SerializeToString()

        return grpc.stream_unary_rpc_method_handler(export)

    async def start(self) -> None:
        worker = self.receiver.settings.worker
        self.server = aio.server(options=server_options(self.config, worker.shared_ports))
        for signal, codec in CODECS.items():
            service, _, method = codec.grpc_method.strip("/").partition("/")
            self.server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, {method: self._handler(signal)}),)
            )
        endpoint = self.config.endpoint
        credentials = self.config.tls.grpc_credentials() if self.config.tls is not None else None  # names a bad file
        try:
            if worker.shared_ports and worker.owner:
                ensure_port_free(endpoint)
            if credentials is not None:
                self.port = self.server.add_secure_port(endpoint, credentials)
            else:
                self.port = self.server.add_insecure_port(endpoint)
        except (RuntimeError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else exc
            raise OSError(f"cannot listen for OTLP/gRPC on {endpoint}: {reason}; is another collector running?") from None
        if not self.port:
            raise OSError(f"cannot listen for OTLP/gRPC on {endpoint}; is another collector running?")
        await self.server.start()
        log.info("OTLP/gRPC receiver %s listening on %s", self.receiver.label, endpoint)
        if worker.owner:
            warn_if_open(log, f"OTLP/gRPC receiver {self.receiver.label}", endpoint, self.auth is not None)

    async def stop(self) -> None:
        if self.server is not None:
            # Refuse new RPCs, let the ones in flight finish (they wait on the pipeline).
            await self.server.stop(SHUTDOWN_GRACE_S)
            self.server = None
