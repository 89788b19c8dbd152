"""Valid OTLP is stored whatever days it spans: a request with spans on 150 days (more partitions
than one ClickHouse INSERT may touch) is stored beside another client's spans, nothing
dead-lettered; rows already past the TTL are counted, logged and not inserted."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

import clickhouse_connect
import grpc
import pyarrow as pa
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exceptions import RetryableError
from summitcol.exporters.clickhouse import partitions
from summitcol.exporters.clickhouse.config import Config
from summitcol.exporters.clickhouse.exporter import ClickHouseExporter
from summitcol.pdata.signal import SignalData
from summitcol.pdata.traces import traces_from_otlp
from summitcol.telemetry import Telemetry
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for

DAY_NS = 86_400 * 1_000_000_000
POISON_DAYS = 150
GOOD_SPANS = 40
OLD_SPANS, OLD_LOGS, OLD_POINTS = 7, 5, 3
LOGS_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
METRICS_METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"


def sdk_spans(service: str, starts: list[int]) -> list[ReadableSpan]:
    """Spans made by the OpenTelemetry SDK, one per start time (1 µs long)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("partitions.test")
    for i, start in enumerate(starts):
        tracer.start_span(f"{service}-{i}", start_time=start).end(end_time=start + 1000)
    provider.shutdown()
    return list(memory.get_finished_spans())


def send_spans(port: int, spans: list[ReadableSpan]) -> None:
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True, timeout=30)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()


def logs_request(now_ns: int) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for i in range(OLD_LOGS):
        scope.log_records.add(time_unix_nano=now_ns - 2 * DAY_NS - i).body.string_value = f"old-{i}"
    for i in range(3):
        scope.log_records.add(time_unix_nano=now_ns - i).body.string_value = f"new-{i}"
    return request


def metrics_request(now_ns: int) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    gauge = request.resource_metrics.add().scope_metrics.add().metrics.add(name="temperature").gauge
    for i in range(OLD_POINTS):
        gauge.data_points.add(time_unix_nano=now_ns - 3 * DAY_NS, as_double=float(i))
    for i in range(2):
        gauge.data_points.add(time_unix_nano=now_ns, as_double=100.0 + i)
    return request


def scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()  # noqa: S310 - loopback
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_many_days_beside_a_well_behaved_client_all_stored_and_expired_rows_counted(tmp_path: Path) -> None:
    grpc_port, ch_port, metrics_port = free_port(), free_port(), free_port()
    dead_letter = tmp_path / "dead_letter.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  batch:
    timeout: 2s   # both clients' requests land in one merged batch
exporters:
  clickhouse:
    storage: chdb
    traces_ttl: 4800h   # 200 days: the 150-day spread is kept, 300-day-old spans are expired
    logs_ttl: 24h
    metrics_ttl: 24h
    dead_letter:
      path: {dead_letter}
extensions:
  chdb:
    path: {tmp_path / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "batch", "clickhouse", metrics_port)}
  extensions: [chdb]
  workers: 1
