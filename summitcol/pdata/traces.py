"""Traces: `ExportTraceServiceRequest` ⇄ one Arrow record batch, a row per span.

Columns carry the contrib ClickHouse exporter's names (`otel_traces`) plus what OTLP needs to
come back unchanged: flags, dropped counts, schema URLs, scope attributes, event and link
details, and the resource/scope indexes (see `context.py`).
"""

from __future__ import annotations

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
            link.span_id, 8, "link span_id", required=True
        )
        if problem:
            return f"span {span.name!r}: {problem}"
        if len(link.attributes) > limits.max_attributes:
            return f"span {span.name!r}: a link has {len(link.attributes)} attributes (limit {limits.max_attributes})"
    for event in span.events:
        if len(event.attributes) > limits.max_attributes:
            return f"span {span.name!r}: an event has {len(event.attributes)} attributes (limit {limits.max_attributes})"
    return None


def traces_from_otlp(
    request: ExportTraceServiceRequest, limits: DecodeLimits = DEFAULT_LIMITS
) -> tuple[pa.RecordBatch, Rejections]:
    """Decode one request into a batch; invalid spans are left out and counted in Rejections."""
    rejections = Rejections()
    context = ContextBuilder(limits)
    resource_index: list[int] = []
    scope_index: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    parent_ids: list[str] = []
    trace_states: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    attributes = AttributesBuilder()
    status_codes: list[str] = []
    status_messages: list[str] = []
    flags: list[int] = []
    dropped_attributes: list[int] = []
    dropped_events: list[int] = []
    dropped_links: list[int] = []
    event_offsets = [0]
    event_times: list[int] = []
    event_names: list[str] = []
    event_attributes = AttributesBuilder()
    event_dropped: list[int] = []
    link_offsets = [0]
    link_trace_ids: list[str] = []
    link_span_ids: list[str] = []
    link_states: list[str] = []
    link_attributes = AttributesBuilder()
    link_flags: list[int] = []
    link_dropped: list[int] = []

    for resource_spans in request.resource_spans:
        r = None
        for scope_spans in resource_spans.scope_spans:
            s = None
            for span in scope_spans.spans:
                if (
                    len(span.trace_id) != 16
                    or len(span.span_id) != 8
                    or len(span.parent_span_id) not in (0, 8)
                    or len(span.attributes) > limits.max_attributes
                    or span.links
                    or span.events
                ):
                    problem = _span_problem(span, limits)  # the slow, thorough check
                    if problem is not None:
                        rejections.add(problem)
                        continue
                if r is None:
                    r = context.add_resource(resource_spans.resource, resource_spans.schema_url)
                if s is None:
                    s = context.add_scope(scope_spans.scope, scope_spans.schema_url)
                resource_index.append(r)
                scope_index.append(s)
                starts.append(span.start_time_unix_nano)
                ends.append(span.end_time_unix_nano)
                trace_ids.append(span.trace_id.hex())
                span_ids.append(span.span_id.hex())
                parent_ids.append(span.parent_span_id.hex())
                trace_states.append(span.trace_state)
                names.append(span.name)
                kind = span.kind
                kinds.append(SPAN_KINDS[kind] if 0 <= kind < 6 else str(kind))
                attributes.add(span.attributes)
                status = span.status
                code = status.code
                status_codes.append(STATUS_CODES[code] if 0 <= code < 3 else str(code))
                status_messages.append(status.message)
                flags.append(span.flags)
                dropped_attributes.append(span.dropped_attributes_count)
                dropped_events.append(span.dropped_events_count)
                dropped_links.append(span.dropped_links_count)
                for event in span.events:
                    event_times.append(event.time_unix_nano)
                    event_names.append(event.name)
                    event_attributes.add(event.attributes)
                    event_dropped.append(event.dropped_attributes_count)
                event_offsets.append(len(event_names))
                for link in span.links:
                    link_trace_ids.append(link.trace_id.hex())
                    link_span_ids.append(link.span_id.hex())
                    link_states.append(link.trace_state)
                    link_attributes.add(link.attributes)
                    link_flags.append(link.flags)
                    link_dropped.append(link.dropped_attributes_count)
                link_offsets.append(len(link_span_ids))

    start_col = pa.array(starts, pa.uint64())
    events = pa.array(event_offsets, pa.int32())
    links = pa.array(link_offsets, pa.int32())
    columns = {
        "Timestamp": start_col.view(pa.int64()).view(TIMESTAMP),
        "TraceId": pa.array(trace_ids, pa.string()),
        "SpanId": pa.array(span_ids, pa.string()),
        "ParentSpanId": pa.array(parent_ids, pa.string()),
        "TraceState": pa.array(trace_states, pa.string()),
        "SpanName": pa.array(names, pa.string()),
        "SpanKind": pa.array(kinds, pa.string()),
        **context.columns(resource_index, scope_index),
        "SpanAttributes": attributes.finish(),
        "Duration": pc.subtract(pa.array(ends, pa.uint64()), start_col),
        "StatusCode": pa.array(status_codes, pa.string()),
        "StatusMessage": pa.array(status_messages, pa.string()),
        "Events.Timestamp": pa.ListArray.from_arrays(events, timestamps(event_times)),
        "Events.Name": pa.ListArray.from_arrays(events, pa.array(event_names, pa.string())),
        "Events.Attributes": pa.ListArray.from_arrays(events, event_attributes.finish()),
        "Events.DroppedAttributesCount": pa.ListArray.from_arrays(events, pa.array(event_dropped, pa.uint32())),
        "Links.TraceId": pa.ListArray.from_arrays(links, pa.array(link_trace_ids, pa.string())),
        "Links.SpanId": pa.ListArray.from_arrays(links, pa.array(link_span_ids, pa.string())),
        "Links.TraceState": pa.ListArray.from_arrays(links, pa.array(link_states, pa.string())),
        "Links.Attributes": pa.ListArray.from_arrays(links, link_attributes.finish()),
        "Links.Flags": pa.ListArray.from_arrays(links, pa.array(link_flags, pa.uint32())),
        "Links.DroppedAttributesCount": pa.ListArray.from_arrays(links, pa.array(link_dropped, pa.uint32())),
        "Flags": pa.array(flags, pa.uint32()),
        "DroppedAttributesCount": pa.array(dropped_attributes, pa.uint32()),
        "DroppedEventsCount": pa.array(dropped_events, pa.uint32()),
        "DroppedLinksCount": pa.array(dropped_links, pa.uint32()),
    }
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
