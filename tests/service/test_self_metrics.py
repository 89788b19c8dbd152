"""The self-metrics the README names, by value (issue #13 item 8), from one real collector scraped
at its Prometheus endpoint. Two OTLP receivers: `otlp` feeds filter → redaction (PII) → batch →
the file exporter, for all three signals; `otlp/down` feeds an `otlp_http` exporter pointed at a
closed port with no queue and no retries, so every item it takes is refused back to the client.

`otelcol_receiver_failed_*` counts internal errors (a bug in the pipeline, not a refusal): no input
reaches it, and it must stay 0 beside real refusals. `otelcol_processor_memory_limiter_refused_*`
and the queue gauges are checked where they can be caused (tests/processors, tests/exporters)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Collector, free_port, wait_for

SPANS, DROPPED_SPANS, POINTS, LOGS, EMAILS = 12, 5, 7, 9, 4


def traces(n: int, dropped: int) -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for i in range(n):
        span = spans.add(name="drop-me" if i < dropped else f"keep{i}", start_time_unix_nano=1, end_time_unix_nano=2)
        span.trace_id, span.span_id = (i + 1).to_bytes(16, "big"), (i + 1).to_bytes(8, "big")
        if dropped <= i < dropped + EMAILS:
            span.attributes.add(key="user").value.string_value = f"user{i}@example.com"
    return request.SerializeToString()


def metrics(points: int) -> bytes:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="requests")
    for i in range(points):
        metric.sum.data_points.add(time_unix_nano=1_700_000_000_000_000_000 + i, as_int=i)
    metric.sum.aggregation_temporality = 2
    return request.SerializeToString()


def logs(n: int) -> bytes:
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    for i in range(n):
        records.add(time_unix_nano=1_700_000_000_000_000_000 + i).body.string_value = "mail ops@example.org" if i == 0 else f"line {i}"
    return request.SerializeToString()


def post(port: int, path: str, body: bytes) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "application/x-protobuf"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_counters_by_value_for_all_three_signals(tmp_path: Path) -> None:
    http_port, down_port, metrics_port = free_port(), free_port(), free_port()
    out = tmp_path / "out.jsonl"
    pipelines = "".join(
        f"""
    {signal}:
      receivers: [otlp]
      processors: [filter, redaction, batch]
      exporters: [file]
    {signal}/down:
      receivers: [otlp/down]
      exporters: [otlp_http/down]"""
        for signal in ("traces", "metrics", "logs")
    )
    config = f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http_port}
  otlp/down:
    protocols:
      http:
        endpoint: 127.0.0.1:{down_port}
processors:
  filter:
    traces:
      span: ['name == "drop-me"']
  redaction:
    allow_all_keys: true
    pii:
      detectors: [email]
  batch:
    timeout: 50ms
exporters:
  file:
    path: {out}
  otlp_http/down:
    endpoint: http://127.0.0.1:{free_port()}
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics_port}
  pipelines:{pipelines}
"""
    with Collector(tmp_path, config):
        assert post(http_port, "/v1/traces", traces(SPANS, DROPPED_SPANS)) == 200
        assert post(http_port, "/v1/metrics", metrics(POINTS)) == 200
        assert post(http_port, "/v1/logs", logs(LOGS)) == 200
        assert post(down_port, "/v1/traces", traces(3, 0)) == 503
        assert post(down_port, "/v1/metrics", metrics(2)) == 503
        assert post(down_port, "/v1/logs", logs(5)) == 503
        sent = {
            ("otelcol_exporter_sent_spans_total", frozenset({("exporter", "file")})): SPANS - DROPPED_SPANS,
            ("otelcol_exporter_sent_metric_points_total", frozenset({("exporter", "file")})): POINTS,
            ("otelcol_exporter_sent_log_records_total", frozenset({("exporter", "file")})): LOGS,
        }
        assert wait_for(lambda: all(scrape(metrics_port).get(k) == v for k, v in sent.items()), timeout=20)
        values = scrape(metrics_port)

    def value(name: str, **labels: str) -> float:
        return values.get((name, frozenset(labels.items())), 0.0)

    ok, down = {"receiver": "otlp", "transport": "http"}, {"receiver": "otlp/down", "transport": "http"}
    assert value("otelcol_receiver_accepted_spans_total", **ok) == SPANS
    assert value("otelcol_receiver_accepted_metric_points_total", **ok) == POINTS
    assert value("otelcol_receiver_accepted_log_records_total", **ok) == LOGS
    assert value("otelcol_receiver_refused_spans_total", **down) == 3
    assert value("otelcol_receiver_refused_metric_points_total", **down) == 2
    assert value("otelcol_receiver_refused_log_records_total", **down) == 5
    for item in ("spans", "metric_points", "log_records"):
        assert value(f"otelcol_receiver_refused_{item}_total", **ok) == 0
        assert value(f"otelcol_receiver_failed_{item}_total", **ok) == 0
        assert value(f"otelcol_receiver_failed_{item}_total", **down) == 0
        assert value(f"otelcol_receiver_accepted_{item}_total", **down) == 0
    assert value("otelcol_exporter_send_failed_spans_total", exporter="otlp_http/down") == 3
    assert value("otelcol_exporter_send_failed_metric_points_total", exporter="otlp_http/down") == 2
    assert value("otelcol_exporter_send_failed_log_records_total", exporter="otlp_http/down") == 5
    assert value("otelcol_exporter_sent_spans_total", exporter="file") == SPANS - DROPPED_SPANS
    assert value("otelcol_exporter_sent_metric_points_total", exporter="file") == POINTS
    assert value("otelcol_exporter_sent_log_records_total", exporter="file") == LOGS
    items = {"traces": SPANS, "metrics": POINTS, "logs": LOGS}
    for signal, n in items.items():
        kept = n - DROPPED_SPANS if signal == "traces" else n
        assert value("otelcol_processor_incoming_items_total", processor="filter", otel_signal=signal) == n
        assert value("otelcol_processor_outgoing_items_total", processor="filter", otel_signal=signal) == kept
        assert value("otelcol_processor_incoming_items_total", processor="batch", otel_signal=signal) == kept
        assert value("otelcol_processor_outgoing_items_total", processor="batch", otel_signal=signal) == kept
    # four kept spans carry an address in an attribute, and so does one log body (the logs/down
    # pipeline has no redaction: its log body is not counted)
    assert value("summitcol_processor_redaction_pii_detections_total", processor="redaction", detector="email") == EMAILS + 1
