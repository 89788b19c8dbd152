"""Open-loop OTLP load generator.

    python -m perf.loadgen --target grpc://127.0.0.1:4317 --signal traces --rate 20000 --duration 30 \
        [--batch 500] [--processes 2] [--pid <collector pid>] [--clickhouse http://127.0.0.1:8123]

Prints offered and acknowledged rates, errors by status code, latency percentiles (measured from
each request's scheduled send time), the collector's CPU% and RSS (from /proc of `--pid` and its
children), and, with `--clickhouse`, the loss check: records acknowledged vs records stored.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from perf.loadgen.core import run_load
from perf.loadgen.procstat import Sampler

TABLES = {"traces": ["otel_traces"], "logs": ["otel_logs"], "metrics": [
    "otel_metrics_gauge", "otel_metrics_sum", "otel_metrics_histogram", "otel_metrics_exponential_histogram", "otel_metrics_summary"
]}  # fmt: skip


def stored_count(url: str, signal: str, database: str = "otel") -> int:
    """Rows in the signal's tables, through a ClickHouse HTTP interface."""
    import urllib.request

    total = 0
    for table in TABLES[signal]:
        query = f"SELECT count() FROM {database}.{table}".encode()
        with urllib.request.urlopen(urllib.request.Request(url, data=query), timeout=60) as response:
            total += int(response.read().decode().strip() or 0)
    return total


def wait_stored(url: str, signal: str, expected: int, timeout: float = 120.0, baseline: int = 0) -> int:
    """Poll until `expected` new rows are stored or the count stops moving for 10 s."""
    deadline = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        stored = stored_count(url, signal) - baseline
        if stored >= expected:
            return stored
        if stored != last:
            last, last_change = stored, time.monotonic()
        elif time.monotonic() - last_change > 10:
            return stored
        time.sleep(0.5)
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="grpc://127.0.0.1:4317")
    parser.add_argument("--signal", choices=["traces", "logs", "metrics"], default="traces")
    parser.add_argument("--rate", type=float, required=True, help="records per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--batch", type=int, default=500, help="records per request")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2, help="connections per process")
    parser.add_argument("--pid", type=int, help="collector pid, for CPU%% and RSS")
    parser.add_argument("--clickhouse", help="ClickHouse HTTP URL, for the loss check")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    baseline = stored_count(args.clickhouse, args.signal) if args.clickhouse else 0
    sampler = Sampler(args.pid).start() if args.pid else None
    print(f"offering {args.rate:,.0f} {args.signal} records/s for {args.duration:.0f}s ...", file=sys.stderr, flush=True)
    result = run_load(args.target, args.signal, args.rate, args.duration, args.batch, args.processes, args.connections)
    usage = sampler.stop() if sampler else None
    out = {"load": asdict(result), "usage": asdict(usage) if usage else None}
    if args.clickhouse:
        stored = wait_stored(args.clickhouse, args.signal, result.acked_records, baseline=baseline)
        out["stored"] = stored
        out["lost"] = result.acked_records - stored
    if args.json:
        print(json.dumps(out))
        return 0
    r = result
    print(f"offered   {r.offered_rps:>12,.0f} records/s   ({r.requests} requests of {args.batch})")
    print(f"acked     {r.acked_rps:>12,.0f} records/s   errors: {r.errors or 'none'}")
    print(f"latency   p50 {r.p50_ms:.1f} ms  p90 {r.p90_ms:.1f}  p99 {r.p99_ms:.1f}  p99.9 {r.p999_ms:.1f}  max {r.max_ms:.1f}")
    if usage:
        print(f"collector CPU {usage.cpu_percent:.0f}% (100% = one core)  RSS peak {usage.rss_peak_mib:.0f} MiB")
    if args.clickhouse:
        print(f"loss      acknowledged {r.acked_records:,}  stored {out['stored']:,}  lost {out['lost']:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
