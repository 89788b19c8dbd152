"""filter: each signal's conditions drop exactly the records they select; unsupported OTTL is a
config error that names the construct."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exceptions import ConfigError
from summitcol.pdata.codec import CODECS
from summitcol.pdata.decoded import DEFAULT_LIMITS
from summitcol.pdata.signal import SignalData
from summitcol.processors.filter import (
    Config,
    FilterProcessor,
    LogsConditions,
    MetricsConditions,
    TracesConditions,
)
from summitcol.telemetry import Telemetry
from tests.processors.test_attributes import Sink
from tests.processors.test_redaction import key_values

N = 1000


def run(config: Config, signal: Signal, request) -> SignalData | None:  # type: ignore[no-untyped-def]
    sink = Sink()
    processor = FilterProcessor(CreateSettings(id=ComponentID("filter"), telemetry=Telemetry()), config, next_consumer=sink)
    tables, _ = CODECS[signal].from_otlp(request, DEFAULT_LIMITS)
    asyncio.run(processor.consume(SignalData(signal, tables)))
    return sink.items[0] if sink.items else None


def spans() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for service in ("checkout", "health-checker"):
        rs = request.resource_spans.add()
        rs.resource.attributes.extend(key_values({"service.name": service}))
        ss = rs.scope_spans.add()
        for i in range(N // 2):
            span = ss.spans.add(name=f"op{i % 5}", trace_id=i.to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"), kind=2 + i % 2)
            span.attributes.extend(key_values({"http.route": "/health" if i % 10 == 0 else "/cart", "http.status_code": 200 + (i % 4) * 100}))
            span.status.code = 2 if i % 7 == 0 else 0
            span.events.add(name="debug" if i % 2 else "exception", time_unix_nano=1)
    return request


def expected_spans(keep) -> int:  # type: ignore[no-untyped-def]
    count = 0
    for service in ("checkout", "health-checker"):
        for i in range(N // 2):
            count += keep(service, i)
    return count


def test_span_conditions_drop_exactly_the_selected_spans() -> None:
    conditions = [
        'attributes["http.route"] == "/health"',
        'resource.attributes["service.name"] == "health-checker" and kind == SPAN_KIND_CLIENT',
        "attributes[\"http.status_code\"] >= 500 and not (status.code == STATUS_CODE_ERROR)",
    ]
    out = run(Config(traces=TracesConditions(span=conditions)), Signal.TRACES, spans())
    assert out is not None

    def keep(service: str, i: int) -> bool:
        route_health = i % 10 == 0
        client = service == "health-checker" and (2 + i % 2) == 3
        server_error = 200 + (i % 4) * 100 >= 500 and i % 7 != 0
        return not (route_health or client or server_error)

    assert out.item_count() == expected_spans(keep)
    routes = [dict(m)["http.route"]["value"] for m in out.tables["spans"].column("SpanAttributes").to_pylist()]
    assert "/health" not in routes


def test_spanevent_conditions_drop_events_only() -> None:
    out = run(Config(traces=TracesConditions(spanevent=['name == "debug"', 'IsMatch(span.name, "^op4$")'])), Signal.TRACES, spans())
    assert out is not None and out.item_count() == N
    names = out.tables["spans"].column("Events.Name").to_pylist()
    span_names = out.tables["spans"].column("SpanName").to_pylist()
    for events, span_name in zip(names, span_names, strict=True):
        assert "debug" not in events
        if span_name == "op4":
            assert events == []
    assert sum(len(e) for e in names) == sum(1 for i in range(N // 2) if i % 2 == 0 and i % 5 != 4) * 2


def test_log_conditions() -> None:
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add()
    for i in range(N):
        record = records.log_records.add(time_unix_nano=i + 1, severity_number=1 + i % 24)
        record.body.string_value = f"request {i} {'healthz' if i % 3 == 0 else 'ok'}"
        record.attributes.extend(key_values({"tenant": "internal" if i % 4 == 0 else "acme"}))
    config = Config(logs=LogsConditions(log_record=["severity_number < SEVERITY_NUMBER_WARN and IsMatch(body, \"healthz\")", 'attributes["tenant"] == "internal" and severity_number >= 21']))
    out = run(config, Signal.LOGS, request)
    assert out is not None
    expected = sum(1 for i in range(N) if not ((1 + i % 24) < 13 and i % 3 == 0) and not (i % 4 == 0 and 1 + i % 24 >= 21))
    assert out.item_count() == expected


def test_metric_and_datapoint_conditions() -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    for name in ("keep.gauge", "tmp.gauge"):
        metric = scope.metrics.add(name=name)
        for i in range(10):
            metric.gauge.data_points.add(as_double=i, time_unix_nano=i + 1).attributes.extend(key_values({"env": "dev" if i < 3 else "prod"}))
    total = scope.metrics.add(name="requests")
    total.sum.aggregation_temporality = 2
    for i in range(10):
        total.sum.data_points.add(as_int=i * 10, time_unix_nano=i + 1)
    config = Config(metrics=MetricsConditions(metric=['name == "tmp.gauge" and type == METRIC_DATA_TYPE_GAUGE'], datapoint=['attributes["env"] == "dev"', "value_int > 70"]))
    out = run(config, Signal.METRICS, request)
    assert out is not None
    assert out.tables["gauge"].column("MetricName").to_pylist() == ["keep.gauge"] * 7
    assert out.tables["sum"].column("ValueInt").to_pylist() == [0, 10, 20, 30, 40, 50, 60, 70]


def test_everything_dropped_sends_nothing() -> None:
    assert run(Config(traces=TracesConditions(span=['name != ""'])), Signal.TRACES, spans()) is None


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('set(attributes["x"], "y")', r"function set\(\) is not supported"),
        ('Len(name) > 3', r"function Len\(\) is not supported"),
        ('attributes["a"]["b"] == 1', "nested map access"),
        ("duration > 5", "path duration is not supported"),
        ('name == "x" and', "expected more"),
        ('name === "x"', "cannot read"),
    ],
)
def test_unsupported_ottl_is_a_config_error(condition: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config(traces=TracesConditions(span=[condition])).validate()


@pytest.mark.parametrize("error_mode", ["propagate", "ignore", "silent"])
def test_conditions_on_mismatched_types_are_false_not_errors(error_mode: str) -> None:
    """OTTL compares values of different types as false (no error): a string attribute against a
    number, a number against a string. So even `error_mode: propagate` refuses nothing at run time;
    what could fail (a bad regex, an unsupported function) is a config error at start."""
    conditions = ['attributes["http.route"] > 5', 'attributes["http.status_code"] == "200"', 'attributes["http.route"] == 5']
    out = run(Config(error_mode=error_mode, traces=TracesConditions(span=conditions)), Signal.TRACES, spans())  # type: ignore[arg-type]
    assert out is not None and out.item_count() == N
