"""Traces: `ExportTraceServiceRequest` ⇄ one Arrow record batch, a row per span.

Columns carry the contrib ClickHouse exporter's names (`otel_traces`) plus what OTLP needs to
come back unchanged: flags, dropped counts, schema URLs, scope attributes, event and link
details, and the resource/scope indexes (see `context.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1 import trace_pb2

from summitcol.pdata.context import (
    INDEX_FIELDS,
    RESOURCE_FIELDS,
    SCOPE_FIELDS,
    ContextBuilder,
    ContextEncoder,
)
from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits, Rejections, check_id
from summitcol.pdata.values import ATTRIBUTES, AttributesBuilder, AttributesReader, ListReader

TIMESTAMP = pa.timestamp("ns")

# contrib's traceutil.SpanKindStr / StatusCodeStr; unknown enum numbers are kept as their digits.
SPAN_KINDS = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"]
STATUS_CODES = ["Unset", "Ok", "Error"]
_KIND_NUMBERS = {name: i for i, name in enumerate(SPAN_KINDS)}
_STATUS_NUMBERS = {name: i for i, name in enumerate(STATUS_CODES)}

TRACES_SCHEMA = pa.schema(
    [
        pa.field("Timestamp", TIMESTAMP, nullable=False),
        pa.field("TraceId", pa.string(), nullable=False),
        pa.field("SpanId", pa.string(), nullable=False),
        pa.field("ParentSpanId", pa.string(), nullable=False),
        pa.field("TraceState", pa.string(), nullable=False),
        pa.field("SpanName", pa.string(), nullable=False),
        pa.field("SpanKind", pa.string(), nullable=False),
        *RESOURCE_FIELDS,
        *SCOPE_FIELDS,
        pa.field("SpanAttributes", ATTRIBUTES, nullable=False),
        pa.field("Duration", pa.uint64(), nullable=False),
        pa.field("StatusCode", pa.string(), nullable=False),
        pa.field("StatusMessage", pa.string(), nullable=False),
        pa.field("Events.Timestamp", pa.list_(TIMESTAMP), nullable=False),
        pa.field("Events.Name", pa.list_(pa.string()), nullable=False),
        pa.field("Events.Attributes", pa.list_(ATTRIBUTES), nullable=False),
        pa.field("Events.DroppedAttributesCount", pa.list_(pa.uint32()), nullable=False),
        pa.field("Links.TraceId", pa.list_(pa.string()), nullable=False),
        pa.field("Links.SpanId", pa.list_(pa.string()), nullable=False),
        pa.field("Links.TraceState", pa.list_(pa.string()), nullable=False),
        pa.field("Links.Attributes", pa.list_(ATTRIBUTES), nullable=False),
        pa.field("Links.Flags", pa.list_(pa.uint32()), nullable=False),
        pa.field("Links.DroppedAttributesCount", pa.list_(pa.uint32()), nullable=False),
        pa.field("Flags", pa.uint32(), nullable=False),
        pa.field("DroppedAttributesCount", pa.uint32(), nullable=False),
        pa.field("DroppedEventsCount", pa.uint32(), nullable=False),
        pa.field("DroppedLinksCount", pa.uint32(), nullable=False),
        *INDEX_FIELDS,
    ]
)


def timestamps(values: list[int]) -> pa.Array:
    """fixed64 nanoseconds → timestamp[ns], bit-exact also past 2262 (they wrap, and unwrap back)."""
    return pa.array(values, pa.uint64()).view(pa.int64()).view(TIMESTAMP)


def unix_nanos(column: pa.Array) -> list[int]:
    """timestamp[ns] → python ints as OTLP's fixed64."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.view(pa.int64()).view(pa.uint64()).to_pylist()


