"""A quiet tenant's latency while a noisy tenant sends ten times its rate limit (issue #20).

    .venv/bin/python -m perf.tenant_limits_bench [--quiet-rate 2000] [--limit 2000] [--over 10]
        [--batch 100] [--seconds 10] [--rounds 3]

One collector (one worker): `otlp` (HTTP) with `auth: {authenticator: tenants}`, traces → batch →
clickhouse on embedded chDB. Two tenants: `quiet` (no limit) and `noisy` (`--limit` spans/s,
burst one second). The project's open-loop load generator (perf/loadgen, spawned processes,
latency from each request's scheduled time) offers, per round, three phases:

* `alone`: the quiet tenant's `--quiet-rate` spans/s by itself;
* `at-limit`: the same, beside the noisy tenant sending exactly its limit (all accepted);
* `over`: the same, beside the noisy tenant sending `--over` times its limit (the rest refused
  with 429 before decoding).

The bar is the quiet tenant's p99 in `over` against `at-limit` (what the noisy tenant may send
anyway): within 20%. Per phase: the quiet tenant's p50/p99, the noisy tenant's accepted and
refused requests, the collector's CPU and peak RSS. Exits 1 if the quiet tenant got any error or
the noisy tenant got anything but 200 and 429.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from perf.loadgen.core import LoadResult, WorkerPlan, merge, worker_main
from perf.loadgen.procstat import Sampler, Usage
from tests.helpers import Collector, free_port

PHASES = ("alone", "at-limit", "over")


def config(port: int, data: Path, limit: float) -> str:
    return f"""
extensions:
  tenants:
    tenants:
      quiet: {{tokens: [quiet-token]}}
      noisy: {{tokens: [noisy-token], limits: {{records_per_second: {limit}}}}}
  chdb:
    path: {data / "clickhouse"}
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


@dataclass(slots=True)
class Phase:
    name: str
    quiet: LoadResult
    noisy: LoadResult | None
    usage: Usage


def plan(target: str, token: str, rate: float, args: argparse.Namespace, start_at: float, seed: int) -> WorkerPlan:
    return WorkerPlan(target=target, signal="traces", rate=rate / args.batch, duration=args.seconds, start_at=start_at,
                      batch=args.batch, seed=seed, connections=2, headers={"Authorization": f"Bearer {token}"})


def run_phase(pool: ProcessPoolExecutor, target: str, name: str, args: argparse.Namespace, pid: int, round_: int) -> Phase:
    start_at = time.time() + 1.0
    quiet = pool.submit(worker_main, plan(target, "quiet-token", args.quiet_rate, args, start_at, round_ * 10 + 1))
    noisy_rate = {"alone": 0.0, "at-limit": args.limit, "over": args.limit * args.over}[name]
    noisy = pool.submit(worker_main, plan(target, "noisy-token", noisy_rate, args, start_at, round_ * 10 + 2)) if noisy_rate else None
    time.sleep(max(0.0, start_at - time.time()))
    sampler = Sampler(pid).start()
    quiet_result = merge([quiet.result()], args.seconds, args.batch)
    noisy_result = merge([noisy.result()], args.seconds, args.batch) if noisy is not None else None
    return Phase(name, quiet_result, noisy_result, sampler.stop())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet-rate", type=float, default=2000, help="the quiet tenant's spans per second")
    parser.add_argument("--limit", type=float, default=2000, help="the noisy tenant's limit, spans per second")
    parser.add_argument("--over", type=float, default=10, help="how many times its limit the noisy tenant sends")
    parser.add_argument("--batch", type=int, default=100, help="spans per request")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    port = free_port()
    target = f"http://127.0.0.1:{port}"
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="tenants-") as tmp, Collector(Path(tmp), config(port, Path(tmp), args.limit)) as collector, \
            ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert collector.process is not None
        pid = collector.process.pid
        print(f"collector pid {pid} ready; warming up", file=sys.stderr, flush=True)
        run_phase(pool, target, "at-limit", argparse.Namespace(**{**vars(args), "seconds": 2.0}), pid, 99)
        for round_ in range(args.rounds):
            for name in PHASES:
                print(f"round {round_ + 1}/{args.rounds}: {name} ...", file=sys.stderr, flush=True)
                phases.append(run_phase(pool, target, name, args, pid, round_))
                print(f"  quiet p99 {phases[-1].quiet.p99_ms:.1f} ms", file=sys.stderr, flush=True)
    return report(phases, args)


def report(phases: list[Phase], args: argparse.Namespace) -> int:
    print(f"OTLP/HTTP, requests of {args.batch} spans, {args.seconds:.0f} s per phase; quiet tenant {args.quiet_rate:,.0f} spans/s; "
          f"noisy tenant limited to {args.limit:,.0f} spans/s, sending {args.over:g}x that in `over`")
    print(f"{'round':>5} {'phase':8} {'quiet p50':>9} {'quiet p99':>9} {'noisy 200/s':>11} {'noisy 429/s':>11} {'CPU cores':>9} {'RSS MiB':>7}")
    failed = False
    for index, phase in enumerate(phases):
        if phase.quiet.errors:
            failed = True
            print(f"quiet tenant errors: {phase.quiet.errors}")
        ok = refused = "-"
        if phase.noisy is not None:
            other = {code: n for code, n in phase.noisy.errors.items() if code != "HTTP_429"}
            if other:
                failed = True
                print(f"noisy tenant: answers other than 200 and 429: {other}")
            ok = f"{(phase.noisy.requests - sum(phase.noisy.errors.values())) / args.seconds:,.0f}"
            refused = f"{phase.noisy.errors.get('HTTP_429', 0) / args.seconds:,.0f}"
        print(f"{index // 3 + 1:>5} {phase.name:8} {phase.quiet.p50_ms:>9.1f} {phase.quiet.p99_ms:>9.1f} {ok:>11} {refused:>11} "
              f"{phase.usage.cpu_percent / 100:>9.2f} {phase.usage.rss_peak_mib:>7.0f}")
    by_round = [phases[i:i + 3] for i in range(0, len(phases), 3)]
    over_vs_limit = [r[2].quiet.p99_ms / r[1].quiet.p99_ms for r in by_round if len(r) == 3]
    over_vs_alone = [r[2].quiet.p99_ms / r[0].quiet.p99_ms for r in by_round if len(r) == 3]
    at_limit = [r[1].quiet.p99_ms for r in by_round if len(r) == 3]
    if over_vs_limit:
        print(f"quiet p99, over / at-limit: median {statistics.median(over_vs_limit):.2f} ({', '.join(f'{r:.2f}' for r in over_vs_limit)}); "
              f"over / alone: median {statistics.median(over_vs_alone):.2f}; at-limit p99 spread {min(at_limit):.1f}-{max(at_limit):.1f} ms "
              f"(max/min {max(at_limit) / min(at_limit):.2f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
