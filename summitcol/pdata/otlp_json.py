"""OTLP/JSON ⇄ protobuf messages, with the OTLP rules protobuf's JSON mapping lacks.

OTLP/JSON differs from the canonical proto3 mapping in one way that matters: trace and span ids
are (case-insensitive) hex, not base64. Everything else — lowerCamelCase keys, int64 as strings
or numbers, enums as integers, unknown fields ignored — `json_format` handles when asked to.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message

from summitcol.errors import InvalidDataError

_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
# Where ids live, as paths of (list key, …); every record list is walked once.
_RECORD_PATHS = {
    "resourceSpans": ("scopeSpans", "spans"),
    "resourceLogs": ("scopeLogs", "logRecords"),
    "resourceMetrics": ("scopeMetrics", "metrics"),
}
_METRIC_TYPES = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


def _hex_to_b64(record: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value:
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise InvalidDataError(f"{key} {value!r} is not hex (OTLP/JSON ids are hex strings)") from None
            record[key] = base64.b64encode(raw).decode("ascii")


def _b64_to_hex(record: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value:
            record[key] = base64.b64decode(value).hex()


def _records(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every dict in the document that may hold ids: spans, links, log records, exemplars."""
    out: list[dict[str, Any]] = []
    for top, (scope_key, record_key) in _RECORD_PATHS.items():
        for resource in _as_list(document.get(top)):
            for scope in _as_list(_as_dict(resource).get(scope_key) if isinstance(resource, dict) else None):
                for record in _as_list(_as_dict(scope).get(record_key)):
                    if not isinstance(record, dict):
                        continue
                    if top != "resourceMetrics":
                        out.append(record)
                        out.extend(r for r in _as_list(record.get("links")) if isinstance(r, dict))
                        continue
                    for metric_type in _METRIC_TYPES:
                        data = record.get(metric_type)
                        for point in _as_list(_as_dict(data).get("dataPoints")):
                            if isinstance(point, dict):
                                out.extend(e for e in _as_list(point.get("exemplars")) if isinstance(e, dict))
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(body: bytes, message: Message) -> Message:
    """Fill `message` from an OTLP/JSON body; InvalidDataError says what is wrong."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidDataError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidDataError("request body must be a JSON object")
    for record in _records(document):
        _hex_to_b64(record)
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, binascii.Error, ValueError, TypeError, RecursionError) as exc:
        raise InvalidDataError(f"request body is not valid OTLP/JSON: {exc}") from None
    return message


def to_dict(message: Message) -> dict[str, Any]:
    """The OTLP/JSON document for `message` (hex ids, integer enums, lowerCamelCase)."""
    document = json_format.MessageToDict(message, use_integers_for_enums=True)
    for record in _records(document):
        _b64_to_hex(record)
    return document


def dumps(message: Message) -> bytes:
    return orjson.dumps(to_dict(message))
