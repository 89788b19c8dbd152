"""Small helpers the CI payload mappers share: reading loosely typed JSON, building the BuildEvent
envelope's pieces, OTLP attribute values and contrib-style deterministic ids.

Webhook payloads are open maps: fields appear, disappear or arrive as null between provider
versions. The readers here treat a missing key, a null and a wrong type the same way (the empty
value), which is what Go's encoding/json does for contrib's receivers, so the mappers see what
contrib sees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue

from summitcol.cicd.model.build_pb2 import Repository

AttrValue = str | bool | int | float | list[str]


def obj(payload: Any, key: str) -> dict[str, Any]:
    """payload[key] when it is an object, else {} (missing, null, or another type)."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    return value if isinstance(value, dict) else {}


def text(payload: Any, key: str) -> str:
    """payload[key] as a string: "" when missing or null; numbers (ids) are written in decimal."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    if value is None or isinstance(value, bool | dict | list):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def integer(payload: Any, key: str) -> int:
    """payload[key] as an int: 0 when missing, null or not a number."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


def number(payload: Any, key: str) -> float | None:
    """payload[key] as a float, or None when missing, null or not a number."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def flag(payload: Any, key: str) -> bool:
    """payload[key] is JSON true."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    return value is True


def items(payload: Any, key: str) -> list[dict[str, Any]]:
    """The objects in the list payload[key] (non-objects dropped)."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def strings(payload: Any, key: str) -> list[str]:
    """The strings in the list payload[key]."""
    value = payload.get(key) if isinstance(payload, Mapping) else None
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def timestamp(moment: datetime) -> Timestamp:
    """A protobuf Timestamp for a tz-aware datetime."""
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def repository_from_url(url: str) -> Repository:
    """A Repository from a clone or page URL (https://host/group/sub/repo(.git), git@host:group/repo.git):
    url canonical (https, no `.git`, no trailing slash), name the last path segment, owner the rest
    (a GitLab group path may have several segments)."""
    url = url.strip()
    if not url:
        return Repository()
    if url.startswith("git@") and ":" in url:
        host, _, path = url[len("git@"):].partition(":")
        url = f"https://{host}/{path}"
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    scheme = "https" if parts.scheme in ("", "ssh", "git") else parts.scheme
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    owner, _, name = path.rpartition("/")
    return Repository(url=f"{scheme}://{host}/{path}" if host else url, name=name, owner=owner)


def hex_digest(value: str) -> str:
    """Lowercase hex sha256 of the UTF-8 string: the input of contrib's deterministic ids."""
    return hashlib.sha256(value.encode()).hexdigest()


def trace_id_hex(seed: str) -> str:
    """contrib's trace id rule: the first 32 hex characters of sha256(seed)."""
    return hex_digest(seed)[:32]


def span_id_hex(seed: str) -> str:
    """contrib's span id rule: hex characters 16..32 of sha256(seed)."""
    return hex_digest(seed)[16:32]


def any_value(value: AttrValue) -> AnyValue:
    """An OTLP AnyValue of the Go pdata type contrib would use: bool, int, double, string, string slice."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[AnyValue(string_value=v) for v in value]))
    return AnyValue(string_value=value)


def key_values(pairs: Iterable[tuple[str, AttrValue]]) -> list[KeyValue]:
    """OTLP attributes in the given order (pdata keeps insertion order; a repeated key replaces)."""
    ordered: dict[str, AttrValue] = dict(pairs)
    return [KeyValue(key=key, value=any_value(value)) for key, value in ordered.items()]
