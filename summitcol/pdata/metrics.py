"""Metrics: `ExportMetricsServiceRequest` ⇄ one Arrow record batch per metric type.

A row per data point, in tables named like contrib's ClickHouse exporter (`otel_metrics_gauge`,
`_sum`, `_histogram`, `_exponential_histogram`, `_summary`) with its column names. Metric-level
fields (name, description, unit, metadata, temporality, monotonicity) repeat on each point;
`MetricIndex` numbers the metrics of a request across all tables so the encoder restores their
order. Integer points keep their exact value in `ValueInt` (null for doubles); `Value` is the
Float64 ClickHouse stores. A metric without data points carries no telemetry and is not kept.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from summitcol.pdata.context import (
    INDEX_FIELDS,
    RESOURCE_FIELDS,
    SCOPE_FIELDS,
    ContextBuilder,
    ContextEncoder,
)
from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits, Rejections, check_id
from summitcol.pdata.traces import TIMESTAMP, timestamps, unix_nanos
from summitcol.pdata.values import ATTRIBUTES, AttributesBuilder, AttributesReader, ListReader

GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY = (
    "gauge",
    "sum",
    "histogram",
    "exponential_histogram",
    "summary",
)
METRIC_TYPES = (GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY)

_COMMON_FIELDS = [
    *RESOURCE_FIELDS,
    *SCOPE_FIELDS,
    pa.field("MetricName", pa.string(), nullable=False),
    pa.field("MetricDescription", pa.string(), nullable=False),
    pa.field("MetricUnit", pa.string(), nullable=False),
    pa.field("MetricMetadata", ATTRIBUTES, nullable=False),
    pa.field("Attributes", ATTRIBUTES, nullable=False),
    pa.field("StartTimeUnix", TIMESTAMP, nullable=False),
    pa.field("TimeUnix", TIMESTAMP, nullable=False),
    pa.field("Flags", pa.uint32(), nullable=False),
    pa.field("Exemplars.FilteredAttributes", pa.list_(ATTRIBUTES), nullable=False),
    pa.field("Exemplars.TimeUnix", pa.list_(TIMESTAMP), nullable=False),
    pa.field("Exemplars.Value", pa.list_(pa.float64()), nullable=False),
    pa.field("Exemplars.ValueInt", pa.list_(pa.int64()), nullable=False),
    pa.field("Exemplars.SpanId", pa.list_(pa.string()), nullable=False),
    pa.field("Exemplars.TraceId", pa.list_(pa.string()), nullable=False),
    *INDEX_FIELDS,
    pa.field("MetricIndex", pa.uint32(), nullable=False),
]
_NUMBER = [pa.field("Value", pa.float64()), pa.field("ValueInt", pa.int64())]
_TEMPORALITY = pa.field("AggregationTemporality", pa.int32(), nullable=False)
_OPTIONAL_STATS = [pa.field("Sum", pa.float64()), pa.field("Min", pa.float64()), pa.field("Max", pa.float64())]
_BUCKETS = pa.list_(pa.uint64())

METRICS_SCHEMAS: dict[str, pa.Schema] = {
    GAUGE: pa.schema([*_COMMON_FIELDS, *_NUMBER]),
    SUM: pa.schema(
        [*_COMMON_FIELDS, *_NUMBER, _TEMPORALITY, pa.field("IsMonotonic", pa.bool_(), nullable=False)]
    ),
    HISTOGRAM: pa.schema(
        [
            *_COMMON_FIELDS,
            pa.field("Count", pa.uint64(), nullable=False),
            *_OPTIONAL_STATS,
            pa.field("BucketCounts", _BUCKETS, nullable=False),
            pa.field("ExplicitBounds", pa.list_(pa.float64()), nullable=False),
            _TEMPORALITY,
        ]
    ),
    EXPONENTIAL_HISTOGRAM: pa.schema(
        [
            *_COMMON_FIELDS,
            pa.field("Count", pa.uint64(), nullable=False),
            *_OPTIONAL_STATS,
            pa.field("Scale", pa.int32(), nullable=False),
            pa.field("ZeroCount", pa.uint64(), nullable=False),
            pa.field("ZeroThreshold", pa.float64(), nullable=False),
            pa.field("PositiveOffset", pa.int32(), nullable=False),
            pa.field("PositiveBucketCounts", _BUCKETS, nullable=False),
            pa.field("NegativeOffset", pa.int32(), nullable=False),
            pa.field("NegativeBucketCounts", _BUCKETS, nullable=False),
            _TEMPORALITY,
        ]
    ),
    SUMMARY: pa.schema(
        [
            *_COMMON_FIELDS,
            pa.field("Count", pa.uint64(), nullable=False),
            pa.field("Sum", pa.float64(), nullable=False),
            pa.field("ValueAtQuantiles.Quantile", pa.list_(pa.float64()), nullable=False),
            pa.field("ValueAtQuantiles.Value", pa.list_(pa.float64()), nullable=False),
        ]
    ),
}


def _list(offsets: list[int], values: list[Any], type_: pa.DataType) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, type_))


class _PointTable:
    """Columns of one metric type's table while decoding."""

    def __init__(self, metric_type: str) -> None:
        self.metric_type = metric_type
        self.resource_index: list[int] = []
        self.scope_index: list[int] = []
        self.metric_index: list[int] = []
        self.names: list[str] = []
        self.descriptions: list[str] = []
        self.units: list[str] = []
        self.metadata = AttributesBuilder()
        self.attributes = AttributesBuilder()
        self.starts: list[int] = []
        self.times: list[int] = []
        self.flags: list[int] = []
        self.exemplar_offsets = [0]
        self.exemplar_attributes = AttributesBuilder()
        self.exemplar_times: list[int] = []
        self.exemplar_values: list[float | None] = []
        self.exemplar_ints: list[int | None] = []
        self.exemplar_span_ids: list[str] = []
        self.exemplar_trace_ids: list[str] = []
        self.extra: dict[str, list[Any]] = {}

    def add_point(self, r: int, s: int, m: int, metric: Any, point: Any) -> None:
        self.resource_index.append(r)
        self.scope_index.append(s)
        self.metric_index.append(m)
        self.names.append(metric.name)
        self.descriptions.append(metric.description)
        self.units.append(metric.unit)
        self.metadata.add(metric.metadata)
        self.attributes.add(point.attributes)
        self.starts.append(point.start_time_unix_nano)
        self.times.append(point.time_unix_nano)
        self.flags.append(point.flags)
        if self.metric_type != SUMMARY:
            for exemplar in point.exemplars:
                self.exemplar_attributes.add(exemplar.filtered_attributes)
                self.exemplar_times.append(exemplar.time_unix_nano)
                if exemplar.WhichOneof("value") == "as_int":
                    self.exemplar_values.append(float(exemplar.as_int))
                    self.exemplar_ints.append(exemplar.as_int)
                else:
                    self.exemplar_values.append(exemplar.as_double)
                    self.exemplar_ints.append(None)
                self.exemplar_span_ids.append(exemplar.span_id.hex())
                self.exemplar_trace_ids.append(exemplar.trace_id.hex())
        self.exemplar_offsets.append(len(self.exemplar_times))

    def put(self, name: str, value: Any) -> None:
        self.extra.setdefault(name, []).append(value)

    def finish(self, context: ContextBuilder) -> pa.RecordBatch:
        schema = METRICS_SCHEMAS[self.metric_type]
        ex = self.exemplar_offsets
        columns: dict[str, pa.Array] = {
            **context.columns(self.resource_index, self.scope_index),
            "MetricIndex": pa.array(self.metric_index, pa.uint32()),
            "MetricName": pa.array(self.names, pa.string()),
            "MetricDescription": pa.array(self.descriptions, pa.string()),
            "MetricUnit": pa.array(self.units, pa.string()),
            "MetricMetadata": self.metadata.finish(),
            "Attributes": self.attributes.finish(),
            "StartTimeUnix": timestamps(self.starts),
            "TimeUnix": timestamps(self.times),
            "Flags": pa.array(self.flags, pa.uint32()),
            "Exemplars.FilteredAttributes": pa.ListArray.from_arrays(
                pa.array(ex, pa.int32()), self.exemplar_attributes.finish()
            ),
            "Exemplars.TimeUnix": pa.ListArray.from_arrays(pa.array(ex, pa.int32()), timestamps(self.exemplar_times)),
            "Exemplars.Value": _list(ex, self.exemplar_values, pa.float64()),
            "Exemplars.ValueInt": _list(ex, self.exemplar_ints, pa.int64()),
            "Exemplars.SpanId": _list(ex, self.exemplar_span_ids, pa.string()),
            "Exemplars.TraceId": _list(ex, self.exemplar_trace_ids, pa.string()),
        }
        for field in schema:
            if field.name not in columns:
                values = self.extra.get(field.name, [])
                if isinstance(field.type, pa.ListType):
                    offsets = [0]
                    flat: list[Any] = []
                    for item in values:
                        flat.extend(item)
                        offsets.append(len(flat))
                    columns[field.name] = _list(offsets, flat, field.type.value_type)
                else:
                    columns[field.name] = pa.array(values, field.type)
        return pa.RecordBatch.from_arrays([columns[f.name] for f in schema], schema=schema)


