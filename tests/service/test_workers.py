"""`service.workers`: several processes behind the same ports, one chDB owner, nothing lost.

Clients are the OpenTelemetry SDK's gRPC and HTTP exporters, each on its own connection (the
kernel spreads connections over the workers); storage is the real embedded chDB.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from summitcol.component import Signal, Worker
from summitcol.service.telemetry import merge_expositions
from summitcol.telemetry import Telemetry, process_rss_bytes
from summitcol.worker import collector_rss_bytes
from tests.helpers import Collector, free_port, read_file_export, spans_by_id, wait_for

CONNECTIONS = 16  # per transport; 32 connections all landing on one of two workers: odds 2 in 2**32
SPANS_PER_CONNECTION = 50


def workers_config(tmp: Path, grpc: int, http: int, ch: int, metrics: int, workers: int = 2, extra: str = "", processors: str = "") -> str:
    return f"""
        receivers:
          otlp:
            protocols:
              grpc: {{endpoint: 127.0.0.1:{grpc}}}
              http: {{endpoint: 127.0.0.1:{http}}}
        {extra}
        exporters:
          clickhouse:
            storage: chdb
        extensions:
          chdb:
            path: {tmp}/ch
            http: {{endpoint: 127.0.0.1:{ch}}}
        service:
          workers: {workers}
          extensions: [chdb]
          telemetry:
            metrics: {{address: 127.0.0.1:{metrics}}}
          pipelines:
            traces: {{receivers: [otlp], processors: [{processors}], exporters: [clickhouse]}}
        """


def _spans(tag: str, n: int):  # type: ignore[no-untyped-def]
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "workers"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    for i in range(n):
        with tracer.start_as_current_span(f"{tag}-{i}"):
            pass
    return memory.get_finished_spans()


def send_over_many_connections(grpc: int, http: int, tag: str) -> int:
    """CONNECTIONS SDK exporters per transport, each its own connection; returns spans sent."""
    sent = 0
    for i in range(CONNECTIONS):
        for exporter in (
            GrpcSpanExporter(endpoint=f"127.0.0.1:{grpc}", insecure=True, channel_options=(("grpc.use_local_subchannel_pool", 1),)),
            HttpSpanExporter(endpoint=f"http://127.0.0.1:{http}/v1/traces"),
        ):
            spans = _spans(f"{tag}-{type(exporter).__module__.split('.')[-2]}-{i}", SPANS_PER_CONNECTION)
            assert exporter.export(spans) == SpanExportResult.SUCCESS
            exporter.shutdown()
            sent += len(spans)
    return sent


def stored(ch: int, where: str = "1") -> int:
    query = urllib.parse.quote(f"SELECT count() FROM otel.otel_traces WHERE {where}")
    with urllib.request.urlopen(f"http://127.0.0.1:{ch}/?query={query}", timeout=30) as response:
        return int(response.read())


def scrape(metrics: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=10) as response:
        return response.read().decode()


def sample_sum(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " "))


def worker_metrics(collector: Collector, index: int) -> str:
    """A worker's own metrics, from its Unix socket (the hub directory is in the ready line)."""
    hub = re.search(r"\(hub (\S+)\)", collector.log())
    assert hub, collector.log()
    path = os.path.join(os.path.dirname(hub.group(1)), f"metrics-{index}.sock")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.sendall(b"GET /metrics HTTP/1.0\r\nHost: w\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).split(b"\r\n\r\n", 1)[1].decode()


def worker_pids(collector: Collector) -> list[int]:
    assert collector.process is not None
    out = subprocess.run(["pgrep", "-P", str(collector.process.pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def test_workers_share_the_ports_and_store_every_span(tmp_path: Path) -> None:
    grpc, http, ch, metrics = free_port(), free_port(), free_port(), free_port()
    with Collector(tmp_path, workers_config(tmp_path, grpc, http, ch, metrics)) as collector:
        assert "2 worker processes share the receivers' ports" in collector.log()
        assert len(worker_pids(collector)) == 1
        sent = send_over_many_connections(grpc, http, "a")
        assert sent == 2 * CONNECTIONS * SPANS_PER_CONNECTION
        assert wait_for(lambda: stored(ch) == sent), stored(ch)
        # both processes took connections, and /metrics sums them
        in_worker_1 = sample_sum(worker_metrics(collector, 1), "otelcol_receiver_accepted_spans_total")
        assert 0 < in_worker_1 < sent
        total = scrape(metrics)
        assert sample_sum(total, "otelcol_receiver_accepted_spans_total") == sent
        assert wait_for(lambda: sample_sum(scrape(metrics), "otelcol_exporter_sent_spans_total") == sent)
        assert stored(ch, "SpanName LIKE 'a-grpc-%'") == sent // 2
        assert not list(Path("/dev/shm").glob(f"summitcol-{worker_pids(collector)[0]}-*.arrow"))  # handoff files removed


def test_a_killed_worker_is_started_again_and_nothing_acknowledged_is_lost(tmp_path: Path) -> None:
    grpc, http, ch, metrics = free_port(), free_port(), free_port(), free_port()
    with Collector(tmp_path, workers_config(tmp_path, grpc, http, ch, metrics)) as collector:
        first = send_over_many_connections(grpc, http, "before")
        assert wait_for(lambda: stored(ch) == first)
        [pid] = worker_pids(collector)
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: collector.log().count("Worker 1 of 2 is ready") == 2, timeout=60), collector.log()
        assert "worker 1 exited with code -9; starting it again" in collector.log()
        assert worker_pids(collector) != [pid]
        second = send_over_many_connections(grpc, http, "after")
        assert wait_for(lambda: stored(ch) == first + second), stored(ch)
        assert 0 < sample_sum(worker_metrics(collector, 1), "otelcol_receiver_accepted_spans_total") < second


def test_stop_drains_every_worker_into_the_engine(tmp_path: Path) -> None:
    """Spans held by each worker's batch processor (a 60 s timeout) are stored at SIGTERM: the
    first worker keeps the engine open until the others have drained through it."""
    grpc, http, ch, metrics = free_port(), free_port(), free_port(), free_port()
    extra = "processors:\n          batch: {timeout: 60s, send_batch_size: 100000}"
    collector = Collector(tmp_path, workers_config(tmp_path, grpc, http, ch, metrics, extra=extra, processors="batch")).start()
    sent = send_over_many_connections(grpc, http, "held")
    assert stored(ch) == 0  # still in the batch processors
    assert collector.stop() == 0
    result = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "query", "SELECT count() FROM otel.otel_traces", "--path", str(tmp_path / "ch"),
         "--endpoint", f"127.0.0.1:{free_port()}", "--format", "csv"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) == sent
    assert "worker 1\tsummitcol.service\tShutdown complete." in collector.log()


def test_persistent_queues_are_per_worker(tmp_path: Path) -> None:
    grpc, http, ch, metrics = free_port(), free_port(), free_port(), free_port()
    config = workers_config(tmp_path, grpc, http, ch, metrics).replace(
        "storage: chdb", "storage: chdb\n            sending_queue: {storage: file_storage}"
    ).replace("extensions: [chdb]", "extensions: [chdb, file_storage]").replace(
        "        extensions:\n", f"        extensions:\n          file_storage: {{directory: {tmp_path}/queue}}\n", 1
    )
    with Collector(tmp_path, config):
        sent = send_over_many_connections(grpc, http, "q")
        assert wait_for(lambda: stored(ch) == sent)
    queue = tmp_path / "queue"
    assert sorted(p.name for p in queue.iterdir()) == ["exporter_clickhouse", "worker-1"]
    assert sorted(p.name for p in (queue / "worker-1").iterdir()) == ["exporter_clickhouse"]


def test_single_process_components_and_bad_worker_counts(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    base = f"""
        receivers:
          otlp:
            protocols:
              grpc: {{endpoint: 127.0.0.1:{free_port()}}}
        exporters:
          file: {{path: {out}}}
        service:
          workers: WORKERS
          telemetry: {{metrics: {{level: none}}}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [file]}}
        """
    for workers, message in (
        ("2", "exporter 'file' cannot run in 2 worker processes: it appends to and rotates one file; set service::workers: 1"),
        ("-1", "workers must be 0 (one per CPU) or a number of processes"),
    ):
        path = tmp_path / f"w{workers}.yaml"
        path.write_text(base.replace("WORKERS", workers))
        result = subprocess.run(
            [sys.executable, "-m", "summitcol.cli", "validate", "--config", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 1
        assert message in result.stderr, result.stderr
    # left to the collector (0), a single-process component means one process, and it says why
    with Collector(tmp_path, base.replace("WORKERS", "0")) as collector:
        assert "running one worker process: exporter 'file' needs a single process (it appends to and rotates one file)" in collector.log()
        assert worker_pids(collector) == []


def test_a_port_taken_by_another_process_fails_loudly(tmp_path: Path) -> None:
    """SO_REUSEPORT would let two collectors share a port; the first worker checks first."""
    grpc, http, ch, metrics = free_port(), free_port(), free_port(), free_port()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        squatter.bind(("127.0.0.1", grpc))
        squatter.listen()
        collector = Collector(tmp_path, workers_config(tmp_path, grpc, http, ch, metrics))
        with pytest.raises(RuntimeError, match="exited with 1"):
            collector.start()
    assert (  # checked before anything starts (service/ports.py)
        f"cannot listen on 127.0.0.1:{grpc} (receivers::otlp::protocols::grpc::endpoint): Address already in use; "
        "is another collector running?"
    ) in collector.log()


def test_merged_metrics_add_up_counters_and_keep_the_longest_uptime() -> None:
    first, second = Telemetry(), Telemetry()
    first.count("receiver_accepted", Signal.TRACES, 5, receiver="otlp", transport="grpc")
    second.count("receiver_accepted", Signal.TRACES, 7, receiver="otlp", transport="grpc")
    second.count("receiver_accepted", Signal.TRACES, 3, receiver="otlp", transport="http")
    second.started = first.started - 100
    text = merge_expositions([first.exposition(), second.exposition(), b""]).decode()
    assert 'otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"} 12.0' in text
    assert 'otelcol_receiver_accepted_spans_total{receiver="otlp",transport="http"} 3.0' in text
    assert "# TYPE otelcol_receiver_accepted_spans_total counter" in text
    uptime = sample_sum(text, "otelcol_process_uptime")
    assert 100 <= uptime < 160
    rss = sample_sum(text, "otelcol_process_memory_rss")
    assert rss > sample_sum(first.exposition().decode(), "otelcol_process_memory_rss")
    from prometheus_client.parser import text_string_to_metric_families

    assert {f.name for f in text_string_to_metric_families(text)} >= {"otelcol_receiver_accepted_spans", "otelcol_process_uptime"}


def test_a_workers_queue_survives_a_smaller_worker_count_and_is_sent_later(tmp_path: Path) -> None:
    """Worker 1's persistent queue outlives a run with one worker (which warns where it is) and
    is sent when worker 1 runs again: nothing acknowledged is lost by changing `workers`."""
    grpc, http, gateway_port = free_port(), free_port(), free_port()
    out = tmp_path / "gateway.jsonl"

    def agent(workers: int) -> Collector:
        return Collector(
            tmp_path,
            f"""
            receivers:
              otlp:
                protocols:
                  grpc: {{endpoint: 127.0.0.1:{grpc}}}
                  http: {{endpoint: 127.0.0.1:{http}}}
            exporters:
              otlp_grpc:
                endpoint: 127.0.0.1:{gateway_port}
                tls: {{insecure: true}}
                timeout: 1s
                sending_queue: {{storage: file_storage, drain_timeout: 1s}}  # the stops below keep it, not wait 30 s
            extensions:
              file_storage: {{directory: {tmp_path}/queue}}
            service:
              workers: {workers}
              extensions: [file_storage]
              telemetry: {{metrics: {{level: none}}}}
              pipelines:
                traces: {{receivers: [otlp], exporters: [otlp_grpc]}}
            """,
            f"agent{workers}",
        )

    with agent(2):  # the gateway is down: everything stays queued
        sent = send_over_many_connections(grpc, http, "kept")
    assert any((tmp_path / "queue" / "worker-1").iterdir())
    with agent(1) as single:
        pass
    assert re.search(r"worker-1 holds \d+ unsent request\(s\) of worker 1's persistent queue", single.log()), single.log()
    assert "run with service::workers: 2 or more to send them" in single.log()
    gateway = Collector(
        tmp_path,
        f"""
        receivers:
          otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{gateway_port}}}}}}}
        exporters:
          file: {{path: {out}}}
        service:
          telemetry: {{metrics: {{level: none}}}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [file]}}
        """,
        "gateway",
    )
    with gateway, agent(2):
        assert wait_for(lambda: len(spans_by_id(read_file_export(out)[ExportTraceServiceRequest])) == sent, timeout=60)


def test_memory_limits_count_every_worker(tmp_path: Path) -> None:
    """The limiter compares the whole collector's RSS (worker 0 and its children) with its limits,
    and says so when the idle collector is already over them."""
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(64 << 20); time.sleep(60)"])
    try:
        assert wait_for(lambda: process_rss_bytes(child.pid) > 64 << 20)
        alone = process_rss_bytes()
        together = collector_rss_bytes(Worker(index=1, count=2, owner_pid=os.getpid()))
        assert together - alone > 64 << 20
    finally:
        child.kill()
        child.wait()
    grpc = free_port()
    config = f"""
        receivers:
          otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{grpc}}}}}}}
        processors:
          memory_limiter: {{check_interval: 100ms, limit_mib: 300, spike_limit_mib: 120}}
        exporters:
          parquet: {{path: {tmp_path}/pq}}
        service:
          workers: 2
          telemetry: {{metrics: {{level: none}}}}
          pipelines:
            traces: {{receivers: [otlp], processors: [memory_limiter], exporters: [parquet]}}
        """
    with Collector(tmp_path, config) as collector:
        assert wait_for(lambda: "above the soft limit of 180 MiB" in collector.log(), timeout=20), collector.log()
        assert "raise limit_mib or lower service::workers (its 2 processes hold" in collector.log()
