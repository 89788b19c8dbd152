"""Logs: `ExportLogsServiceRequest` ⇄ one Arrow record batch, a row per log record.

Columns carry the contrib ClickHouse exporter's names (`otel_logs`); the body is `Body` (its
text form, what ClickHouse stores) plus `BodyType` (see `values.py`) so any AnyValue round-trips.
"""

from __future__ import annotations

import pyarrow as pa
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1 import logs_pb2

from summitcol.pdata.context import (
    INDEX_FIELDS,
    RESOURCE_FIELDS,
    SCOPE_FIELDS,
    ContextBuilder,
    ContextEncoder,
)
from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits, Rejections, check_id
from summitcol.pdata.traces import TIMESTAMP, timestamps, unix_nanos
from summitcol.pdata.values import (
    ATTRIBUTES,
    STRING,
    AttributesBuilder,
    AttributesReader,
    decode_value,
    encode_value,
)

LOGS_SCHEMA = pa.schema(
    [
        pa.field("Timestamp", TIMESTAMP, nullable=False),
        pa.field("ObservedTimestamp", TIMESTAMP, nullable=False),
        pa.field("TraceId", pa.string(), nullable=False),
        pa.field("SpanId", pa.string(), nullable=False),
        pa.field("TraceFlags", pa.uint32(), nullable=False),
        pa.field("SeverityText", pa.string(), nullable=False),
        pa.field("SeverityNumber", pa.int32(), nullable=False),
        pa.field("Body", pa.string(), nullable=False),
        pa.field("BodyType", pa.uint8()),  # null: the record has no body at all
        pa.field("EventName", pa.string(), nullable=False),
        *RESOURCE_FIELDS,
        *SCOPE_FIELDS,
        pa.field("LogAttributes", ATTRIBUTES, nullable=False),
        pa.field("DroppedAttributesCount", pa.uint32(), nullable=False),
        *INDEX_FIELDS,
    ]
)


def _log_problem(record: logs_pb2.LogRecord, limits: DecodeLimits) -> str | None:
    problem = check_id(record.trace_id, 16, "trace_id", required=False) or check_id(
        record.span_id, 8, "span_id", required=False
    )
    if problem:
        return f"log record: {problem}"
    if len(record.attributes) > limits.max_attributes:
        return (
            f"log record has {len(record.attributes)} attributes, more than the limit of "
            f"{limits.max_attributes} (receiver setting max_attributes_per_record)"
        )
    return None


def logs_from_otlp(
    request: ExportLogsServiceRequest, limits: DecodeLimits = DEFAULT_LIMITS
) -> tuple[pa.RecordBatch, Rejections]:
    """Decode one request into a batch; invalid records are left out and counted in Rejections."""
    rejections = Rejections()
    context = ContextBuilder(limits)
    resource_index: list[int] = []
    scope_index: list[int] = []
    times: list[int] = []
    observed: list[int] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    flags: list[int] = []
    severity_texts: list[str] = []
    severity_numbers: list[int] = []
    bodies: list[str] = []
    body_types: list[int | None] = []
    event_names: list[str] = []
    attributes = AttributesBuilder()
    dropped: list[int] = []

    for resource_logs in request.resource_logs:
        r = None
        for scope_logs in resource_logs.scope_logs:
            s = None
            for record in scope_logs.log_records:
                problem = _log_problem(record, limits)
                if problem is not None:
                    rejections.add(problem)
                    continue
                if r is None:
                    r = context.add_resource(resource_logs.resource, resource_logs.schema_url)
                if s is None:
                    s = context.add_scope(scope_logs.scope, scope_logs.schema_url)
                resource_index.append(r)
                scope_index.append(s)
                times.append(record.time_unix_nano)
                observed.append(record.observed_time_unix_nano)
                trace_ids.append(record.trace_id.hex())
                span_ids.append(record.span_id.hex())
                flags.append(record.flags)
                severity_texts.append(record.severity_text)
                severity_numbers.append(record.severity_number)
                body = record.body
                if not record.HasField("body"):
                    body_types.append(None)
                    bodies.append("")
                elif body.WhichOneof("value") == "string_value":
                    body_types.append(STRING)
                    bodies.append(body.string_value)
                else:
                    body_type, text = encode_value(body)
                    body_types.append(body_type)
                    bodies.append(text)
                event_names.append(record.event_name)
                attributes.add(record.attributes)
                dropped.append(record.dropped_attributes_count)

    columns = {
        "Timestamp": timestamps(times),
        "ObservedTimestamp": timestamps(observed),
        "TraceId": pa.array(trace_ids, pa.string()),
        "SpanId": pa.array(span_ids, pa.string()),
        "TraceFlags": pa.array(flags, pa.uint32()),
        "SeverityText": pa.array(severity_texts, pa.string()),
        "SeverityNumber": pa.array(severity_numbers, pa.int32()),
        "Body": pa.array(bodies, pa.string()),
        "BodyType": pa.array(body_types, pa.uint8()),
        "EventName": pa.array(event_names, pa.string()),
        **context.columns(resource_index, scope_index),
        "LogAttributes": attributes.finish(),
        "DroppedAttributesCount": pa.array(dropped, pa.uint32()),
    }
    return pa.RecordBatch.from_arrays([columns[f.name] for f in LOGS_SCHEMA], schema=LOGS_SCHEMA), rejections


def logs_to_otlp(batch: pa.RecordBatch) -> ExportLogsServiceRequest:
    """Rebuild the request a batch came from (resources and scopes as they arrived)."""
    request = ExportLogsServiceRequest()
    if batch.num_rows == 0:
        return request
    context = ContextEncoder(batch, request, "resource_logs", "scope_logs")
    col = batch.column
    times = unix_nanos(col("Timestamp"))
    observed = unix_nanos(col("ObservedTimestamp"))
    trace_ids = col("TraceId").to_pylist()
    span_ids = col("SpanId").to_pylist()
    flags = col("TraceFlags").to_pylist()
    severity_texts = col("SeverityText").to_pylist()
    severity_numbers = col("SeverityNumber").to_pylist()
    bodies = col("Body").to_pylist()
    body_types = col("BodyType").to_pylist()
    event_names = col("EventName").to_pylist()
    attributes = AttributesReader(col("LogAttributes"))
    dropped = col("DroppedAttributesCount").to_pylist()

    for rows, records in context.containers("log_records"):
        for i in rows:
            record = records.add()
            record.time_unix_nano = times[i]
            record.observed_time_unix_nano = observed[i]
            record.severity_number = severity_numbers[i]
            record.severity_text = severity_texts[i]
            if body_types[i] is not None:
                decode_value(body_types[i], bodies[i], record.body)
            attributes.fill(i, record.attributes)
            record.dropped_attributes_count = dropped[i]
            record.flags = flags[i]
            if trace_ids[i]:
                record.trace_id = bytes.fromhex(trace_ids[i])
            if span_ids[i]:
                record.span_id = bytes.fromhex(span_ids[i])
            record.event_name = event_names[i]
    return request
