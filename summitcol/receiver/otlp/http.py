"""OTLP/HTTP server: POST /v1/{traces,metrics,logs}, protobuf or JSON, gzip, size-capped.

Status codes follow the OTLP specification and otelcol's otlphttp handler: 405 for a method
other than POST, 415 for a content type other than application/x-protobuf or application/json,
413 for a body over `max_request_body_size` (also once decompressed), 400 with a google.rpc.Status
body for undecodable data, 503 + Retry-After when the pipeline refuses, 200 (maybe with a
partial success) otherwise. Errors and responses use the request's encoding.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import grpc
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from summitcol.auth import AuthFailure
from summitcol.component import Signal
from summitcol.compression import BodyTooLargeError, UnsupportedEncodingError
from summitcol.exceptions import RateLimitedError
from summitcol.netaddr import ensure_port_free, split_host_port, warn_if_open
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import Encoding
from summitcol.receiver.auth import ServerAuth, auth_client_info
from summitcol.receiver.httpserver import client_info, read_body
from summitcol.receiver.otlp.config import HTTPServerConfig
from summitcol.receiver.otlp.handler import ExportHandler
from summitcol.receiver.otlp.status import Failure, Refusals, failure_for, retry_after_header

log = logging.getLogger("summitcol.receiver.otlp.http")

CONTENT_TYPES: dict[str, Encoding] = {"application/x-protobuf": "proto", "application/json": "json"}
MEDIA_TYPES = {"proto": "application/x-protobuf", "json": "application/json"}
SHUTDOWN_GRACE_S = 30.0


class HttpServer:
    def __init__(self, receiver: ExportHandler, config: HTTPServerConfig, auth: ServerAuth | None = None) -> None:
        self.receiver = receiver
        self.config = config
        self.auth = auth
        self.paths = {
            config.traces_url_path: Signal.TRACES,
            config.metrics_url_path: Signal.METRICS,
            config.logs_url_path: Signal.LOGS,
        }
        self._runner: web.ServerRunner | None = None
        self.port = 0
        self.refusals = Refusals(receiver.label, "http", receiver.settings.telemetry, log)

    async def start(self) -> None:
        server = web.Server(
            self._handle,
            auto_decompress=False,
            keepalive_timeout=self.config.idle_timeout.total_seconds() if self.config.keep_alives_enabled else 0,
            access_log=None,
            logger=_ProtocolErrorLog(self.refusals),
        )
        self._runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE_S)
        await self._runner.setup()
        host, port = split_host_port(self.config.endpoint)
        ssl_context = self.config.tls.ssl_context() if self.config.tls is not None else None
        worker = self.receiver.settings.worker
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl_context, reuse_address=True, reuse_port=worker.shared_ports)
        try:
            if worker.shared_ports and worker.owner:
                ensure_port_free(self.config.endpoint)
            await site.start()
        except OSError as exc:
            raise OSError(f"cannot listen for OTLP/HTTP on {self.config.endpoint}: {exc.strerror}; is another collector running?") from None
        sockets = self._runner.addresses
        self.port = sockets[0][1] if sockets else port
        log.info("OTLP/HTTP receiver %s listening on %s", self.receiver.label, self.config.endpoint)
        if worker.owner:
            warn_if_open(log, f"OTLP/HTTP receiver {self.receiver.label}", self.config.endpoint, self.auth is not None)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        auth_info: dict[str, str] = {}
        if self.auth is not None:  # first, as confighttp's auth handler wraps every path
            try:
                principal = await self.auth.check(request.headers.items(), request.query, request.remote or "")
            except AuthFailure as exc:
                known = CONTENT_TYPES.get(request.content_type)
                if known is None:
                    return self._refuse(request, "unauthenticated", 401, str(exc))
                failure = Failure(grpc.StatusCode.UNAUTHENTICATED, 401, str(exc))
                return self._refused_failure(request, known, "unauthenticated", failure)
            auth_info = auth_client_info(principal)
        signal = self.paths.get(request.path)
        if signal is None:
            return self._refuse(request, "not_found", 404, f"{request.path} not found; OTLP/HTTP paths are {', '.join(self.paths)}")
        if request.method != "POST":
            response = self._refuse(request, "method_not_allowed", 405, f"{request.method} is not allowed; send POST")
            response.headers["Allow"] = "POST"
            return response
        encoding = CONTENT_TYPES.get(request.content_type)
        if encoding is None:
            return self._refuse(
                request,
                "unsupported_media_type",
                415,
                f"unsupported content type '{request.content_type}'; send application/x-protobuf or application/json",
            )
        limit = self.config.max_request_body_size
        declared = request.content_length
        if declared is not None and declared > limit:
            return self._refused_failure(request, encoding, "too_large", _too_large(limit), close=True)
        client = {**client_info(request, self.config.include_metadata), **auth_info}
        if declared is not None and auth_info.get("auth.tenant"):
            try:  # over its limit: refused before its body is read, the connection closed (nothing left to read)
                await self.receiver.admit_tenant("http", client, declared)
            except RateLimitedError as exc:
                return self._failure(encoding, failure_for(exc), close=True)
        read_timeout = self.config.read_timeout.total_seconds()
        try:
            body = await asyncio.wait_for(read_body(request, limit), read_timeout or None)
        except TimeoutError:
            return self._refuse(request, "timeout", 408, f"the request body did not arrive within read_timeout ({read_timeout:g}s)")
        except (ConnectionError, web.RequestPayloadError) as exc:
            # The client went away mid-body or sent a broken chunked/compressed framing: its fault,
            # answered (if it still listens) and logged like any protocol error, no traceback.
            response = self._refuse(request, "protocol_error", 400, f"the request body could not be read: {exc}")
            response.force_close()
            return response
        if body is None:
            return self._refused_failure(request, encoding, "too_large", _too_large(limit), close=True)
        content_encoding = request.headers.get("Content-Encoding", "")
        try:
            result = await self.receiver.export(
                signal, body, encoding, "http", content_encoding, limit, client, _peer(request), admitted=declared is not None,
            )
        except BodyTooLargeError:
            return self._refused_failure(request, encoding, "too_large", _too_large(limit))
        except UnsupportedEncodingError as exc:
            return self._refuse(request, "unsupported_encoding", 415, str(exc))
        except Exception as exc:
            failure = failure_for(exc)
            if failure.http_status == 400:
                return self._refused_failure(request, encoding, "malformed", failure)
            return self._failure(encoding, failure)
        payload = otlp_json.dumps(result) if encoding == "json" else result.SerializeToString()
        return web.Response(status=200, body=payload, headers=self._headers(encoding))

    def _refuse(self, request: web.BaseRequest, reason: str, status: int, message: str) -> web.Response:
        """A plain-text refusal, counted and logged (rate-limited)."""
        self.refusals.refused(reason, request.remote or "", message)
        return self._plain(status, message)

    def _refused_failure(
        self, request: web.BaseRequest, encoding: Encoding, reason: str, failure: Failure, *, close: bool = False
    ) -> web.Response:
        """A google.rpc.Status refusal, counted and logged (rate-limited)."""
        self.refusals.refused(reason, request.remote or "", failure.message)
        return self._failure(encoding, failure, close=close)

    def _headers(self, encoding: Encoding) -> dict[str, str]:
        return {**self.config.response_headers, "Content-Type": MEDIA_TYPES[encoding]}

    def _failure(self, encoding: Encoding, failure: Failure, *, close: bool = False) -> web.Response:
        status = failure.rpc_status()
        payload = otlp_json.dumps(status) if encoding == "json" else status.SerializeToString()
        headers = self._headers(encoding)
        if failure.retry_after is not None:
            headers["Retry-After"] = retry_after_header(failure.retry_after)
        if close:
            headers["Connection"] = "close"
        return web.Response(status=failure.http_status, body=payload, headers=headers)

    def _plain(self, status: int, message: str) -> web.Response:
        return web.Response(status=status, text=message, headers=dict(self.config.response_headers))


class _ProtocolErrorLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server logger. HTTP protocol garbage (a bad request line or Content-Length, NUL in
    a header, a URL over 8 KiB: aiohttp's HttpProcessingError) is a client's fault an attacker can
    repeat at will, so it becomes a counted, rate-limited `protocol_error` refusal without a
    traceback; anything else (a bug on our side) is logged as aiohttp logs it, traceback included."""

    def __init__(self, refusals: Refusals) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})
        self.refusals = refusals

    def log(self, level: int, msg: object, *args: object, exc_info: Any = None, **kwargs: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else (sys.exc_info()[1] if exc_info else None)
        if isinstance(exc, HttpProcessingError):
            client = str(args[0]) if args else ""  # "Error handling request from %s", request.remote
            first_line = exc.message.split("\n", 1)[0].rstrip(":")  # aiohttp appends the offending bytes
            self.refusals.refused("protocol_error", client, f"{type(exc).__name__}: {first_line}")
            return
        super().log(level, msg, *args, exc_info=exc_info, **kwargs)


def _peer(request: web.BaseRequest) -> str:
    """The connection's address and port (whom memory admission is fair between)."""
    peername = request.transport.get_extra_info("peername") if request.transport is not None else None
    return f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) and len(peername) >= 2 else request.remote or ""


def _too_large(limit: int) -> Failure:
    return Failure(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        413,
        f"request body is larger than max_request_body_size ({limit} bytes); send smaller batches",
    )