def _point_problem(point: Any, limits: DecodeLimits) -> str | None:
    if len(point.attributes) > limits.max_attributes:
        return (
            f"data point has {len(point.attributes)} attributes, more than the limit of "
            f"{limits.max_attributes} (receiver setting max_attributes_per_record)"
        )
    for exemplar in getattr(point, "exemplars", ()):
        problem = check_id(exemplar.trace_id, 16, "exemplar trace_id", required=False) or check_id(
            exemplar.span_id, 8, "exemplar span_id", required=False
        )
        if problem:
            return problem
    return None


def _optional(point: Any, name: str) -> float | None:
    return getattr(point, name) if point.HasField(name) else None


def metrics_from_otlp(
    request: ExportMetricsServiceRequest, limits: DecodeLimits = DEFAULT_LIMITS
) -> tuple[dict[str, pa.RecordBatch], Rejections]:
    """Decode one request into a batch per metric type present; invalid points are counted."""
    rejections = Rejections()
    context = ContextBuilder(limits)
    tables: dict[str, _PointTable] = {}
    metric_counter = 0

    for resource_metrics in request.resource_metrics:
        r = None
        for scope_metrics in resource_metrics.scope_metrics:
            s = None
            for metric in scope_metrics.metrics:
                metric_type = metric.WhichOneof("data")
                if metric_type is None:
                    continue
                data = getattr(metric, metric_type)
                m = None
                for point in data.data_points:
                    problem = _point_problem(point, limits)
                    if problem is not None:
                        rejections.add(f"metric {metric.name!r}: {problem}")
                        continue
                    if r is None:
                        r = context.add_resource(resource_metrics.resource, resource_metrics.schema_url)
                    if s is None:
                        s = context.add_scope(scope_metrics.scope, scope_metrics.schema_url)
                    if m is None:
                        m = metric_counter
                        metric_counter += 1
                    table = tables.get(metric_type)
                    if table is None:
                        table = tables[metric_type] = _PointTable(metric_type)
                    table.add_point(r, s, m, metric, point)
                    _add_type_fields(table, metric_type, data, point)
    return {name: tables[name].finish(context) for name in METRIC_TYPES if name in tables}, rejections