def _span_problem(span: trace_pb2.Span, limits: DecodeLimits) -> str | None:
    problem = check_id(span.trace_id, 16, "trace_id", required=True) or check_id(
        span.span_id, 8, "span_id", required=True
    ) or check_id(span.parent_span_id, 8, "parent_span_id", required=False)
    if problem:
        return f"span {span.name!r}: {problem}"
    if len(span.attributes) > limits.max_attributes:
        return (
            f"span {span.name!r} has {len(span.attributes)} attributes, more than the limit of "
            f"{limits.max_attributes} (receiver setting max_attributes_per_record)"
        )
    for link in span.links:
        problem = check_id(link.trace_id, 16, "link trace_id", required=True) or check_id(
            link.span_id, 8, "link span_id", required=False  # contrib's githubreceiver links to a trace only
        )
        if problem:
            return f"span {span.name!r}: {problem}"
        if len(link.attributes) > limits.max_attributes:
            return f"span {span.name!r}: a link has {len(link.attributes)} attributes (limit {limits.max_attributes})"
    for event in span.events:
        if len(event.attributes) > limits.max_attributes:
            return f"span {span.name!r}: an event has {len(event.attributes)} attributes (limit {limits.max_attributes})"
    return None


class _EventColumns:
    """The `Events.*` columns: one list per span, built as flat values plus offsets."""

    def __init__(self) -> None:
        self.offsets = [0]
        self.times: list[int] = []
        self.names: list[str] = []
        self.attributes = AttributesBuilder()
        self.dropped: list[int] = []

    def add(self, events: Iterable[trace_pb2.Span.Event]) -> None:
        for event in events:
            self.times.append(event.time_unix_nano)
            self.names.append(event.name)
            self.attributes.add(event.attributes)
            self.dropped.append(event.dropped_attributes_count)
        self.offsets.append(len(self.names))

    def columns(self) -> dict[str, pa.Array]:
        offsets = pa.array(self.offsets, pa.int32())
        return {
            "Events.Timestamp": pa.ListArray.from_arrays(offsets, timestamps(self.times)),
            "Events.Name": pa.ListArray.from_arrays(offsets, pa.array(self.names, pa.string())),
            "Events.Attributes": pa.ListArray.from_arrays(offsets, self.attributes.finish()),
            "Events.DroppedAttributesCount": pa.ListArray.from_arrays(offsets, pa.array(self.dropped, pa.uint32())),
        }


class _LinkColumns:
    """The `Links.*` columns: one list per span, built as flat values plus offsets."""

    def __init__(self) -> None:
        self.offsets = [0]
        self.trace_ids: list[str] = []
        self.span_ids: list[str] = []
        self.states: list[str] = []
        self.attributes = AttributesBuilder()
        self.flags: list[int] = []
        self.dropped: list[int] = []

    def add(self, links: Iterable[trace_pb2.Span.Link]) -> None:
        for link in links:
            self.trace_ids.append(link.trace_id.hex())
            self.span_ids.append(link.span_id.hex())
            self.states.append(link.trace_state)
            self.attributes.add(link.attributes)
            self.flags.append(link.flags)
            self.dropped.append(link.dropped_attributes_count)
        self.offsets.append(len(self.span_ids))

    def columns(self) -> dict[str, pa.Array]:
        offsets = pa.array(self.offsets, pa.int32())
        return {
            "Links.TraceId": pa.ListArray.from_arrays(offsets, pa.array(self.trace_ids, pa.string())),
            "Links.SpanId": pa.ListArray.from_arrays(offsets, pa.array(self.span_ids, pa.string())),
            "Links.TraceState": pa.ListArray.from_arrays(offsets, pa.array(self.states, pa.string())),
            "Links.Attributes": pa.ListArray.from_arrays(offsets, self.attributes.finish()),
            "Links.Flags": pa.ListArray.from_arrays(offsets, pa.array(self.flags, pa.uint32())),
            "Links.DroppedAttributesCount": pa.ListArray.from_arrays(offsets, pa.array(self.dropped, pa.uint32())),
        }


