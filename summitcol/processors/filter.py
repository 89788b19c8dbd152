"""The `filter` processor (contrib's config shape): drop the spans, span events, log records,
metrics or data points for which any OTTL condition is true.

    filter:
      error_mode: ignore           # ignore | silent | propagate (contrib's default)
      traces:
        span: ['attributes["http.route"] == "/health"']
        spanevent: ['name == "debug"']
      logs:
        log_record: ['severity_number < SEVERITY_NUMBER_WARN']
      metrics:
        metric: ['name == "tmp" and type == METRIC_DATA_TYPE_GAUGE']
        datapoint: ['attributes["env"] == "dev"']

Conditions are compiled at start (`summitcol.ottl`: an unsupported construct is a validate error
naming it) and evaluated as whole-column masks; dropping is one `filter` per table (span events
are list elements: their lists are rebuilt with new offsets).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.component import Consumer, CreateSettings, Factory, Kind, Signal, Stability
from summitcol.exceptions import PermanentError
from summitcol.ottl import Evaluator, Row, Typed, compile_condition
from summitcol.pdata.attrmap import parent_rows
from summitcol.pdata.signal import LOGS, SPANS, SignalData
from summitcol.pdata.traces import SPAN_KINDS, STATUS_CODES
from summitcol.pdata.values import DOUBLE, INT, STRING, combined
from summitcol.processors.columnar import ColumnarProcessor

log = logging.getLogger("summitcol.processor.filter")

METRIC_TYPES = {"gauge": 1, "sum": 2, "histogram": 3, "exponential_histogram": 4, "summary": 5}


@dataclass(frozen=True, kw_only=True, slots=True)
class TracesConditions:
    span: list[str] = field(default_factory=list)
    spanevent: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class LogsConditions:
    log_record: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricsConditions:
    metric: list[str] = field(default_factory=list)
    datapoint: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    error_mode: Literal["ignore", "silent", "propagate"] = "propagate"
    traces: TracesConditions = field(default_factory=TracesConditions)
    logs: LogsConditions = field(default_factory=LogsConditions)
    metrics: MetricsConditions = field(default_factory=MetricsConditions)

    def validate(self) -> None:
        self.compiled()

    def compiled(self) -> dict[str, list[Evaluator]]:
        groups = {
            "span": self.traces.span,
            "spanevent": self.traces.spanevent,
            "log": self.logs.log_record,
            "metric": self.metrics.metric,
            "datapoint": self.metrics.datapoint,
        }
        return {context: [compile_condition(c, context) for c in conditions] for context, conditions in groups.items()}


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    return combined(batch.column(name))


def _typed(type_: int, column: pa.Array) -> Typed:
    n = len(column)
    types = pa.array(np.full(n, type_, np.uint8))
    if pa.types.is_timestamp(column.type):
        column = column.view(pa.int64())
    text = column if column.type == pa.string() else pc.cast(column, pa.string())
    if column.null_count:
        types = pc.if_else(pc.is_null(column), pa.scalar(None, pa.uint8()), types)
    return Typed(types, text)


def _enum(column: pa.Array, names: list[str]) -> Typed:
    index = pc.index_in(column, pa.array(names, pa.string()))
    return _typed(INT, pc.cast(index, pa.int64()))


def _end_time(batch: pa.RecordBatch) -> pa.Array:
    start = _column(batch, "Timestamp").view(pa.int64())
    return pc.add_checked(start, pc.cast(_column(batch, "Duration"), pa.int64()))


def span_fields(batch: pa.RecordBatch) -> dict[str, object]:
    return {
        "name": lambda: _typed(STRING, _column(batch, "SpanName")),
        "kind": lambda: _enum(_column(batch, "SpanKind"), SPAN_KINDS),
        "status.code": lambda: _enum(_column(batch, "StatusCode"), STATUS_CODES),
        "status.message": lambda: _typed(STRING, _column(batch, "StatusMessage")),
        "trace_state": lambda: _typed(STRING, _column(batch, "TraceState")),
        "trace_id.string": lambda: _typed(STRING, _column(batch, "TraceId")),
        "span_id.string": lambda: _typed(STRING, _column(batch, "SpanId")),
        "parent_span_id.string": lambda: _typed(STRING, _column(batch, "ParentSpanId")),
        "start_time_unix_nano": lambda: _typed(INT, _column(batch, "Timestamp")),
        "end_time_unix_nano": lambda: _typed(INT, _end_time(batch)),
        "instrumentation_scope.name": lambda: _typed(STRING, _column(batch, "ScopeName")),
        "instrumentation_scope.version": lambda: _typed(STRING, _column(batch, "ScopeVersion")),
    }


def _row(n: int, fields: dict[str, object], maps: dict[str, pa.Array]) -> Row:
    cache: dict[str, Typed] = {}

    def typed(path: str) -> Typed:
        if path not in cache:
            cache[path] = fields[path]()  # type: ignore[operator]
        return cache[path]

    return Row(n, typed, lambda path: maps[path])


def _span_row(batch: pa.RecordBatch) -> Row:
    maps = {"attributes": _column(batch, "SpanAttributes"), "resource.attributes": _column(batch, "ResourceAttributes")}
    return _row(batch.num_rows, span_fields(batch), maps)


def _event_row(batch: pa.RecordBatch) -> tuple[Row, np.ndarray]:
    parents = parent_rows(_column(batch, "Events.Name"))
    take = pa.array(parents)
    span = span_fields(batch)
    fields: dict[str, object] = {
        "name": lambda: _typed(STRING, _column(batch, "Events.Name").flatten()),
        "time_unix_nano": lambda: _typed(INT, _column(batch, "Events.Timestamp").flatten()),
        "span.name": lambda: _take(span["name"](), take),  # type: ignore[operator]
        "span.kind": lambda: _take(span["kind"](), take),  # type: ignore[operator]
        "span.status.code": lambda: _take(span["status.code"](), take),  # type: ignore[operator]
        "instrumentation_scope.name": lambda: _take(span["instrumentation_scope.name"](), take),  # type: ignore[operator]
    }
    maps = {
        "attributes": _column(batch, "Events.Attributes").flatten(),
        "span.attributes": pc.take(_column(batch, "SpanAttributes"), take),
        "resource.attributes": pc.take(_column(batch, "ResourceAttributes"), take),
    }
    return _row(len(parents), fields, maps), parents


def _take(value: Typed, indices: pa.Array) -> Typed:
    return Typed(pc.take(value.types, indices), pc.take(value.text, indices))


def _log_row(batch: pa.RecordBatch) -> Row:
    fields = {
        "body": lambda: Typed(_column(batch, "BodyType"), _column(batch, "Body")),
        "severity_number": lambda: _typed(INT, _column(batch, "SeverityNumber")),
        "severity_text": lambda: _typed(STRING, _column(batch, "SeverityText")),
        "event_name": lambda: _typed(STRING, _column(batch, "EventName")),
        "trace_id.string": lambda: _typed(STRING, _column(batch, "TraceId")),
        "span_id.string": lambda: _typed(STRING, _column(batch, "SpanId")),
        "time_unix_nano": lambda: _typed(INT, _column(batch, "Timestamp")),
        "observed_time_unix_nano": lambda: _typed(INT, _column(batch, "ObservedTimestamp")),
        "instrumentation_scope.name": lambda: _typed(STRING, _column(batch, "ScopeName")),
        "instrumentation_scope.version": lambda: _typed(STRING, _column(batch, "ScopeVersion")),
    }
    maps = {"attributes": _column(batch, "LogAttributes"), "resource.attributes": _column(batch, "ResourceAttributes")}
    return _row(batch.num_rows, fields, maps)


def _metric_row(batch: pa.RecordBatch, table: str) -> Row:
    n = batch.num_rows
    names = batch.schema.names

    def optional(name: str, type_: int) -> Typed:
        if name in names:
            return _typed(type_, _column(batch, name))
        return Typed(pa.nulls(n, pa.uint8()), pa.nulls(n, pa.string()))

    fields = {
        "name": lambda: _typed(STRING, _column(batch, "MetricName")),
        "description": lambda: _typed(STRING, _column(batch, "MetricDescription")),
        "unit": lambda: _typed(STRING, _column(batch, "MetricUnit")),
        "type": lambda: _typed(INT, pa.array(np.full(n, METRIC_TYPES[table], np.int64))),
        "instrumentation_scope.name": lambda: _typed(STRING, _column(batch, "ScopeName")),
        "value_double": lambda: optional("Value", DOUBLE),
        "value_int": lambda: optional("ValueInt", INT),
        "count": lambda: optional("Count", INT),
        "sum": lambda: optional("Sum", DOUBLE),
        "time_unix_nano": lambda: _typed(INT, _column(batch, "TimeUnix")),
        "start_time_unix_nano": lambda: _typed(INT, _column(batch, "StartTimeUnix")),
    }
    for key in ("name", "description", "unit", "type"):
        fields[f"metric.{key}"] = fields[key]
    maps = {"attributes": _column(batch, "Attributes"), "resource.attributes": _column(batch, "ResourceAttributes")}
    return _row(n, fields, maps)


def drop_list_elements(batch: pa.RecordBatch, prefix: str, keep: np.ndarray) -> pa.RecordBatch:
    """Keep only the elements `keep` selects in every `prefix*` list column (one list per row)."""
    names = [n for n in batch.schema.names if n.startswith(prefix)]
    offsets = _column(batch, names[0]).offsets.to_numpy()
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    new_offsets = pa.array(kept_before[offsets - offsets[0]].astype(np.int32))
    mask = pa.array(keep)
    for name in names:
        column = _column(batch, name)
        values = column.flatten().filter(mask)
        index = batch.schema.get_field_index(name)
        batch = batch.set_column(index, batch.schema.field(index), pa.ListArray.from_arrays(new_offsets, values, type=column.type))
    return batch


class FilterProcessor(ColumnarProcessor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        super().__init__(settings, next_consumer=next_consumer)
        self.config = config
        self.conditions = config.compiled()

    def _matches(self, context: str, row: Row) -> np.ndarray:
        hit = np.zeros(row.n, dtype=bool)
        for condition in self.conditions[context]:
            try:
                hit |= condition(row)
            except (pa.ArrowException, ValueError) as exc:
                if self.config.error_mode == "propagate":
                    raise PermanentError(f"filter: evaluating a {context} condition failed: {exc}") from exc
                if self.config.error_mode == "ignore":
                    log.warning("filter %s: a %s condition failed and is ignored: %s", self.label, context, exc)
        return hit

    def process(self, data: SignalData) -> SignalData:
        tables = dict(data.tables)
        if data.signal is Signal.TRACES and SPANS in tables:
            batch = tables[SPANS]
            if self.conditions["span"]:
                batch = batch.filter(pa.array(~self._matches("span", _span_row(batch))))
            if self.conditions["spanevent"] and batch.num_rows:
                row, _ = _event_row(batch)
                if row.n:
                    batch = drop_list_elements(batch, "Events.", ~self._matches("spanevent", row))
            tables[SPANS] = batch
        elif data.signal is Signal.LOGS and LOGS in tables and self.conditions["log"]:
            batch = tables[LOGS]
            tables[LOGS] = batch.filter(pa.array(~self._matches("log", _log_row(batch))))
        elif data.signal is Signal.METRICS:
            for name, batch in data.tables.items():
                drop = np.zeros(batch.num_rows, dtype=bool)
                row = _metric_row(batch, name)
                if self.conditions["metric"]:
                    drop |= self._matches("metric", row)
                if self.conditions["datapoint"]:
                    drop |= self._matches("datapoint", row)
                tables[name] = batch.filter(pa.array(~drop))
        return data.with_tables({name: batch for name, batch in tables.items() if batch.num_rows})



def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> FilterProcessor:
    return FilterProcessor(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="filter",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES, Signal.LOGS, Signal.METRICS}),
    stability=Stability.ALPHA,
    description="drop spans, span events, log records, metrics or data points matching OTTL conditions",
)
