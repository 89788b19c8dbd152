"""A clean stop keeps every acknowledged record (issue #12, item 1), for each queue kind.

The real OpenTelemetry SDK exporters send spans, log records and metric points over OTLP/gRPC;
every export is acknowledged, and SIGTERM follows the last acknowledgement at once (while a
`sending_queue::batch` is still gathering: its flush_timeout is 2 s). Once the process has
exited, an offline `summitcol query` on the data path finds every record, and with a persistent
queue the next start replays nothing.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.exporters.test_delivery import make_spans
from tests.helpers import Collector, free_port

SPANS, LOGS, COUNTER_POINTS, GAUGE_POINTS = 200, 120, 20, 5
STOP_LEFT_BEHIND = ("the stop left", "the stop could not deliver")


def make_logs(n: int, prefix: str) -> list:  # type: ignore[type-arg]
    """`n` log records made by the SDK's logging handler, bodies `<prefix>-<i>`."""
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": prefix}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = logging.getLogger(f"clean-stop.{prefix}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        for i in range(n):
            logger.info("%s-%d", prefix, i)
    finally:
        logger.removeHandler(handler)
    provider.shutdown()
    return list(memory.get_finished_logs())


def make_metrics(prefix: str):  # type: ignore[no-untyped-def]
    """COUNTER_POINTS sum points and GAUGE_POINTS gauge points (one per attribute set)."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": prefix}), metric_readers=[reader])
    meter = provider.get_meter("clean-stop")
    counter = meter.create_counter(f"{prefix}.requests")
    gauge = meter.create_gauge(f"{prefix}.temperature")
    for i in range(COUNTER_POINTS):
        counter.add(i + 1, {"route": f"/r{i}"})
    for i in range(GAUGE_POINTS):
        gauge.set(i + 0.5, {"room": f"lab-{i}"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


class SdkClient:
    """The SDK's OTLP/gRPC exporters for the three signals, with their data made beforehand."""

    def __init__(self, port: int, prefix: str) -> None:
        endpoint = f"127.0.0.1:{port}"
        self.spans = make_spans(SPANS, prefix)
        self.logs = make_logs(LOGS, prefix)
        self.metrics = make_metrics(prefix)
        self.span_exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=10)
        self.log_exporter = OTLPLogExporter(endpoint=endpoint, insecure=True, timeout=10)
        self.metric_exporter = OTLPMetricExporter(endpoint=endpoint, insecure=True, timeout=10)

    def send_all(self) -> None:
        """Every record in two requests per signal (metrics: one); each acknowledged."""
        half = len(self.spans) // 2
        assert self.span_exporter.export(self.spans[:half]) is SpanExportResult.SUCCESS
        assert self.span_exporter.export(self.spans[half:]) is SpanExportResult.SUCCESS
        half = len(self.logs) // 2
        assert self.log_exporter.export(self.logs[:half]) is LogRecordExportResult.SUCCESS
        assert self.log_exporter.export(self.logs[half:]) is LogRecordExportResult.SUCCESS
        assert self.metric_exporter.export(self.metrics) is MetricExportResult.SUCCESS

    def close(self) -> None:
        for exporter in (self.span_exporter, self.log_exporter, self.metric_exporter):
            exporter.shutdown()


QUEUES = {
    "memory": "{num_consumers: 2}",
    "memory+batch": "{num_consumers: 2, batch: {flush_timeout: 2s}}",
    "persistent": "{num_consumers: 2, storage: file_storage}",
    "persistent+batch": "{num_consumers: 2, storage: file_storage, batch: {flush_timeout: 2s}}",
}


def collector_config(tmp: Path, grpc: int, metrics: int, queue: str) -> str:
    return f"""
        receivers:
          otlp:
            protocols:
              grpc: {{endpoint: 127.0.0.1:{grpc}}}
        exporters:
          clickhouse:
            storage: chdb
            sending_queue: {queue}
            dead_letter: {{path: {tmp}/dead.jsonl}}
        extensions:
          chdb: {{path: {tmp}/ch}}
          file_storage: {{directory: {tmp}/queue}}
        service:
          workers: 1
          extensions: [chdb, file_storage]
          telemetry:
            metrics: {{address: 127.0.0.1:{metrics}}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [clickhouse]}}
            logs: {{receivers: [otlp], exporters: [clickhouse]}}
            metrics: {{receivers: [otlp], exporters: [clickhouse]}}
        """


STORED_SQL = (
    "SELECT (SELECT count() FROM otel.otel_traces) AS spans, (SELECT uniqExact(SpanName) FROM otel.otel_traces) AS names,"
    " (SELECT count() FROM otel.otel_logs) AS logs, (SELECT uniqExact(Body) FROM otel.otel_logs) AS bodies,"
    " (SELECT count() FROM otel.otel_metrics_sum) AS sums, (SELECT count() FROM otel.otel_metrics_gauge) AS gauges"
)


def stored_offline(tmp: Path) -> list[int]:
    """What is in the data path, read by `summitcol query` with no collector running."""
    result = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "query", STORED_SQL, "--path", str(tmp / "ch"),
         "--endpoint", f"127.0.0.1:{free_port()}", "--format", "csv"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return [int(value) for value in result.stdout.strip().splitlines()[-1].split(",")]


def metrics_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


@pytest.mark.parametrize(
    ("queue", "workers"),
    [(queue, 1) for queue in QUEUES] + [("memory+batch", 2), ("persistent+batch", 2)],  # 2: the default on 2 cores
    ids=lambda value: f"{value}-workers" if isinstance(value, int) else value,
)
def test_sigterm_right_after_the_last_acknowledgement_keeps_every_record(tmp_path: Path, queue: str, workers: int) -> None:
    grpc, metrics = free_port(), free_port()
    config = collector_config(tmp_path, grpc, metrics, QUEUES[queue]).replace("workers: 1", f"workers: {workers}")
    collector = Collector(tmp_path, config).start()
    client = SdkClient(grpc, "stop")
    try:
        client.send_all()
        assert collector.process is not None
        collector.process.send_signal(signal.SIGTERM)  # at once after the last acknowledgement
        assert collector.stop() == 0, collector.log()
    finally:
        client.close()
    log = collector.log()
    assert "Shutdown complete." in log
    assert not any(line in log for line in STOP_LEFT_BEHIND), log
    assert not (tmp_path / "dead.jsonl").exists()
    assert stored_offline(tmp_path) == [SPANS, SPANS, LOGS, LOGS, COUNTER_POINTS, GAUGE_POINTS]
    if "persistent" in queue:  # nothing was left in the WAL: the next start replays nothing
        with Collector(tmp_path, config, "restarted") as restarted:
            page = metrics_page(metrics)
        assert "replaying" not in restarted.log()
        assert "summitcol_wal_replayed" not in page
        assert 'otelcol_exporter_queue_size{exporter="clickhouse"} 0.0' in page
