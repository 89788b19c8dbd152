"""Summit's Arrow batches → the exact columns of contrib's ClickHouse tables.

Whole-column work only: attribute maps become `map<string, string>` by dropping the type child
(no copy); kvlist/array values, the one case where the text differs from contrib's (`AsString()`
writes plain JSON, Summit keeps OTLP/JSON), are rewritten by a per-element fallback that runs only
when such values exist; nullable statistics are filled with 0 as contrib writes them.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.pdata.signal import LOGS, SPANS
from summitcol.pdata.tenant import tenant_ids
from summitcol.pdata.values import ARRAY, ATTRIBUTES, KVLIST, PROJECTED_ATTRIBUTES

_NESTED_TYPES = pa.array([KVLIST, ARRAY], pa.uint8())


def _raw_element(value: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue as the plain value Go's `AsRaw()` gives (for `AsString()`'s JSON)."""
    if not value:
        return None
    (kind, inner), = value.items()
    if kind == "arrayValue":
        return [_raw_element(v) for v in inner.get("values", [])]
    if kind == "kvlistValue":
        return {kv.get("key", ""): _raw_element(kv.get("value", {})) for kv in inner.get("values", [])}
    if kind == "intValue":
        return int(inner)
    return inner


def _plain_json_element(text: str) -> str:
    return orjson.dumps(_raw_element(orjson.loads(text))).decode()


def project_map(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """map<string, struct<type, value>> → map<string, string> with contrib's value text."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    items = column.items
    values = items.field("value")
    nested = pc.is_in(items.field("type"), _NESTED_TYPES)
    if pc.any(nested).as_py():
        texts = values.to_pylist()
        for index in pc.indices_nonzero(nested).to_pylist():
            texts[index] = _plain_json_element(texts[index])
        values = pa.array(texts, pa.string())
    return pa.MapArray.from_arrays(column.offsets, column.keys, values, type=PROJECTED_ATTRIBUTES)


def project_map_list(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """list<map<…typed…>> → list<map<string, string>> (events', links', exemplars' attributes)."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pa.ListArray.from_arrays(column.offsets, project_map(column.values))


def project_body(text: pa.Array, types: pa.Array) -> pa.Array:
    nested = pc.fill_null(pc.is_in(types, _NESTED_TYPES), False)
    if not pc.any(nested).as_py():
        return text
    texts = text.to_pylist()
    for index in pc.indices_nonzero(nested).to_pylist():
        texts[index] = _plain_json_element(texts[index])
    return pa.array(texts, pa.string())


def _narrow(column: pa.Array, type_: pa.DataType) -> pa.Array:
    """Keep the low bits, as a Go uint8(x) conversion does."""
    return pc.cast(pc.bit_wise_and(column, pa.scalar(0xFF, column.type)), type_, safe=False)


def _columns(batch: pa.RecordBatch, names: list[str]) -> dict[str, pa.Array]:
    out: dict[str, pa.Array] = {"TenantId": tenant_ids(batch.column("ResourceAttributes"))}
    schema = batch.schema
    for name in names:
        column = batch.column(name)
        field_type = schema.field(name).type
        if field_type == ATTRIBUTES:
            column = project_map(column)
        elif isinstance(field_type, pa.ListType) and field_type.value_type == ATTRIBUTES:
            column = project_map_list(column)
        out[name] = column
    return out


TRACE_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
    "Events.Timestamp", "Events.Name", "Events.Attributes",
    "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
]
LOG_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "SeverityText", "ServiceName", "ResourceSchemaUrl", "ResourceAttributes",
    "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes", "LogAttributes", "EventName",
]
METRIC_COMMON = [
    "ResourceAttributes", "ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes", "ScopeSchemaUrl",
    "ServiceName", "MetricName", "MetricDescription", "MetricUnit", "Attributes", "StartTimeUnix", "TimeUnix",
    "Exemplars.FilteredAttributes", "Exemplars.TimeUnix", "Exemplars.Value", "Exemplars.SpanId", "Exemplars.TraceId",
    "Flags",
]
METRIC_EXTRA = {
    "gauge": ["Value"],
    "sum": ["Value", "AggregationTemporality", "IsMonotonic"],
    "histogram": ["Count", "Sum", "BucketCounts", "ExplicitBounds", "Min", "Max", "AggregationTemporality"],
    "exponential_histogram": [
        "Count", "Sum", "Scale", "ZeroCount", "PositiveOffset", "PositiveBucketCounts", "NegativeOffset",
        "NegativeBucketCounts", "Min", "Max", "AggregationTemporality",
    ],
    "summary": ["Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value"],
}
_ZERO_WHEN_ABSENT = {"Value", "Sum", "Min", "Max"}


def project_traces(batch: pa.RecordBatch) -> pa.Table:
    return pa.table(_columns(batch, TRACE_COLUMNS))


def project_logs(batch: pa.RecordBatch) -> pa.Table:
    columns = _columns(batch, LOG_COLUMNS)
    columns["TraceFlags"] = _narrow(batch.column("TraceFlags"), pa.uint8())
    columns["SeverityNumber"] = _narrow(batch.column("SeverityNumber"), pa.uint8())
    columns["Body"] = project_body(batch.column("Body"), batch.column("BodyType"))
    return pa.table(columns)


def project_metrics(metric_type: str, batch: pa.RecordBatch) -> pa.Table:
    columns = _columns(batch, METRIC_COMMON + METRIC_EXTRA[metric_type])
    columns["ScopeDroppedAttrCount"] = batch.column("ScopeDroppedAttributesCount")
    for name in _ZERO_WHEN_ABSENT & set(columns):
        columns[name] = pc.fill_null(columns[name], 0.0)
    return pa.table(columns)


def project(table_kind: str, batch: pa.RecordBatch) -> pa.Table:
    """The ClickHouse columns for one of Summit's tables (`spans`, `logs`, or a metric type)."""
    if table_kind == SPANS:
        return project_traces(batch)
    if table_kind == LOGS:
        return project_logs(batch)
    return project_metrics(table_kind, batch)