def _add_type_fields(table: _PointTable, metric_type: str, data: Any, point: Any) -> None:
    put = table.put
    if metric_type in (GAUGE, SUM):
        which = point.WhichOneof("value")
        if which == "as_int":
            put("Value", float(point.as_int))
            put("ValueInt", point.as_int)
        else:
            put("Value", point.as_double if which else None)
            put("ValueInt", None)
        if metric_type == SUM:
            put("AggregationTemporality", data.aggregation_temporality)
            put("IsMonotonic", data.is_monotonic)
        return
    put("Count", point.count)
    if metric_type == SUMMARY:
        put("Sum", point.sum)
        put("ValueAtQuantiles.Quantile", [q.quantile for q in point.quantile_values])
        put("ValueAtQuantiles.Value", [q.value for q in point.quantile_values])
        return
    put("Sum", _optional(point, "sum"))
    put("Min", _optional(point, "min"))
    put("Max", _optional(point, "max"))
    put("AggregationTemporality", data.aggregation_temporality)
    if metric_type == HISTOGRAM:
        put("BucketCounts", list(point.bucket_counts))
        put("ExplicitBounds", list(point.explicit_bounds))
        return
    put("Scale", point.scale)
    put("ZeroCount", point.zero_count)
    put("ZeroThreshold", point.zero_threshold)
    put("PositiveOffset", point.positive.offset)
    put("PositiveBucketCounts", list(point.positive.bucket_counts))
    put("NegativeOffset", point.negative.offset)
    put("NegativeBucketCounts", list(point.negative.bucket_counts))


