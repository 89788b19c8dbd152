"""Sentry SDK traffic through the sentry receiver into ClickHouse: events/s and transactions/s per core.

    .venv/bin/python -m perf.sentry_bench [--seconds 10] [--senders 8] [--processes 2] [--kinds events,transactions]

One collector (one worker): `sentry` → (`fingerprint` on logs) → `clickhouse` on embedded chDB.
Sender processes (spawned; aiohttp, `--senders` concurrent keep-alive connections each, closed
loop as SDKs are: one envelope per request) post pre-built envelopes of one kind per phase:

* `events`: an error event with a 12-frame Python exception, tags, user and request (what
  `sentry_sdk.capture_exception` sends), 200 distinct exception messages;
* `transactions`: a transaction with 5 child spans and web-vital measurements.

Per phase: envelopes accepted per second, latency p50/p99, refusals (503: a full pipeline pushing
back, which SDKs drop), the collector's CPU (cores) and peak RSS, and items per second per core
(accepted / CPU cores); the rows stored are counted once the exporter has drained and must equal
what was accepted (else exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import requests

from perf.loadgen.procstat import Sampler
from tests.helpers import Collector, free_port

KEY = "ab" * 16


def event(i: int) -> dict:  # type: ignore[type-arg]
    frames = [{"filename": f"shop/module{j}.py", "module": f"shop.module{j}", "function": f"step{j}", "lineno": 10 + j,
               "abs_path": f"/srv/shop/module{j}.py", "in_app": True, "context_line": f"    return step{j + 1}(order)"} for j in range(12)]
    return {"event_id": uuid.uuid4().hex, "platform": "python", "level": "error", "release": "shop@1.2.3", "environment": "prod",
            "timestamp": time.time(), "tags": {"region": "eu", "tier": "web"}, "user": {"id": f"user-{i % 50}"},
            "request": {"url": "https://shop.example/checkout", "method": "POST"},
            "exception": {"values": [{"type": "OrderError", "value": f"order {i % 200} cannot be checked out",
                                      "stacktrace": {"frames": frames}, "mechanism": {"type": "generic", "handled": True}}]},
            "sdk": {"name": "sentry.python", "version": "2.75.0"}}


def transaction(i: int) -> dict:  # type: ignore[type-arg]
    now, trace = time.time(), uuid.uuid4().hex
    root = uuid.uuid4().hex[:16]
    spans = [{"span_id": uuid.uuid4().hex[:16], "parent_span_id": root, "trace_id": trace, "op": "db", "description": f"SELECT {j}",
              "start_timestamp": now - 0.5 + j * 0.05, "timestamp": now - 0.45 + j * 0.05, "status": "ok"} for j in range(5)]
    return {"type": "transaction", "event_id": uuid.uuid4().hex, "transaction": f"GET /products/{i % 30}", "platform": "javascript",
            "start_timestamp": now - 1, "timestamp": now, "release": "web@3", "environment": "prod",
            "contexts": {"trace": {"trace_id": trace, "span_id": root, "op": "pageload", "status": "ok"}}, "spans": spans,
            "measurements": {"lcp": {"value": 1200.5, "unit": "millisecond"}, "fcp": {"value": 800, "unit": "millisecond"},
                             "cls": {"value": 0.02, "unit": ""}}}


def envelopes(kind: str, count: int) -> list[bytes]:
    out = []
    for i in range(count):
        payload = json.dumps(event(i) if kind == "events" else transaction(i)).encode()
        item_type = "event" if kind == "events" else "transaction"
        out.append(b"\n".join([b"{}", json.dumps({"type": item_type, "length": len(payload)}).encode(), payload]))
    return out


def sender(url: str, kind: str, senders: int, seconds: float, start_at: float) -> tuple[int, list[float], dict[int, int]]:
    """One process: `senders` connections posting envelopes back to back until `seconds` pass."""
    import aiohttp

    bodies = envelopes(kind, 400)

    async def run() -> tuple[int, list[float], dict[int, int]]:
        latencies: list[float] = []
        codes: dict[int, int] = {}
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = time.monotonic() + seconds
        headers = {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={KEY}", "Content-Type": "application/x-sentry-envelope"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:
            async def one(index: int) -> None:
                n = index
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    async with session.post(url, data=bodies[n % len(bodies)], headers=headers) as response:
                        await response.read()
                        codes[response.status] = codes.get(response.status, 0) + 1
                    latencies.append(time.monotonic() - started)
                    n += senders

            await asyncio.gather(*(one(i) for i in range(senders)))
        return codes.get(200, 0), latencies, codes

    return asyncio.run(run())


def config(port: int, ch_port: int, data: Path) -> str:
    return f"""