class _SpanColumns:
    """The span's own columns, one value per span (resource and scope by index into the context)."""

    def __init__(self) -> None:
        self.resource_index: list[int] = []
        self.scope_index: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.trace_ids: list[str] = []
        self.span_ids: list[str] = []
        self.parent_ids: list[str] = []
        self.trace_states: list[str] = []
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.attributes = AttributesBuilder()
        self.status_codes: list[str] = []
        self.status_messages: list[str] = []
        self.flags: list[int] = []
        self.dropped_attributes: list[int] = []
        self.dropped_events: list[int] = []
        self.dropped_links: list[int] = []

    def add(self, span: trace_pb2.Span, resource: int, scope: int) -> None:
        self.resource_index.append(resource)
        self.scope_index.append(scope)
        self.starts.append(span.start_time_unix_nano)
        self.ends.append(span.end_time_unix_nano)
        self.trace_ids.append(span.trace_id.hex())
        self.span_ids.append(span.span_id.hex())
        self.parent_ids.append(span.parent_span_id.hex())
        self.trace_states.append(span.trace_state)
        self.names.append(span.name)
        kind = span.kind
        self.kinds.append(SPAN_KINDS[kind] if 0 <= kind < 6 else str(kind))
        self.attributes.add(span.attributes)
        status = span.status
        code = status.code
        self.status_codes.append(STATUS_CODES[code] if 0 <= code < 3 else str(code))
        self.status_messages.append(status.message)
        self.flags.append(span.flags)
        self.dropped_attributes.append(span.dropped_attributes_count)
        self.dropped_events.append(span.dropped_events_count)
        self.dropped_links.append(span.dropped_links_count)

    def columns(self, context: ContextBuilder) -> dict[str, pa.Array]:
        start_col = pa.array(self.starts, pa.uint64())
        return {
            "Timestamp": start_col.view(pa.int64()).view(TIMESTAMP),
            "TraceId": pa.array(self.trace_ids, pa.string()),
            "SpanId": pa.array(self.span_ids, pa.string()),
            "ParentSpanId": pa.array(self.parent_ids, pa.string()),
            "TraceState": pa.array(self.trace_states, pa.string()),
            "SpanName": pa.array(self.names, pa.string()),
            "SpanKind": pa.array(self.kinds, pa.string()),
            **context.columns(self.resource_index, self.scope_index),
            "SpanAttributes": self.attributes.finish(),
            "Duration": pc.subtract(pa.array(self.ends, pa.uint64()), start_col),
            "StatusCode": pa.array(self.status_codes, pa.string()),
            "StatusMessage": pa.array(self.status_messages, pa.string()),
            "Flags": pa.array(self.flags, pa.uint32()),
            "DroppedAttributesCount": pa.array(self.dropped_attributes, pa.uint32()),
            "DroppedEventsCount": pa.array(self.dropped_events, pa.uint32()),
            "DroppedLinksCount": pa.array(self.dropped_links, pa.uint32()),
        }


def _fast_valid(span: trace_pb2.Span, limits: DecodeLimits) -> bool:
    """The common case, checked cheaply: well-sized ids, few attributes, no events or links (those
    take `_span_problem`'s slow, thorough check)."""
    return (
        len(span.trace_id) == 16
        and len(span.span_id) == 8
        and len(span.parent_span_id) in (0, 8)
        and len(span.attributes) <= limits.max_attributes
        and not span.links
        and not span.events
    )


def traces_from_otlp(
    request: ExportTraceServiceRequest, limits: DecodeLimits = DEFAULT_LIMITS
) -> tuple[pa.RecordBatch, Rejections]:
    """Decode one request into a batch; invalid spans are left out and counted in Rejections."""
    rejections = Rejections()
    context = ContextBuilder(limits)
    spans, events, links = _SpanColumns(), _EventColumns(), _LinkColumns()
    for resource_spans in request.resource_spans:
        r = None
        for scope_spans in resource_spans.scope_spans:
            s = None
            for span in scope_spans.spans:
                if not _fast_valid(span, limits) and (problem := _span_problem(span, limits)) is not None:
                    rejections.add(problem)
                    continue
                if r is None:
                    r = context.add_resource(resource_spans.resource, resource_spans.schema_url)
                if s is None:
                    s = context.add_scope(scope_spans.scope, scope_spans.schema_url)
                spans.add(span, r, s)
                events.add(span.events)
                links.add(span.links)
    columns = {**spans.columns(context), **events.columns(), **links.columns()}
    return pa.RecordBatch.from_arrays([columns[f.name] for f in TRACES_SCHEMA], schema=TRACES_SCHEMA), rejections