class _TableReader:
    """Python lists of one table's columns, read once for encoding."""

    def __init__(self, metric_type: str, batch: pa.RecordBatch, request: Any) -> None:
        self.metric_type = metric_type
        self.context = ContextEncoder(batch, request, "resource_metrics", "scope_metrics")
        col = batch.column
        self.metric_index = col("MetricIndex").to_pylist()
        self.names = col("MetricName").to_pylist()
        self.descriptions = col("MetricDescription").to_pylist()
        self.units = col("MetricUnit").to_pylist()
        self.metadata = AttributesReader(col("MetricMetadata"))
        self.attributes = AttributesReader(col("Attributes"))
        self.starts = unix_nanos(col("StartTimeUnix"))
        self.times = unix_nanos(col("TimeUnix"))
        self.flags = col("Flags").to_pylist()
        self.exemplars = ListReader(col("Exemplars.TimeUnix"))
        self.exemplar_times = unix_nanos(self.exemplars.child)
        self.exemplar_attributes = AttributesReader(ListReader(col("Exemplars.FilteredAttributes")).child)
        self.exemplar_values = ListReader(col("Exemplars.Value")).child.to_pylist()
        self.exemplar_ints = ListReader(col("Exemplars.ValueInt")).child.to_pylist()
        self.exemplar_span_ids = ListReader(col("Exemplars.SpanId")).child.to_pylist()
        self.exemplar_trace_ids = ListReader(col("Exemplars.TraceId")).child.to_pylist()
        self.columns: dict[str, list[Any]] = {}
        self.lists: dict[str, ListReader] = {}
        for field in batch.schema:
            if field.name in _COMMON_NAMES:
                continue
            if isinstance(field.type, pa.ListType) and not field.name.startswith("Exemplars."):
                reader = ListReader(col(field.name))
                self.lists[field.name] = reader
                self.columns[field.name] = reader.child.to_pylist()
            else:
                self.columns[field.name] = col(field.name).to_pylist()

    def list_at(self, name: str, row: int) -> list[Any]:
        values = self.columns[name]
        return [values[i] for i in self.lists[name].rows(row)]

    def fill_point(self, row: int, point: Any) -> None:
        self.attributes.fill(row, point.attributes)
        point.start_time_unix_nano = self.starts[row]
        point.time_unix_nano = self.times[row]
        point.flags = self.flags[row]
        for e in self.exemplars.rows(row):
            exemplar = point.exemplars.add()
            self.exemplar_attributes.fill(e, exemplar.filtered_attributes)
            exemplar.time_unix_nano = self.exemplar_times[e]
            if self.exemplar_ints[e] is not None:
                exemplar.as_int = self.exemplar_ints[e]
            else:
                exemplar.as_double = self.exemplar_values[e]
            if self.exemplar_span_ids[e]:
                exemplar.span_id = bytes.fromhex(self.exemplar_span_ids[e])
            if self.exemplar_trace_ids[e]:
                exemplar.trace_id = bytes.fromhex(self.exemplar_trace_ids[e])
        c = self.columns
        t = self.metric_type
        if t in (GAUGE, SUM):
            if c["ValueInt"][row] is not None:
                point.as_int = c["ValueInt"][row]
            elif c["Value"][row] is not None:
                point.as_double = c["Value"][row]
            return
        point.count = c["Count"][row]
        if t == SUMMARY:
            point.sum = c["Sum"][row]
            for q, v in zip(self.list_at("ValueAtQuantiles.Quantile", row), self.list_at("ValueAtQuantiles.Value", row), strict=True):
                quantile = point.quantile_values.add()
                quantile.quantile = q
                quantile.value = v
            return
        for name in ("Sum", "Min", "Max"):
            if c[name][row] is not None:
                setattr(point, name.lower(), c[name][row])
        if t == HISTOGRAM:
            point.bucket_counts.extend(self.list_at("BucketCounts", row))
            point.explicit_bounds.extend(self.list_at("ExplicitBounds", row))
            return
        point.scale = c["Scale"][row]
        point.zero_count = c["ZeroCount"][row]
        point.zero_threshold = c["ZeroThreshold"][row]
        point.positive.offset = c["PositiveOffset"][row]
        point.positive.bucket_counts.extend(self.list_at("PositiveBucketCounts", row))
        point.negative.offset = c["NegativeOffset"][row]
        point.negative.bucket_counts.extend(self.list_at("NegativeBucketCounts", row))

    def fill_metric(self, row: int, metric: Any) -> Any:
        metric.name = self.names[row]
        metric.description = self.descriptions[row]
        metric.unit = self.units[row]
        self.metadata.fill(row, metric.metadata)
        data = getattr(metric, self.metric_type)
        if self.metric_type in (SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM):
            data.aggregation_temporality = self.columns["AggregationTemporality"][row]
        if self.metric_type == SUM:
            data.is_monotonic = self.columns["IsMonotonic"][row]
        if self.metric_type == GAUGE:
            data.SetInParent()
        return data


