"""The compiled decoders: OTLP protobuf bytes → the `TRACES_SCHEMA` / `LOGS_SCHEMA` batch, via
`_otlp.c`.

The C extension reads the wire format into column buffers with the GIL released; this module
wraps the buffers into Arrow arrays without copying and assembles exactly the batch
`traces.traces_from_otlp` / `logs.logs_from_otlp` makes (differential tests hold them equal).
Rejected records come back as byte ranges and are worded by the Python checks. When the extension is not built, or the bytes
are malformed (the protobuf library then words the error), callers use the Python path. So do
requests that carry a singular message twice (a resource, a scope, a log body, a `KeyValue.value`):
protobuf merges the copies, and the Python path is where that is done. Arrays and kvlists are
converted by `values.encode_value`, which also holds them to `MAX_ANYVALUE_DEPTH`.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from summitcol.exceptions import InvalidDataError
from summitcol.pdata.decoded import MAX_REASONS, DecodeLimits, Rejections, check_record_count
from summitcol.pdata.expansion import replicate
from summitcol.pdata.logs import LOGS_SCHEMA, _log_problem
from summitcol.pdata.traces import SPAN_KINDS, STATUS_CODES, TIMESTAMP, TRACES_SCHEMA, _span_problem
from summitcol.pdata.values import ATTRIBUTES, DOUBLE, TOO_DEEP, VALUE_TYPE, encode_value, format_double

try:
    from summitcol.pdata import _otlp
except ImportError:  # not built: the Python decoder is used
    _otlp = None

AVAILABLE = _otlp is not None


def _fallback(kind: int, payload: bytes) -> tuple[int, str]:
    """Values the C side does not render: 0 = an AnyValue (array/kvlist), 1 = a double's bytes."""
    if kind == 1:
        return DOUBLE, format_double(struct.unpack("<d", payload)[0])
    try:
        value = AnyValue.FromString(payload)
    except DecodeError as exc:
        if "MaxDepth" in str(exc):  # protobuf's own limit (100 messages) lies past ours
            raise InvalidDataError(TOO_DEEP) from None
        raise  # e.g. invalid UTF-8 inside: `_decode` lets the Python path word it
    return encode_value(value)


def _decode(decode, body: bytes, limits: DecodeLimits) -> dict | None:  # type: ignore[no-untyped-def, type-arg]
    """The C decoder's buffers; None when protobuf should word what is wrong with the bytes."""
    try:
        return decode(body, limits.max_attributes, _fallback, limits.max_column_bytes)  # type: ignore[no-any-return]
    except DecodeError:
        return None
    except ValueError as exc:  # refused by the C side itself (a column past the Arrow offset limit)
        raise InvalidDataError(str(exc)) from None


def _check_size(body: bytes, limits: DecodeLimits, items: str) -> None:
    """Refuse a request of more than `max_records` records before decoding any (a tag scan takes a
    few milliseconds where decoding a million records took ~150 ms, all the while holding a decode
    slot other clients wait for). Malformed bytes are left to the decoder to word."""
    assert _otlp is not None
    count = _otlp.count_records(body)
    if count >= 0:
        check_record_count(count, limits, items)


def _buffer(data: bytes) -> pa.Buffer:
    return pa.py_buffer(data)


def _strings(parts: tuple[bytes, bytes], n: int) -> pa.Array:
    offsets, data = parts
    return pa.Array.from_buffers(pa.string(), n, [None, _buffer(offsets), _buffer(data)])


def _hex(data: bytes, n: int, width: int) -> pa.Array:
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), _buffer(data)])


def _numbers(data: bytes, type_: pa.DataType, n: int) -> pa.Array:
    return pa.Array.from_buffers(type_, n, [None, _buffer(data)])


def _attributes(parts: tuple, rows: int) -> pa.MapArray:  # type: ignore[type-arg]
    row_offsets, key_offsets, key_data, types, values = parts
    entries = len(types)
    keys = pa.Array.from_buffers(pa.string(), entries, [None, _buffer(key_offsets), _buffer(key_data)])
    items = pa.StructArray.from_arrays(
        [_numbers(types, pa.uint8(), entries), _strings(values, entries)], fields=list(VALUE_TYPE)
    )
    return pa.MapArray.from_arrays(_numbers(row_offsets, pa.int32(), rows + 1), keys, items, type=ATTRIBUTES)


