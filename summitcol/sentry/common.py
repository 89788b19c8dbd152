"""What events and transactions share on their way to OTLP: timestamps, ids, the resource, and
Sentry's free-form data (tags, contexts, user, request, extra) as attributes.

Attribute names (the README's "sentry receiver" section lists them for users):

| Sentry field                        | attribute                                        |
|-------------------------------------|--------------------------------------------------|
| `tags.<k>` (map or `[[k, v]]`)      | `sentry.tag.<k>`                                 |
| `contexts.<name>.<k>`               | `sentry.context.<name>.<k>` (nested values as JSON) |
| `user.id` / `email` / `username`    | `user.id` / `user.email` / `user.name`           |
| `user.ip_address`                   | `client.address`                                 |
| other `user.<k>`                    | `sentry.user.<k>`                                |
| `request.url` / `method`            | `url.full` / `http.request.method`               |
| `request.query_string`              | `url.query`                                      |
| `request.headers.<H>`               | `http.request.header.<h>` (lowercase)            |
| `request.data`, `request.cookies`   | `sentry.request.data`, `sentry.request.cookies`  |
| `extra.<k>`                         | `sentry.extra.<k>`                               |
| `logger`, `transaction`, `server_name`, `dist`, `platform` | `sentry.<field>`          |

Resource: `service.name` (the project's `service_name`), `service.version` (`release`),
`deployment.environment.name` (`environment`), `telemetry.sdk.language` (`platform`),
`telemetry.sdk.name` / `telemetry.sdk.version` (`sdk`), `sentry.project_id`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from summitcol.pdata.decoded import DEFAULT_MAX_ATTRIBUTES
from summitcol.sentry.auth import Project

_HEX = re.compile(r"^[0-9a-fA-F]+$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_VALUE_CHARS = 8192  # Relay trims messages and databags about here; a bound on what one value costs


def timestamp_nanos(value: Any, default: int) -> int:
    """Unix nanoseconds of a Sentry timestamp (RFC 3339 text or float seconds); `default` if absent
    or unreadable (Relay too replaces a bad timestamp with the time it received the event)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        return int(round(value * 1_000_000)) * 1000  # microsecond precision, as the SDKs send
    if isinstance(value, str) and value:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return default
        if moment.tzinfo is None:  # Sentry: naive timestamps are UTC
            moment = moment.replace(tzinfo=UTC)
        return (moment - EPOCH) // timedelta(microseconds=1) * 1000
    return default


def hex_id(value: Any, width: int) -> bytes:
    """A trace id (32 hex) or span id (16 hex) as bytes; b"" when absent or malformed."""
    if isinstance(value, str):
        text = value.replace("-", "")
        if len(text) == width and _HEX.match(text):
            return bytes.fromhex(text)
    return b""


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def any_value(value: Any) -> AnyValue:
    """A JSON value as an AnyValue: scalars typed, lists of scalars as arrays, the rest as JSON text."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list) and all(isinstance(v, (str, bool, int, float)) for v in value):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    return AnyValue(string_value=text(value)[:MAX_VALUE_CHARS])


class Attributes:
    """KeyValues in insertion order, a later key replacing an earlier one, at most `limit` keys.

    The receivers' decode rejects a record with more than DEFAULT_MAX_ATTRIBUTES attributes; an
    event with 2,000 tags should still be stored, so the keys past the limit are dropped (and
    counted in `dropped`) instead. The ones put first (exception.*, ids) are the ones kept."""

    def __init__(self, limit: int = DEFAULT_MAX_ATTRIBUTES) -> None:
        self._values: dict[str, AnyValue] = {}
        self.limit = limit
        self.dropped = 0

    def put(self, key: str, value: Any) -> None:
        if value is None or value == "" or value == {} or value == []:
            return
        self._set(key, value if isinstance(value, AnyValue) else any_value(value))

    def put_text(self, key: str, value: Any, limit: int = MAX_VALUE_CHARS) -> None:
        if value is None or value == "":
            return
        self._set(key, AnyValue(string_value=text(value)[:limit]))

    def _set(self, key: str, value: AnyValue) -> None:
        if key not in self._values and len(self._values) >= self.limit:
            self.dropped += 1
            return
        self._values[key] = value

    def key_values(self) -> list[KeyValue]:
        return [KeyValue(key=key, value=value) for key, value in self._values.items()]


def resource(event: dict[str, Any], project: Project) -> Resource:
    attributes = Attributes()
    attributes.put_text("service.name", project.service_name)
    attributes.put_text("service.version", _scalar(event.get("release")))
    attributes.put_text("deployment.environment.name", _scalar(event.get("environment")))
    attributes.put_text("telemetry.sdk.language", _scalar(event.get("platform")))
    sdk = event.get("sdk")
    if isinstance(sdk, dict):
        attributes.put_text("telemetry.sdk.name", _scalar(sdk.get("name")))
        attributes.put_text("telemetry.sdk.version", _scalar(sdk.get("version")))
    attributes.put_text("sentry.project_id", project.id)
    return Resource(attributes=attributes.key_values())


def scope_of(event: dict[str, Any]) -> tuple[str, str]:
    """Instrumentation scope: the Sentry SDK (`sentry.python`, `2.75.0`)."""
    sdk = event.get("sdk")
    if isinstance(sdk, dict):
        return _scalar(sdk.get("name")), _scalar(sdk.get("version"))
    return "", ""


def tags_of(event: dict[str, Any]) -> list[tuple[str, Any]]:
    tags = event.get("tags")
    if isinstance(tags, dict):
        return list(tags.items())
    if isinstance(tags, list):
        return [(pair[0], pair[1]) for pair in tags if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)]
    return []


def add_event_attributes(attributes: Attributes, event: dict[str, Any], *, skip_trace_ids: bool = True) -> None:
    """Tags, contexts, user, request, extra and the top-level descriptive fields."""
    for field in ("logger", "transaction", "server_name", "dist", "platform"):
        attributes.put_text(f"sentry.{field}", _scalar(event.get(field)))
    for key, value in tags_of(event):
        attributes.put_text(f"sentry.tag.{key}", value)
    contexts = event.get("contexts")
    if isinstance(contexts, dict):
        for name, context in contexts.items():
            if not isinstance(context, dict):
                continue
            for key, value in context.items():
                if skip_trace_ids and name == "trace" and key in ("trace_id", "span_id"):
                    continue
                attributes.put(f"sentry.context.{name}.{key}", value)
    user = event.get("user")
    if isinstance(user, dict):
        for key, value in user.items():
            name = {"id": "user.id", "email": "user.email", "username": "user.name", "ip_address": "client.address"}.get(key)
            attributes.put_text(name or f"sentry.user.{key}", value)
    request = event.get("request")
    if isinstance(request, dict):
        attributes.put_text("url.full", request.get("url"))
        attributes.put_text("http.request.method", request.get("method"))
        query = request.get("query_string")
        attributes.put_text("url.query", query if isinstance(query, str) else text(query) if query else None)
        headers = request.get("headers")
        pairs = headers.items() if isinstance(headers, dict) else (
            [tuple(p) for p in headers if isinstance(p, list) and len(p) == 2] if isinstance(headers, list) else [])
        for name, value in pairs:
            attributes.put_text(f"http.request.header.{str(name).lower()}", value)
        attributes.put_text("sentry.request.data", request.get("data"))
        attributes.put_text("sentry.request.cookies", request.get("cookies"))
    extra = event.get("extra")
    if isinstance(extra, dict):
        for key, value in extra.items():
            attributes.put(f"sentry.extra.{key}", value)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None or isinstance(value, (dict, list)) else str(value)
