"""Per-signal batches and counters (issue #12, items 2 and 4, sender side).

An agent (persistent `sending_queue` with `batch`, `otlp_http` exporter) forwards the SDK's
spans, log records and metric points to a gateway that refuses bodies over 20 kB (413: no
retry can help). First the gateway is down and the agent is killed with data in its WAL; at the
next start it replays. Then a 300-span request (too large for the gateway) is merged with a
well-formed one: the merged send is refused, each request is sent on its own, and only the
large one goes to the dead-letter file. Every counter is exact per signal, since a batch never
mixes signals.
"""

from __future__ import annotations

import signal
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SpanExportResult
from prometheus_client.parser import text_string_to_metric_families

from tests.exporters.test_clean_stop import COUNTER_POINTS, GAUGE_POINTS, LOGS, SdkClient, metrics_page
from tests.exporters.test_delivery import make_spans
from tests.helpers import (
    Collector,
    free_port,
    pipelines_yaml,
    read_file_export,
    receiver_yaml,
    spans_by_id,
    wait_for,
)
from tests.sdk_client import logs_by_body

POINTS = COUNTER_POINTS + GAUGE_POINTS


def gateway(tmp: Path, http: int, out: Path) -> Collector:
    return Collector(
        tmp,
        f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http}
        max_request_body_size: 20000
exporters:
  file:
    path: {out}
    append: true
{pipelines_yaml("otlp", "", "file")}
""",
        "gateway",
    )


def agent_config(tmp: Path, grpc: int, gateway_http: int, metrics: int) -> str:
    return f"""
receivers:
{receiver_yaml(grpc, None)}
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:{gateway_http}
    compression: none
    retry_on_failure: {{initial_interval: 100ms, max_interval: 500ms}}
    sending_queue: {{storage: file_storage, num_consumers: 1, batch: {{flush_timeout: 1s}}}}
    dead_letter: {{path: {tmp / "dead.jsonl"}}}
extensions:
  file_storage: {{directory: {tmp / "wal"}}}
{pipelines_yaml("otlp", "", "otlp_http", metrics)}
  workers: 1
  extensions: [file_storage]
"""


def samples(page: str) -> dict[str, float]:
    """`name` → value for every sample of the `otlp_http` exporter (and unlabelled ones)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.labels.get("exporter", "otlp_http") == "otlp_http":
                out[sample.name] = sample.value
    return out


def stored(out: Path) -> tuple[set[str], set[str], int]:
    exported = read_file_export(out)
    names = {span.name for span, _, _ in spans_by_id(exported[ExportTraceServiceRequest]).values()}
    bodies = set(logs_by_body(exported[ExportLogsServiceRequest]))
    points = sum(
        len(metric.sum.data_points) + len(metric.gauge.data_points)
        for request in exported[ExportMetricsServiceRequest]
        for rm in request.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )
    return names, bodies, points


def test_counters_are_exact_per_signal_and_a_poison_request_costs_only_itself(tmp_path: Path) -> None:
    grpc, gateway_http, metrics = free_port(), free_port(), free_port()
    out = tmp_path / "gateway.jsonl"
    config = agent_config(tmp_path, grpc, gateway_http, metrics)

    # 1. the gateway is down: everything waits in the agent's WAL; kill -9 leaves it there
    agent = Collector(tmp_path, config, "agent").start()
    client = SdkClient(grpc, "replayed")
    client.spans = client.spans[:20]
    client.send_all()
    client.close()
    agent.stop(signal.SIGKILL)

    # 2. the next start replays all three signals to the gateway
    gw = gateway(tmp_path, gateway_http, out).start()
    agent = Collector(tmp_path, config, "agent-restarted").start()
    try:
        # 3. a well-formed request and one the gateway refuses (413), merged into one send
        fine, poison = make_spans(20, "fine"), make_spans(300, "poison")
        client = SdkClient(grpc, "unused")
        assert client.span_exporter.export(fine) is SpanExportResult.SUCCESS
        assert client.span_exporter.export(poison) is SpanExportResult.SUCCESS
        client.close()
        expected_names = {f"replayed-{i}" for i in range(20)} | {f"fine-{i}" for i in range(20)}
        expected_bodies = {f"replayed-{i}" for i in range(LOGS)}
        assert wait_for(lambda: stored(out) == (expected_names, expected_bodies, POINTS) and (tmp_path / "dead.jsonl").exists(), 60), stored(out)
        values = samples(metrics_page(metrics))
    finally:
        assert agent.stop() == 0, agent.log()
        gw.stop()

    assert "replaying 5 request(s)" in agent.log()  # spans and logs in two requests each, metrics in one
    assert "merged requests was refused permanently" in agent.log()
    dead = read_file_export(tmp_path / "dead.jsonl")
    assert sorted(s.name for s, _, _ in spans_by_id(dead[ExportTraceServiceRequest]).values()) == sorted(f"poison-{i}" for i in range(300))
    assert not dead[ExportLogsServiceRequest] and not dead[ExportMetricsServiceRequest]
    expected = {
        "otelcol_exporter_sent_spans_total": 40,
        "otelcol_exporter_sent_log_records_total": LOGS,
        "otelcol_exporter_sent_metric_points_total": POINTS,
        "otelcol_exporter_send_failed_spans_total": 300,
        "otelcol_exporter_send_failed_log_records_total": 0,
        "otelcol_exporter_send_failed_metric_points_total": 0,
        "summitcol_exporter_dead_letter_spans_total": 300,
        "summitcol_exporter_dead_letter_log_records_total": 0,
        "summitcol_exporter_dead_letter_metric_points_total": 0,
        "summitcol_wal_replayed_requests_total": 5,
        "summitcol_wal_replayed_spans_total": 20,
        "summitcol_wal_replayed_log_records_total": LOGS,
        "summitcol_wal_replayed_metric_points_total": POINTS,
    }
    assert {name: values.get(name, 0) for name in expected} == expected
