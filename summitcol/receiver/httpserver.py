"""What every HTTP receiver (otlp, the CI webhooks) does the same way with aiohttp requests."""

from __future__ import annotations

from aiohttp import web


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


def client_info(request: web.BaseRequest, include_metadata: bool) -> dict[str, str]:
    """contrib's client.Info: the peer address, and with include_metadata the request headers."""
    client = {"client.address": request.remote or ""}
    if include_metadata:
        values: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            values.setdefault(key.lower(), []).append(value)
        client.update({f"metadata.{key}": ";".join(v) for key, v in values.items()})
    return client