def _enum_names(codes: bytes, n: int, names: list[str]) -> pa.Array:
    values = np.frombuffer(codes, dtype=np.int32, count=n)
    if n == 0 or (values.min() >= 0 and values.max() < len(names)):
        return pc.take(pa.array(names, pa.string()), pa.array(values))
    return pa.array([names[v] if 0 <= v < len(names) else str(v) for v in values.tolist()], pa.string())


def _timestamps(data: bytes, n: int) -> pa.Array:
    return _numbers(data, pa.int64(), n).view(TIMESTAMP)


def _containers(out: dict, r: pa.Array, s: pa.Array, limits: DecodeLimits) -> dict[str, pa.Array]:  # type: ignore[type-arg]
    """Resource and scope columns, replicated per record (as `ContextBuilder.columns`), once
    admission has granted the memory they take."""
    resources, scopes = out["resources"], out["scopes"]
    per_resource = {
        "ResourceAttributes": _attributes(out["res_attrs"], resources),
        "ResourceSchemaUrl": _strings(out["res_schema"], resources),
        "ResourceDroppedAttributesCount": _numbers(out["res_dropped"], pa.uint32(), resources),
        "ServiceName": _strings(out["service"], resources),
    }
    per_scope = {
        "ScopeName": _strings(out["scope_name"], scopes),
        "ScopeVersion": _strings(out["scope_version"], scopes),
        "ScopeAttributes": _attributes(out["scope_attrs"], scopes),
        "ScopeDroppedAttributesCount": _numbers(out["scope_dropped"], pa.uint32(), scopes),
        "ScopeSchemaUrl": _strings(out["scope_schema"], scopes),
    }
    return {**replicate(limits, (per_resource, r), (per_scope, s)), "ResourceIndex": r, "ScopeIndex": s}


def _rejections(body: bytes, ranges: bytes, message_type, request_type, problem, limits: DecodeLimits) -> Rejections | None:  # type: ignore[no-untyped-def]
    """The rejected records' count and the first few reasons. Only the records whose reason is
    kept are parsed one by one: wording all of them (1,000,000 spans without ids in a 2 MB
    request) took ~10 s of Python holding the GIL; the others are checked for DecodeError by one
    parse of the whole request in C."""
    rejections = Rejections()
    pairs = np.frombuffer(ranges, dtype=np.int64).reshape(-1, 2)
    for start, end in pairs[:MAX_REASONS].tolist():
        try:
            record = message_type.FromString(body[start:end])
        except DecodeError:
            return None  # e.g. invalid UTF-8 inside a rejected record: the whole request is invalid
        rejections.add(problem(record, limits) or "invalid record")
    if len(pairs) > MAX_REASONS:
        try:
            request_type.FromString(body)
        except DecodeError:
            return None
        rejections.count += len(pairs) - MAX_REASONS
    return rejections


def logs_from_wire(body: bytes, limits: DecodeLimits) -> tuple[pa.RecordBatch, Rejections] | None:
    """The batch and rejections for a protobuf logs request; None when the bytes are malformed."""
    assert _otlp is not None
    _check_size(body, limits, "log records")
    out = _decode(_otlp.decode_logs, body, limits)
    if out is None:
        return None
    rejections = _rejections(body, out["rejected"], logs_pb2.LogRecord, ExportLogsServiceRequest, _log_problem, limits)
    if rejections is None:
        return None
    n = out["n"]
    present = pa.array(np.frombuffer(out["body_present"], dtype=np.uint8).astype(bool))
    columns = {
        "Timestamp": _timestamps(out["time"], n),
        "ObservedTimestamp": _timestamps(out["observed"], n),
        "TraceId": _strings(out["trace_id"], n),
        "SpanId": _strings(out["span_id"], n),
        "TraceFlags": _numbers(out["flags"], pa.uint32(), n),
        "SeverityText": _strings(out["severity_text"], n),
        "SeverityNumber": _numbers(out["severity_number"], pa.int32(), n),
        "Body": _strings(out["body"], n),
        "BodyType": pc.if_else(present, _numbers(out["body_types"], pa.uint8(), n), pa.scalar(None, pa.uint8())),
        "EventName": _strings(out["event_name"], n),
        **_containers(out, _numbers(out["resource_idx"], pa.uint32(), n), _numbers(out["scope_idx"], pa.uint32(), n), limits),
        "LogAttributes": _attributes(out["attrs"], n),
        "DroppedAttributesCount": _numbers(out["dropped"], pa.uint32(), n),
    }
    return pa.RecordBatch.from_arrays([columns[f.name] for f in LOGS_SCHEMA], schema=LOGS_SCHEMA), rejections


