"""OTLP/JSON ⇄ protobuf messages, driven by the message descriptors.

OTLP/JSON is proto3's JSON mapping with one difference that matters: trace and span ids
(`traceId`, `spanId`, `parentSpanId`) are case-insensitive hex, not base64. Keys are
lowerCamelCase (the proto names are accepted too), enums are integers (names are accepted),
64-bit integers are decimal strings (numbers are accepted), unknown fields are ignored.

This replaces `google.protobuf.json_format`, which is ~15x slower: the parser turns a JSON
document into constructor keyword arguments (upb builds the nested messages in C), and the
writer walks `ListFields()` (only the fields that are set, as `MessageToDict` does).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from summitcol.exceptions import InvalidDataError

_ID_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})
# Hex digits of an id, as pdata's TraceID/SpanID UnmarshalJSON read them: exactly 32 (trace) or 16
# (span) digits, or empty for "not set". `bytes.fromhex` alone would accept spaces and any length.
_ID_HEX_DIGITS = {"trace_id": 32, "span_id": 16, "parent_span_id": 16}
_HEX = re.compile(r"[0-9a-fA-F]*")
_INTEGERS = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SINT32,
    }
)
_WIDE_INTEGERS = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_SINT64,
    }
)
_FLOATS = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

Reader = Callable[[FieldDescriptor, Any], Any]


def _is_repeated(field: FieldDescriptor) -> bool:
    """`is_repeated` on protobuf ≥ 6 (where `label` is gone), `label` before."""
    flag = getattr(field, "is_repeated", None)
    return bool(flag) if flag is not None else field.label == FieldDescriptor.LABEL_REPEATED


def _bad(field: FieldDescriptor, value: Any, expected: str) -> InvalidDataError:
    shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
    return InvalidDataError(f"{field.containing_type.name}.{field.json_name}: expected {expected}, got {shown}")


def _read_int(field: FieldDescriptor, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _bad(field, value, "an integer")


def _read_float(field: FieldDescriptor, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise _bad(field, value, "a number")


def _read_bool(field: FieldDescriptor, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _bad(field, value, "true or false")


def _read_string(field: FieldDescriptor, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _bad(field, value, "a string")


def _read_bytes(field: FieldDescriptor, value: Any) -> bytes:
    if not isinstance(value, str):
        raise _bad(field, value, "a string")
    if field.name in _ID_FIELDS:
        return _read_id(field, value)
    try:
        # validate=True: characters outside the alphabet are an error, not silently skipped.
        altchars = b"-_" if ("-" in value or "_" in value) else None
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=altchars, validate=True)
    except (ValueError, binascii.Error):
        raise _bad(field, value, "base64") from None


def _read_id(field: FieldDescriptor, value: str) -> bytes:
    """A trace or span id: `digits` hex digits (either case) or "" (not set), nothing else."""
    digits = _ID_HEX_DIGITS[field.name]
    if value and (len(value) != digits or not _HEX.fullmatch(value)):
        raise _bad(field, value, f"{digits} hex digits (OTLP/JSON ids are hex strings)")
    return bytes.fromhex(value)


def _read_enum(field: FieldDescriptor, value: Any) -> int:
    if isinstance(value, str) and value in field.enum_type.values_by_name:
        return field.enum_type.values_by_name[value].number
    return _read_int(field, value)


def _read_message(field: FieldDescriptor, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(field, value, "an object")
    return _kwargs(field.message_type, value)


def _reader(field: FieldDescriptor) -> Reader:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _read_message
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _read_enum
    if field.type in _INTEGERS:
        return _read_int
    if field.type in _FLOATS:
        return _read_float
    if field.type == FieldDescriptor.TYPE_BOOL:
        return _read_bool
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _read_bytes
    return _read_string


_PLANS: dict[str, dict[str, tuple[FieldDescriptor, Reader, bool]]] = {}


def _plan(descriptor: Descriptor) -> dict[str, tuple[FieldDescriptor, Reader, bool]]:
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        plan = {}
        for field in descriptor.fields:
            entry = (field, _reader(field), _is_repeated(field))
            plan[field.json_name] = entry
            plan[field.name] = entry
        _PLANS[descriptor.full_name] = plan
    return plan


def _kwargs(descriptor: Descriptor, document: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(descriptor)
    out: dict[str, Any] = {}
    for key, value in document.items():
        entry = plan.get(key)
        if entry is None or value is None:
            continue  # unknown fields MUST be ignored; null means the default
        field, read, repeated = entry
        if repeated:
            if not isinstance(value, list):
                raise _bad(field, value, "a list")
            out[field.name] = [read(field, item) for item in value]
        else:
            out[field.name] = read(field, value)
    return out


def from_dict(document: Any, message_type: type[Message]) -> Message:
    """Build a message from a parsed OTLP/JSON document; InvalidDataError says what is wrong."""
    if not isinstance(document, dict):
        raise InvalidDataError("request body must be a JSON object")
    try:
        return message_type(**_kwargs(message_type.DESCRIPTOR, document))
    except InvalidDataError as exc:
        raise InvalidDataError(f"request body is not valid OTLP/JSON: {exc}") from None
    except RecursionError:
        raise InvalidDataError("OTLP/JSON body is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(f"request body is not valid OTLP/JSON: {exc}") from None


def parse(body: bytes, message: Message) -> Message:
    """Fill `message` from an OTLP/JSON body; InvalidDataError says what is wrong."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidDataError(f"request body is not valid JSON: {exc}") from None
    message.CopyFrom(from_dict(document, type(message)))
    return message


def _write_value(field: FieldDescriptor, value: Any) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        return to_dict(value)
    if kind in _WIDE_INTEGERS:
        return str(value)
    if kind in _FLOATS:
        if math.isfinite(value):
            return value
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if kind == FieldDescriptor.TYPE_BYTES:
        return value.hex() if field.name in _ID_FIELDS else base64.b64encode(value).decode("ascii")
    return value


def to_dict(message: Message) -> dict[str, Any]:
    """The OTLP/JSON document for `message` (hex ids, integer enums, lowerCamelCase)."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        if _is_repeated(field):
            out[field.json_name] = [_write_value(field, item) for item in value]
        else:
            out[field.json_name] = _write_value(field, value)
    return out


def dumps(message: Message) -> bytes:
    return orjson.dumps(to_dict(message))
