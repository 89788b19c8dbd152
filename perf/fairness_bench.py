"""One heavy client beside a well-behaved one (issue #12 item 7): the heavy client keeps many
requests in flight whose records are all rejected (partial success: a 15-byte trace id), the
well-behaved one sends small valid requests one at a time. Prints the well-behaved client's
latency and refusals alone and beside the heavy client, and the heavy client's refusals.

    .venv/bin/python -m perf.fairness_bench [--seconds 20] [--heavy-streams 16]

The collector: otlp → memory_limiter (limit 600 MiB, spike 300) → batch → parquet, one worker.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parent.parent
TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LIMIT_MIB, SPIKE_MIB = 600, 300


def request(spans: int, *, valid: bool, seed: int, attributes: int = 8) -> bytes:
    """`spans` spans with `attributes` 40-byte attributes each; invalid ones have a 15-byte trace id."""
    message = ExportTraceServiceRequest()
    rs = message.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "valid" if valid else "heavy"
    out = rs.scope_spans.add().spans
    now = time.time_ns()
    for i in range(spans):
        span = out.add(name=f"op-{i % 10}", start_time_unix_nano=now, end_time_unix_nano=now + 1000)
        ident = seed * 1_000_000 + i + 1
        span.trace_id = ident.to_bytes(16, "big") if valid else ident.to_bytes(15, "big")
        span.span_id = ident.to_bytes(8, "big")
        for a in range(attributes):
            span.attributes.add(key=f"attr.{a}").value.string_value = f"{ident:040d}"
    return message.SerializeToString()


def config(grpc_port: int, out: Path, metrics_port: int) -> str:
    return f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc_port}
        max_recv_msg_size_mib: 64
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: {LIMIT_MIB}
    spike_limit_mib: {SPIKE_MIB}
  batch:
exporters:
  parquet:
    path: {out}
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics_port}
  workers: 1
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [parquet]
"""


class Heavy:
    """`streams` concurrent calls on one connection, each sending the rejected-records request
    again as soon as it is answered; counts the answers."""

    def __init__(self, port: int, streams: int, spans: int = 2000) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)])
        self.export = self.channel.unary_unary(TRACES)
        self.body = request(spans, valid=False, seed=999)
        self.outcomes: Counter[str] = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(streams)]

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.export(self.body, timeout=60)
                self.outcomes["OK"] += 1
            except grpc.RpcError as exc:
                self.outcomes[exc.code().name] += 1  # type: ignore[attr-defined]

    def __enter__(self) -> Heavy:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.channel.close()


def well_behaved(port: int, count: int, spans: int = 1000) -> tuple[Counter[str], list[float]]:
    """`count` valid requests, one at a time, on a connection of their own: outcomes, latencies (ms)."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
    export = channel.unary_unary(TRACES)
    outcomes: Counter[str] = Counter()
    latencies = []
    for n in range(count):
        body = request(spans, valid=True, seed=n + 1)
        started = time.perf_counter()
        try:
            export(body, timeout=60)
            outcomes["OK"] += 1
        except grpc.RpcError as exc:
            outcomes[exc.code().name] += 1  # type: ignore[attr-defined]
        latencies.append((time.perf_counter() - started) * 1000)
    channel.close()
    return outcomes, latencies


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="well-behaved requests per phase")
    parser.add_argument("--heavy-streams", type=int, default=24)
    args = parser.parse_args()
    from tests.helpers import free_port  # the same loopback helper the tests use

    tmp = Path(tempfile.mkdtemp(prefix="fairness-"))
    port = free_port()
    (tmp / "c.yaml").write_text(config(port, tmp / "parquet", free_port()))
    with open(tmp / "log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "summitcol", "--config", str(tmp / "c.yaml")], stdout=log,
                                stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        while "Everything is ready" not in (tmp / "log").read_text(errors="replace"):
            if proc.poll() is not None:
                raise SystemExit((tmp / "log").read_text())
            time.sleep(0.2)
        alone, alone_ms = well_behaved(port, args.requests)
        with Heavy(port, args.heavy_streams) as heavy:
            beside, beside_ms = well_behaved(port, args.requests)
        for name, outcomes, ms in (("alone", alone, alone_ms), ("beside the heavy client", beside, beside_ms)):
            print(f"well-behaved {name}: p50 {_p(ms, 50):.1f} ms, p99 {_p(ms, 99):.1f} ms, {dict(outcomes)}")
        refused = heavy.outcomes["UNAVAILABLE"]
        print(f"heavy client: {dict(heavy.outcomes)} ({100 * refused / max(1, sum(heavy.outcomes.values())):.0f}% refused)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)


if __name__ == "__main__":
    main()