"""
    now = time.time_ns()
    poison = sdk_spans("many-days", [now - day * DAY_NS for day in range(POISON_DAYS)])
    good = sdk_spans("well-behaved", [now + i for i in range(GOOD_SPANS)])
    expired = sdk_spans("ancient", [now - (300 + i) * DAY_NS for i in range(OLD_SPANS)])
    with Collector(tmp_path, config) as collector:
        send_spans(grpc_port, good)
        send_spans(grpc_port, poison)
        send_spans(grpc_port, expired)
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        channel.unary_unary(LOGS_METHOD)(logs_request(now).SerializeToString(), timeout=30)
        channel.unary_unary(METRICS_METHOD)(metrics_request(now).SerializeToString(), timeout=30)
        channel.close()
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        expected_spans = POISON_DAYS + GOOD_SPANS
        assert wait_for(
            lambda: client.command("SELECT count() FROM otel.otel_traces") == expected_spans
            and client.command("SELECT count() FROM otel.otel_logs") == 3
            and client.command("SELECT count() FROM otel.otel_metrics_gauge") == 2,
            timeout=60,
        ), collector.log()
        rows = client.query("SELECT ServiceName, count() FROM otel.otel_traces GROUP BY ServiceName ORDER BY 1").result_rows
        assert rows == [("many-days", POISON_DAYS), ("well-behaved", GOOD_SPANS)]
        days = client.command("SELECT uniqExact(partition) FROM system.parts WHERE database = 'otel' AND table = 'otel_traces' AND active")
        assert days == POISON_DAYS
        assert sorted(r[0] for r in client.query("SELECT Body FROM otel.otel_logs").result_rows) == ["new-0", "new-1", "new-2"]
        assert sorted(r[0] for r in client.query("SELECT Value FROM otel.otel_metrics_gauge").result_rows) == [100.0, 101.0]
        client.close()
        counters = scrape(metrics_port)
        log = collector.log()
    assert counters['summitcol_exporter_expired_spans_total{exporter="clickhouse"}'] == OLD_SPANS
    assert counters['summitcol_exporter_expired_log_records_total{exporter="clickhouse"}'] == OLD_LOGS
    assert counters['summitcol_exporter_expired_metric_points_total{exporter="clickhouse"}'] == OLD_POINTS
    assert counters['otelcol_exporter_sent_spans_total{exporter="clickhouse"}'] == expected_spans + OLD_SPANS
    assert not any(name.startswith("summitcol_exporter_dead_letter") and value for name, value in counters.items())
    assert not dead_letter.exists() or dead_letter.stat().st_size == 0
    assert "Too many partitions" not in log
    assert f"exporter clickhouse: {OLD_SPANS} spans not stored: already older than the traces TTL (200 days, 0:00:00)" in log
    assert f"exporter clickhouse: {OLD_LOGS} log records not stored: already older than the logs TTL (1 day, 0:00:00)" in log
    assert f"exporter clickhouse: {OLD_POINTS} metric points not stored: already older than the metrics TTL" in log


def test_by_day_cuts_at_most_the_given_number_of_days_per_piece() -> None:
    days = [0, 7, 7, 3, 9, 1, 4, 4, 2, 8, 6, 5]
    table = pa.table({"Timestamp": pa.array([d * DAY_NS + 5 for d in days], pa.int64()).cast(pa.timestamp("ns")), "i": list(range(len(days)))})
    pieces = list(partitions.by_day(table, "Timestamp", days_per_piece=4))
    seen = [sorted({v // DAY_NS for v in partitions.nanos(p.column("Timestamp")).tolist()}) for p in pieces]
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert sorted(i for p in pieces for i in p.column("i").to_pylist()) == list(range(len(days)))
    assert list(partitions.by_day(table, "Timestamp", days_per_piece=10)) == [table]  # fewer days: not cut, not copied


class PoisonWriter:
    """Stands in for ClickHouse: refuses any insert holding a span named `poison`."""

    def __init__(self) -> None:
        self.stored: list[str] = []

    def command(self, sql: str) -> None:
        return None

    def scalar(self, sql: str) -> str:
        return ""

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        names = data.column("SpanName").to_pylist()
        if "poison" in names:
            raise RuntimeError("Code: 252. DB::Exception: refused")
        self.stored.extend(names)

    def close(self) -> None:
        return None


def request_data(*names: str) -> SignalData:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i, name in enumerate(names):
        scope.spans.add(name=name, trace_id=bytes([1]) * 16, span_id=(i + 1).to_bytes(8, "big"), start_time_unix_nano=time.time_ns())
    return SignalData(Signal.TRACES, {"spans": traces_from_otlp(request)[0]})


def test_a_failing_request_does_not_fail_the_requests_merged_with_it() -> None:
    async def scenario() -> tuple[list[object], list[str]]:
        exporter = ClickHouseExporter(CreateSettings(id=ComponentID("clickhouse"), telemetry=Telemetry()), Config(storage="chdb"))
        writer = PoisonWriter()
        exporter.writer = writer
        results = await asyncio.gather(
            *(exporter.consume(request_data(*names)) for names in (["a0", "a1"], ["poison", "b1"], ["c0"])),
            return_exceptions=True,
        )
        return results, writer.stored

    results, stored = asyncio.run(scenario())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RetryableError) and "refused" in str(results[1])
    assert sorted(stored) == ["a0", "a1", "c0"]


class Unreachable(PoisonWriter):
    """A server that cannot be reached: no ClickHouse error code, nothing about the data."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        self.attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")


def test_an_unreachable_server_fails_the_merged_insert_once_for_all() -> None:
    async def scenario() -> tuple[list[object], int]:
        exporter = ClickHouseExporter(CreateSettings(id=ComponentID("clickhouse"), telemetry=Telemetry()), Config(storage="chdb"))
        writer = Unreachable()
        exporter.writer = writer
        results = await asyncio.gather(*(exporter.consume(request_data(n)) for n in ("a", "b", "c", "d")), return_exceptions=True)
        return results, writer.attempts

    results, attempts = asyncio.run(scenario())
    assert all(isinstance(r, RetryableError) and "Connection refused" in str(r) for r in results)
    assert attempts == 1  # not split: splitting cannot help when nothing reaches ClickHouse


@pytest.mark.parametrize("ttl_s", [0, 3600])
def test_expired_mask_follows_the_ttl(ttl_s: int) -> None:
    now = 10 * DAY_NS
    table = pa.table({"TimeUnix": pa.array([now - 2 * 3600 * 10**9, now - 1800 * 10**9, now], pa.int64()).cast(pa.timestamp("ns"))})
    mask = partitions.expired(table, "TimeUnix", ttl_s, now)
    assert (mask.tolist() if mask is not None else None) == ([True, False, False] if ttl_s else None)