def traces_from_wire(body: bytes, limits: DecodeLimits) -> tuple[pa.RecordBatch, Rejections] | None:
    """The batch and rejections for a protobuf request body; None when the bytes are malformed."""
    assert _otlp is not None
    _check_size(body, limits, "spans")
    out = _decode(_otlp.decode_traces, body, limits)
    if out is None:
        return None
    n, events, links = out["n"], out["events"], out["links"]
    rejections = _rejections(body, out["rejected"], trace_pb2.Span, ExportTraceServiceRequest, _span_problem, limits)
    if rejections is None:
        return None
    r = _numbers(out["resource_idx"], pa.uint32(), n)
    s = _numbers(out["scope_idx"], pa.uint32(), n)
    start = _numbers(out["start"], pa.uint64(), n)
    event_offsets = _numbers(out["event_offsets"], pa.int32(), n + 1)
    link_offsets = _numbers(out["link_offsets"], pa.int32(), n + 1)

    def event_list(values: pa.Array) -> pa.Array:
        return pa.ListArray.from_arrays(event_offsets, values)

    def link_list(values: pa.Array) -> pa.Array:
        return pa.ListArray.from_arrays(link_offsets, values)

    columns = {
        "Timestamp": start.view(pa.int64()).view(TIMESTAMP),
        "TraceId": _hex(out["trace_id"], n, 32),
        "SpanId": _hex(out["span_id"], n, 16),
        "ParentSpanId": _strings(out["parent_id"], n),
        "TraceState": _strings(out["trace_state"], n),
        "SpanName": _strings(out["name"], n),
        "SpanKind": _enum_names(out["kind"], n, SPAN_KINDS),
        **_containers(out, r, s, limits),
        "SpanAttributes": _attributes(out["attrs"], n),
        "Duration": pc.subtract(_numbers(out["end"], pa.uint64(), n), start),
        "StatusCode": _enum_names(out["status_code"], n, STATUS_CODES),
        "StatusMessage": _strings(out["status_message"], n),
        "Events.Timestamp": event_list(_timestamps(out["event_time"], events)),
        "Events.Name": event_list(_strings(out["event_name"], events)),
        "Events.Attributes": event_list(_attributes(out["event_attrs"], events)),
        "Events.DroppedAttributesCount": event_list(_numbers(out["event_dropped"], pa.uint32(), events)),
        "Links.TraceId": link_list(_hex(out["link_trace_id"], links, 32)),
        "Links.SpanId": link_list(_strings(out["link_span_id"], links)),
        "Links.TraceState": link_list(_strings(out["link_state"], links)),
        "Links.Attributes": link_list(_attributes(out["link_attrs"], links)),
        "Links.Flags": link_list(_numbers(out["link_flags"], pa.uint32(), links)),
        "Links.DroppedAttributesCount": link_list(_numbers(out["link_dropped"], pa.uint32(), links)),
        "Flags": _numbers(out["flags"], pa.uint32(), n),
        "DroppedAttributesCount": _numbers(out["dropped_attrs"], pa.uint32(), n),
        "DroppedEventsCount": _numbers(out["dropped_events"], pa.uint32(), n),
        "DroppedLinksCount": _numbers(out["dropped_links"], pa.uint32(), n),
    }
    return pa.RecordBatch.from_arrays([columns[f.name] for f in TRACES_SCHEMA], schema=TRACES_SCHEMA), rejections