_COMMON_NAMES = {f.name for f in _COMMON_FIELDS}


def metrics_to_otlp(tables: dict[str, pa.RecordBatch]) -> ExportMetricsServiceRequest:
    """Rebuild the request: resources, scopes and metrics in the order they arrived."""
    request = ExportMetricsServiceRequest()
    # (resource, scope, metric) → [(reader, row)], across all tables, then emitted in index order.
    points: dict[int, dict[int, dict[int, list[tuple[_TableReader, int]]]]] = {}
    for metric_type in METRIC_TYPES:
        batch = tables.get(metric_type)
        if batch is None or batch.num_rows == 0:
            continue
        reader = _TableReader(metric_type, batch, request)
        ctx = reader.context
        for row, (r, s, m) in enumerate(zip(ctx.resource_index, ctx.scope_index, reader.metric_index, strict=True)):
            points.setdefault(r, {}).setdefault(s, {}).setdefault(m, []).append((reader, row))

    for r in sorted(points):
        scopes = points[r]
        resource_metrics = request.resource_metrics.add()
        for s in sorted(scopes):
            metrics = scopes[s]
            first_reader, first_row = next(iter(metrics.values()))[0]
            if s == min(scopes):
                first_reader.context.fill_resource(first_row, resource_metrics)
            scope_metrics = resource_metrics.scope_metrics.add()
            first_reader.context.fill_scope(first_row, scope_metrics)
            for m in sorted(metrics):
                rows = metrics[m]
                reader, row = rows[0]
                data = reader.fill_metric(row, scope_metrics.metrics.add())
                for reader, row in rows:
                    reader.fill_point(row, data.data_points.add())
    return request
