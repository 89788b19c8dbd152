"""Ingestion latency while a tenant's reader runs runaway queries (issue #20).

    .venv/bin/python -m perf.runaway_query_bench [--rate 5000] [--batch 100] [--seconds 10] [--rounds 3]
        [--queries 1] [--max-execution-time 3]

One collector (one worker): `otlp` (HTTP, `auth: {authenticator: tenants}`) → `batch` → `clickhouse`
on embedded chDB, whose HTTP interface has a reader of tenant `acme` and `query_limits:
{max_execution_time: --max-execution-time}`. The project's open-loop load generator (perf/loadgen)
offers `--rate` spans/s as acme; the phases alternate `alone` and `runaway`, where `--queries`
threads of this process post, back to back, a cross join of otel_traces with 10^11 numbers (it
would run for hours) as the reader. Per phase: OTLP p50/p99, runaway queries answered and their
codes, the collector's CPU and peak RSS; then the median of runaway-p99 / alone-p99 and the spread
of alone p99 between rounds (the noise). Exits 1 if an OTLP request failed or a runaway query was
answered with anything but a limit's code (159 TIMEOUT_EXCEEDED, 241 MEMORY_LIMIT_EXCEEDED).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from perf.loadgen.core import LoadResult, WorkerPlan, merge, worker_main
from perf.loadgen.procstat import Sampler, Usage
from tests.helpers import Collector, free_port

RUNAWAY = ("SELECT count() FROM otel.otel_traces AS a CROSS JOIN numbers(100000000000) AS n "
           "WHERE cityHash64(a.SpanName, n.number) = 0")
LIMIT_CODES = {"159", "241"}


def config(port: int, ch_port: int, data: Path, max_execution_time: float) -> str:
    return f"""
extensions:
  tenants:
    tenants:
      acme: {{tokens: [acme-token]}}
  chdb:
    path: {data / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
    query_limits: {{max_execution_time: {max_execution_time}s}}
    users:
      - {{name: acme-reader, password: reader-pass, tenant: acme, role: reader}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{port}", auth: {{authenticator: tenants}}}}
processors:
  batch: {{}}
exporters:
  clickhouse:
    storage: chdb
service:
  workers: 1
  extensions: [tenants, chdb]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [clickhouse]}}
"""


@dataclass
class Runaways:
    """`threads` readers posting the runaway query back to back until stopped."""

    url: str
    threads: int
    codes: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.workers = [threading.Thread(target=self._run) for _ in range(self.threads)]

    def _run(self) -> None:
        while not self.stop.is_set():
            reply = requests.post(self.url, data=RUNAWAY, auth=("acme-reader", "reader-pass"), timeout=120)
            self.codes[reply.headers.get("X-ClickHouse-Exception-Code", str(reply.status_code))] += 1

    def __enter__(self) -> Runaways:
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for worker in self.workers:
            worker.join()


@dataclass(slots=True)
class Phase:
    name: str
    load: LoadResult
    usage: Usage
    runaways: Runaways | None = None


def offer(pool: ProcessPoolExecutor, target: str, args: argparse.Namespace, pid: int, seed: int) -> tuple[LoadResult, Usage]:
    start_at = time.time() + 1.0
    plan = WorkerPlan(target=target, signal="traces", rate=args.rate / args.batch, duration=args.seconds, start_at=start_at,
                      batch=args.batch, seed=seed, connections=2, headers={"Authorization": "Bearer acme-token"})
    future = pool.submit(worker_main, plan)
    time.sleep(max(0.0, start_at - time.time()))
    sampler = Sampler(pid).start()
    return merge([future.result()], args.seconds, args.batch), sampler.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000, help="OTLP spans per second")
    parser.add_argument("--batch", type=int, default=100, help="spans per request")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=1, help="concurrent runaway queries")
    parser.add_argument("--max-execution-time", type=float, default=3.0, help="the query limit, seconds")
    args = parser.parse_args(argv)
    port, ch_port = free_port(), free_port()
    target = f"http://127.0.0.1:{port}"
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="runaway-") as tmp, \
            Collector(Path(tmp), config(port, ch_port, Path(tmp), args.max_execution_time)) as collector, \
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert collector.process is not None
        pid = collector.process.pid
        print(f"collector pid {pid} ready; warming up", file=sys.stderr, flush=True)
        offer(pool, target, argparse.Namespace(**{**vars(args), "seconds": 2.0}), pid, 99)
        for round_ in range(args.rounds):
            for name in ("alone", "runaway"):
                print(f"round {round_ + 1}/{args.rounds}: {name} ...", file=sys.stderr, flush=True)
                if name == "alone":
                    phases.append(Phase(name, *offer(pool, target, args, pid, round_ * 10 + 1)))
                else:
                    with Runaways(f"http://127.0.0.1:{ch_port}/", args.queries) as runaways:
                        load, usage = offer(pool, target, args, pid, round_ * 10 + 2)
                    phases.append(Phase(name, load, usage, runaways))
                print(f"  p99 {phases[-1].load.p99_ms:.1f} ms", file=sys.stderr, flush=True)
    return report(phases, args)


def report(phases: list[Phase], args: argparse.Namespace) -> int:
    print(f"OTLP/HTTP {args.rate:,.0f} spans/s in requests of {args.batch}, {args.seconds:.0f} s per phase; "
          f"{args.queries} runaway quer{'y' if args.queries == 1 else 'ies'} at a time, max_execution_time {args.max_execution_time:g}s")
    print(f"{'round':>5} {'phase':8} {'OTLP p50':>8} {'OTLP p99':>8} {'queries':>7} {'codes':12} {'CPU cores':>9} {'RSS MiB':>7}")
    failed = False
    for index, phase in enumerate(phases):
        if phase.load.errors:
            failed = True
            print(f"OTLP errors: {phase.load.errors}")
        queries, codes = "-", "-"
        if phase.runaways is not None:
            queries = str(sum(phase.runaways.codes.values()))
            codes = " ".join(f"{code}:{n}" for code, n in sorted(phase.runaways.codes.items()))
            if set(phase.runaways.codes) - LIMIT_CODES:
                failed = True
                print(f"runaway queries answered other than by a limit: {dict(phase.runaways.codes)}")
        print(f"{index // 2 + 1:>5} {phase.name:8} {phase.load.p50_ms:>8.1f} {phase.load.p99_ms:>8.1f} {queries:>7} {codes:12} "
              f"{phase.usage.cpu_percent / 100:>9.2f} {phase.usage.rss_peak_mib:>7.0f}")
    alone = [p.load.p99_ms for p in phases if p.name == "alone"]
    ratios = [r.load.p99_ms / a.load.p99_ms for a, r in zip(phases[::2], phases[1::2], strict=False)]
    if ratios:
        print(f"runaway-p99 / alone-p99: median {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}); "
              f"alone p99 spread {min(alone):.1f}-{max(alone):.1f} ms (max/min {max(alone) / min(alone):.2f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
