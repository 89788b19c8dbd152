"""What every HTTP receiver (otlp, the CI webhooks) does the same way with aiohttp requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from summitcol.component import Worker
from summitcol.netaddr import ensure_port_free, split_host_port
from summitcol.tlsconfig import TLSServerConfig

SHUTDOWN_GRACE_S = 10.0  # in-flight requests of a stopping receiver


async def listen(
    handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]], endpoint: str, *, label: str,
    tls: TLSServerConfig | None, idle_timeout: timedelta, worker: Worker, shared_port: bool,
) -> tuple[web.ServerRunner, int]:
    """An aiohttp server for a receiver (raw bodies: decompression is the receiver's, capped) and
    the port it got; OSError naming the endpoint when it cannot listen. `shared_port`: several
    workers listen on it (SO_REUSEPORT; the first checks that no other collector holds it)."""
    server = web.Server(handler, auto_decompress=False, keepalive_timeout=idle_timeout.total_seconds(), access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    host_name, port = split_host_port(endpoint)
    ssl_context = tls.ssl_context() if tls is not None else None
    site = web.TCPSite(runner, host_name, port, ssl_context=ssl_context, reuse_address=True, reuse_port=shared_port)
    try:
        if worker.shared_ports and worker.owner:
            ensure_port_free(endpoint)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"{label}: cannot listen on {endpoint}: {exc.strerror}; is another collector running?") from None
    sockets = runner.addresses
    return runner, (sockets[0][1] if sockets else port)


async def read_body(request: web.BaseRequest, limit: int) -> bytes | None:
    """The body, or None once it grows past `limit` (the rest is not read into memory)."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)


AUTH_INFO = "summitcol.auth_info"  # the request's key for its authenticated client info


def client_info(request: web.BaseRequest, include_metadata: bool) -> dict[str, str]:
    """contrib's client.Info: the peer address, with include_metadata the request headers, and
    what the receiver's authenticator said of the caller (`auth.*`, kept under AUTH_INFO)."""
    client = {"client.address": request.remote or ""}
    if include_metadata:
        values: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            values.setdefault(key.lower(), []).append(value)
        client.update({f"metadata.{key}": ";".join(v) for key, v in values.items()})
    client.update(request.get(AUTH_INFO, {}))
    return client