def traces_to_otlp(batch: pa.RecordBatch) -> ExportTraceServiceRequest:
    """Rebuild the request a batch came from (resources and scopes as they arrived)."""
    request = ExportTraceServiceRequest()
    if batch.num_rows == 0:
        return request
    context = ContextEncoder(batch, request, "resource_spans", "scope_spans")
    col = batch.column
    starts = unix_nanos(col("Timestamp"))
    durations = col("Duration").to_pylist()
    trace_ids = col("TraceId").to_pylist()
    span_ids = col("SpanId").to_pylist()
    parent_ids = col("ParentSpanId").to_pylist()
    trace_states = col("TraceState").to_pylist()
    names = col("SpanName").to_pylist()
    kinds = col("SpanKind").to_pylist()
    attributes = AttributesReader(col("SpanAttributes"))
    status_codes = col("StatusCode").to_pylist()
    status_messages = col("StatusMessage").to_pylist()
    flags = col("Flags").to_pylist()
    dropped_attributes = col("DroppedAttributesCount").to_pylist()
    dropped_events = col("DroppedEventsCount").to_pylist()
    dropped_links = col("DroppedLinksCount").to_pylist()
    events = ListReader(col("Events.Name"))
    event_times = unix_nanos(ListReader(col("Events.Timestamp")).child)
    event_names = events.child.to_pylist()
    event_attributes = AttributesReader(ListReader(col("Events.Attributes")).child)
    event_dropped = ListReader(col("Events.DroppedAttributesCount")).child.to_pylist()
    links = ListReader(col("Links.SpanId"))
    link_trace_ids = ListReader(col("Links.TraceId")).child.to_pylist()
    link_span_ids = links.child.to_pylist()
    link_states = ListReader(col("Links.TraceState")).child.to_pylist()
    link_attributes = AttributesReader(ListReader(col("Links.Attributes")).child)
    link_flags = ListReader(col("Links.Flags")).child.to_pylist()
    link_dropped = ListReader(col("Links.DroppedAttributesCount")).child.to_pylist()
    mask = (1 << 64) - 1

    for rows, spans in context.containers("spans"):
        for i in rows:
            span = spans.add()
            span.trace_id = bytes.fromhex(trace_ids[i])
            span.span_id = bytes.fromhex(span_ids[i])
            if parent_ids[i]:
                span.parent_span_id = bytes.fromhex(parent_ids[i])
            span.trace_state = trace_states[i]
            span.flags = flags[i]
            span.name = names[i]
            kind = kinds[i]
            span.kind = _KIND_NUMBERS[kind] if kind in _KIND_NUMBERS else int(kind)
            span.start_time_unix_nano = starts[i]
            span.end_time_unix_nano = (starts[i] + durations[i]) & mask
            attributes.fill(i, span.attributes)
            span.dropped_attributes_count = dropped_attributes[i]
            span.dropped_events_count = dropped_events[i]
            span.dropped_links_count = dropped_links[i]
            for e in events.rows(i):
                event = span.events.add()
                event.time_unix_nano = event_times[e]
                event.name = event_names[e]
                event_attributes.fill(e, event.attributes)
                event.dropped_attributes_count = event_dropped[e]
            for k in links.rows(i):
                link = span.links.add()
                link.trace_id = bytes.fromhex(link_trace_ids[k])
                link.span_id = bytes.fromhex(link_span_ids[k])
                link.trace_state = link_states[k]
                link_attributes.fill(k, link.attributes)
                link.flags = link_flags[k]
                link.dropped_attributes_count = link_dropped[k]
            code = status_codes[i]
            # SDKs always send a status, Unset included; so does the encoder.
            span.status.code = _STATUS_NUMBERS[code] if code in _STATUS_NUMBERS else int(code)
            span.status.message = status_messages[i]
    return request
