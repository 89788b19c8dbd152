"""An amplification attack against `memory_limiter` (`limit_mib: 1500`, issue #12 item 6): requests
of ~300 KiB whose 200 kB resource attribute is shared by 2,000 spans (each decodes to ~400 MB of
Arrow, as resource columns repeat on every row), sent by several gRPC and HTTP clients at once.

The resident memory of the collector's process tree, sampled every 100 ms, stays under the limit;
every refusal is retryable (gRPC UNAVAILABLE, HTTP 503 with Retry-After); and every span the
collector acknowledged is stored."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import clickhouse_connect
import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for

# RSS-bounded under load: run alone, after the parallel part of `make test` (see the Makefile)
pytestmark = pytest.mark.serial

LIMIT_MIB = 1500
SPANS = 2000
BLOB = 200_000
GRPC_CLIENTS = 4
HTTP_CLIENTS = 2
REQUESTS_PER_CLIENT = 4
ATTACK_S = 12.0  # refused requests are sent again (after Retry-After, shortened) until then
TRACES_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def amplifying_request(client: int, number: int) -> bytes:
    """One resource with a 200 kB attribute and 2,000 small spans (distinct ids per request)."""
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "amplifier"
    rs.resource.attributes.add(key="blob").value.string_value = "x" * BLOB
    spans = rs.scope_spans.add().spans
    base = (client * 1000 + number) * SPANS
    now = time.time_ns()
    for i in range(SPANS):
        span = spans.add(name="s", start_time_unix_nano=now, end_time_unix_nano=now + 1000)
        span.trace_id = (base + i + 1).to_bytes(16, "big")
        span.span_id = (base + i + 1).to_bytes(8, "big")
    return request.SerializeToString()


def tree_rss_mib(pid: int) -> float:
    """Resident memory of `pid` and its descendants (the collector's workers)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as fh:
                total += int(fh.read().split("VmRSS:")[1].split()[0])
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as fh:
                stack.extend(int(p) for p in fh.read().split())
        except (OSError, IndexError):
            continue
    return total / 1024


def test_amplification_attack_stays_under_the_limit(tmp_path: Path) -> None:
    grpc_port, http_port, ch_port = free_port(), free_port(), free_port()
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: {LIMIT_MIB}
  batch:
exporters:
  clickhouse:
    storage: chdb
extensions:
  chdb:
    path: {tmp_path / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "memory_limiter, batch", "clickhouse")}
  extensions: [chdb]
  workers: 1
"""
    outcomes: Counter[str] = Counter()
    accepted: list[int] = []
    lock = threading.Lock()
    peak = [0.0]
    with Collector(tmp_path, config) as collector:
        pid = collector.process.pid  # type: ignore[union-attr]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_mib(pid))
                time.sleep(0.1)

        def record(outcome: str, number: int) -> None:
            with lock:
                outcomes[outcome] += 1
                if outcome == "ok":
                    accepted.append(number)

        def grpc_client(index: int) -> None:
            channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[("grpc.max_send_message_length", 64 << 20)])
            export = channel.unary_unary(TRACES_METHOD)
            for number in range(REQUESTS_PER_CLIENT):
                body = amplifying_request(index, number)
                while True:
                    try:
                        export(body, timeout=120)
                        record("ok", index * 1000 + number)
                        break
                    except grpc.RpcError as exc:
                        record(f"grpc {exc.code().name}", 0)  # type: ignore[attr-defined]
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.2)
            channel.close()

        def http_client(index: int) -> None:
            for number in range(REQUESTS_PER_CLIENT):
                body = amplifying_request(index, number)
                request = urllib.request.Request(
                    f"http://127.0.0.1:{http_port}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
                )
                while True:
                    try:
                        with urllib.request.urlopen(request, timeout=120) as response:
                            assert response.status == 200
                        record("ok", index * 1000 + number)
                        break
                    except urllib.error.HTTPError as exc:
                        retry_after = exc.headers.get("Retry-After")
                        record(f"http {exc.code}" + (" retry-after" if retry_after and retry_after.isdigit() else ""), 0)
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.2)

        deadline = time.monotonic() + ATTACK_S
        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [threading.Thread(target=grpc_client, args=(c,)) for c in range(GRPC_CLIENTS)]
        threads += [threading.Thread(target=http_client, args=(GRPC_CLIENTS + c,)) for c in range(HTTP_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        expected = len(accepted) * SPANS
        stored_all = wait_for(lambda: client.command("SELECT count() FROM otel.otel_traces") == expected, timeout=120)
        stored = client.command("SELECT count() FROM otel.otel_traces")
        client.close()
        done.set()
        sampler.join()
    print(f"amplification: RSS peaked at {peak[0]:.0f} MiB (limit {LIMIT_MIB}); outcomes {dict(outcomes)}")
    assert set(outcomes) <= {"ok", "grpc UNAVAILABLE", "http 503 retry-after"}, outcomes
    assert outcomes["ok"] > 0, "nothing got through"
    assert outcomes["grpc UNAVAILABLE"] + outcomes["http 503 retry-after"] > 0, "the attack never reached the limit"
    assert stored_all, f"{stored} spans stored of {expected} acknowledged"
    assert peak[0] < LIMIT_MIB, f"RSS peaked at {peak[0]:.0f} MiB"