receivers:
  sentry:
    endpoint: 127.0.0.1:{port}
    projects:
      - {{id: 1, keys: [{KEY}], service_name: bench}}
processors:
  fingerprint: {{storage: chdb}}
exporters:
  clickhouse:
    storage: chdb
extensions:
  chdb:
    path: {data / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
service:
  workers: 1
  telemetry: {{metrics: {{level: none}}}}
  extensions: [chdb]
  pipelines:
    logs: {{receivers: [sentry], processors: [fingerprint], exporters: [clickhouse]}}
    traces: {{receivers: [sentry], exporters: [clickhouse]}}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=8, help="connections per sender process")
    parser.add_argument("--processes", type=int, default=2, help="sender processes")
    parser.add_argument("--kinds", default="events,transactions")
    args = parser.parse_args(argv)
    port, ch_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/api/1/envelope/"
    failed = False
    print(f"{'kind':12} {'envelopes/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'503/s':>6} {'CPU cores':>9} {'per core/s':>10} {'RSS MiB':>7} {'stored':>8}")
    with tempfile.TemporaryDirectory(prefix="sentry-bench-") as tmp, Collector(Path(tmp), config(port, ch_port, Path(tmp))) as collector, \
            ProcessPoolExecutor(max_workers=args.processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert collector.process is not None
        accepted_total = {"events": 0, "transactions": 0}
        for kind in args.kinds.split(","):
            print(f"{kind} ...", file=sys.stderr, flush=True)
            start_at = time.time() + 2.0
            futures = [pool.submit(sender, url, kind, args.senders, args.seconds, start_at) for _ in range(args.processes)]
            time.sleep(max(0.0, start_at - time.time()))
            sampler = Sampler(collector.process.pid).start()
            results = [future.result() for future in futures]
            usage = sampler.stop()
            accepted = sum(r[0] for r in results)
            accepted_total[kind] += accepted
            latencies = sorted(x for r in results for x in r[1])
            codes: dict[int, int] = {}
            for r in results:
                for code, n in r[2].items():
                    codes[code] = codes.get(code, 0) + n
            refused = codes.get(503, 0)  # a full pipeline pushes back: the SDK drops it, never counted as stored
            if set(codes) - {200, 503}:
                failed = True
                print(f"{kind}: answers other than 200 and 503: {codes}")
            cores = usage.cpu_percent / 100
            rate = accepted / args.seconds
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
            table = "otel.otel_logs" if kind == "events" else "otel.otel_traces"
            count = f"SELECT count() FROM {table}" + (" WHERE ParentSpanId = ''" if kind == "transactions" else "")
            stored, deadline = -1, time.monotonic() + 60
            while time.monotonic() < deadline:  # until the exporter's queue has drained
                now = int(requests.post(f"http://127.0.0.1:{ch_port}/", data=count, timeout=60).text)
                if now == accepted_total[kind] or now == stored:
                    stored = now
                    break
                stored = now
                time.sleep(2)
            if stored != accepted_total[kind]:
                failed = True
                print(f"{kind}: {accepted_total[kind]} accepted, {stored} stored")
            print(f"{kind:12} {rate:>11,.0f} {statistics.median(latencies) * 1e3 if latencies else 0:>7.1f} {p99 * 1e3:>7.1f} "
                  f"{refused / args.seconds:>6.0f} "
                  f"{cores:>9.2f} {rate / cores if cores else 0:>10,.0f} {usage.rss_peak_mib:>7.0f} {stored:>8}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
