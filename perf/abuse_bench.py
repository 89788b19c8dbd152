"""A well-behaved client's latency beside cheap-to-send, costly-to-serve requests (issue #12, item 9).

    .venv/bin/python perf/abuse_bench.py [--seconds 6] [--abusers 6]

Starts a collector (OTLP/HTTP → debug exporter, one worker) and measures a well-behaved client
sending 10-span protobuf requests back to back: first alone (baseline), then beside `--abusers`
threads each sending, in a loop, one of:

- `gzip-members`: 2 MB of 100,000 empty gzip members (refused with 400 past 1,000 members);
- `million-spans`: 2 MB of 1,000,000 spans without ids (refused with 400 past max_records_per_request);
- `junk-2MB` (control): 2 MB of truncated protobuf, refused at the first byte it cannot read: what
  receiving any 2 MB body costs, so the two above can be compared with plain bandwidth.

Prints p50/p99/max of the well-behaved client per phase, the ratio of its p99 to the baseline's,
and what the abusive requests got (status, their own median latency).

`--tenant-limit BYTES_PER_S`: the receiver authenticates with the `tenants` extension; the
well-behaved client is tenant `good` (no limit), the abusers tenant `abuser`, limited to that many
bytes per second, so past its burst an abusive request is refused (429) by its Content-Length
before its body is read (status 0 in the output: the collector closed the connection while the
abuser was still sending).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml  # noqa: E402
from tests.receiver.otlp.test_bad_input import good_request  # noqa: E402

GOOD = good_request("well-behaved", 10).SerializeToString()


def million_spans() -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for _ in range(1_000_000):
        spans.add()
    return request.SerializeToString()


def junk_2mb() -> bytes:
    """Control: 2 MB that fail at once (a truncated protobuf): what any 2 MB body costs to receive."""
    request = good_request("junk")
    request.resource_spans[0].resource.attributes[0].value.string_value = "x" * 2_000_000
    return request.SerializeToString()[:2_000_000]


ABUSES = {
    "gzip-members": (lambda: gzip.compress(b"") * 100_000, {"Content-Encoding": "gzip"}),
    "million-spans": (million_spans, {}),
    "junk-2MB": (junk_2mb, {}),
}


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    """(status, seconds); status 0 when the collector closed the connection before answering."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf", **headers})
        response = connection.getresponse()
        response.read()
        status = response.status
    except (ConnectionError, http.client.HTTPException):
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - start


AUTH: dict[str, dict[str, str]] = {"good": {}, "abuser": {}}  # headers per role (set with --tenant-limit)


def well_behaved(port: int, seconds: float) -> list[float]:
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        status, latency = post(port, GOOD, AUTH["good"])
        assert status == 200, status
        latencies.append(latency)
    return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"n={len(ordered):5d} p50={statistics.median(ordered) * 1e3:7.1f} ms p99={p99 * 1e3:7.1f} ms max={ordered[-1] * 1e3:7.1f} ms"


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--abusers", type=int, default=6)
    parser.add_argument("--tenant-limit", type=float, default=0.0, help="abusers' tenant: bytes per second (0: no tenants)")
    args = parser.parse_args()
    port = free_port()
    extra = ""
    if args.tenant_limit:
        AUTH.update(good={"Authorization": "Bearer good-token"}, abuser={"Authorization": "Bearer abuser-token"})
        extra = f"""extensions:
  tenants:
    tenants:
      good: {{tokens: [good-token]}}
      abuser: {{tokens: [abuser-token], limits: {{bytes_per_second: {args.tenant_limit}}}}}
"""
    receivers = receiver_yaml(None, port).replace(f"endpoint: 127.0.0.1:{port}",
                                                  f"endpoint: 127.0.0.1:{port}\n        auth: {{authenticator: tenants}}") \
        if args.tenant_limit else receiver_yaml(None, port)
    config = f"""
{extra}receivers:
{receivers}
exporters:
  debug:
{pipelines_yaml("otlp", "", "debug")}
  workers: 1
{"  extensions: [tenants]" if args.tenant_limit else ""}
"""
    with tempfile.TemporaryDirectory() as tmp, Collector(Path(tmp), config):
        well_behaved(port, 1.0)  # warm up
        baseline = well_behaved(port, args.seconds)
        print(f"baseline        {summary(baseline)}")
        for name, (make, headers) in ABUSES.items():
            body = make()
            loaded, abusive = beside_abusers(port, body, headers, args.abusers, args.seconds)
            statuses = sorted({status for status, _ in abusive})
            median = statistics.median(latency for _, latency in abusive) if abusive else float("nan")
            print(
                f"{name:15s} {summary(loaded)}  p99/baseline={p99(loaded) / p99(baseline):5.2f}  "
                f"abusive: {len(abusive)} x {len(body) / 1e6:.1f} MB, status {statuses}, median {median * 1e3:.0f} ms"
            )


def _abuse(port: int, body: bytes, headers: dict[str, str], stop: Any, results: Any) -> None:
    """One abuser process: `body` in a loop until `stop`; its (status, latency) list at the end."""
    done = []
    while not stop.is_set():
        done.append(post(port, body, headers))
    results.put(done)


def beside_abusers(
    port: int, body: bytes, headers: dict[str, str], abusers: int, seconds: float
) -> tuple[list[float], list[tuple[int, float]]]:
    """The well-behaved client's latencies while `abusers` processes (not threads: they would
    share this process's GIL with the well-behaved client and slow it down themselves) send `body`
    in a loop, and what the abusive requests got (status, latency)."""
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    processes = [context.Process(target=_abuse, args=(port, body, {**headers, **AUTH["abuser"]}, stop, results))
                 for _ in range(abusers)]
    for process in processes:
        process.start()
    time.sleep(1.5)  # spawned: importing this module takes a moment
    loaded = well_behaved(port, seconds)
    stop.set()
    abusive = [item for _ in processes for item in results.get(timeout=120)]
    for process in processes:
        process.join()
    return loaded, abusive


if __name__ == "__main__":
    main()
