"""OTLP latency while GitHub webhooks flood the same collector (issue #16).

    .venv/bin/python -m perf.webhook_flood_bench [--rate 5000] [--batch 100] [--seconds 10] [--rounds 3]
        [--senders 8] [--bad-share 0.1]

One collector (one worker): receivers `otlp` (HTTP) and `github` (signed webhook), traces → batch →
clickhouse on embedded chDB. The project's open-loop load generator (perf/loadgen, its own spawned
processes, latency from each request's scheduled time) offers `--rate` spans/s of OTLP/HTTP; the
phases alternate `alone` (OTLP only) and `flood` (OTLP plus `--senders` aiohttp clients in this
process posting `workflow_job` deliveries back to back: signed, a fresh X-GitHub-Delivery each,
and a `--bad-share` of bad ones, half with a wrong signature (401 expected), half malformed JSON
signed correctly (400 expected)). Per phase: OTLP req/s, p50, p99, webhooks accepted per second,
rejections by code, the collector's CPU (cores) and peak RSS; then the median over rounds of
flood-p99 / alone-p99 and the spread of alone p99 between rounds (the noise to compare with).
Exits 1 if any OTLP request failed or a webhook got a code other than the one expected.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from perf.loadgen.core import LoadResult, WorkerPlan, merge, worker_main
from perf.loadgen.procstat import Sampler, Usage
from tests.helpers import Collector, free_port

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/data/cicd/github/job-test-completed.json"
SECRET = "flood-bench-secret"
EXPECTED = {"good": 200, "bad-signature": 401, "malformed": 400}


def config(otlp_port: int, hook_port: int, data: Path, batch: bool = True) -> str:
    processors = "[batch]" if batch else "[]"
    return f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp_port}
  github:
    webhook:
      endpoint: 127.0.0.1:{hook_port}
      secret: {SECRET}
processors:
  batch:
    send_batch_size: 50000
    timeout: 2s
exporters:
  clickhouse:
    storage: chdb
    sending_queue:
      num_consumers: 2
extensions:
  chdb:
    path: {data / "clickhouse"}
service:
  extensions: [chdb]
  telemetry: {{metrics: {{level: none}}}}
  workers: 1
  pipelines:
    traces:
      receivers: [otlp, github]
      processors: {processors}
      exporters: [clickhouse]
"""


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Flood:
    """`senders` coroutines on a loop of their own (a thread of this process), each posting the next
    delivery as soon as the previous is answered; every `round(1 / bad_share)`-th one is bad."""

    url: str
    senders: int
    bad_share: float
    codes: Counter[tuple[str, int]] = field(default_factory=Counter)  # (kind, status)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.body = FIXTURE.read_bytes()
        self.malformed = self.body[: len(self.body) // 2]  # cut in the middle: not JSON
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()))

    def _delivery(self, n: int) -> tuple[str, bytes, str]:
        every = round(1 / self.bad_share) if self.bad_share > 0 else 0
        if every and n % every == every - 1:
            if (n // every) % 2:
                return "malformed", self.malformed, sign(self.malformed)
            return "bad-signature", self.body, sign(self.body + b"x")
        return "good", self.body, sign(self.body)

    async def _sender(self, session: aiohttp.ClientSession, index: int) -> None:
        n = index
        while not self.stop.is_set():
            kind, body, signature = self._delivery(n)
            headers = {"X-GitHub-Event": "workflow_job", "X-GitHub-Delivery": str(uuid.uuid4()),
                       "X-Hub-Signature-256": signature, "Content-Type": "application/json"}
            try:
                async with session.post(self.url, data=body, headers=headers) as response:
                    await response.read()
                    self.codes[kind, response.status] += 1
            except (TimeoutError, aiohttp.ClientError):
                self.codes[kind, 0] += 1
            n += self.senders

    async def _run(self) -> None:
        started = time.perf_counter()
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.senders), timeout=timeout) as session:
            await asyncio.gather(*(self._sender(session, i) for i in range(self.senders)))
        self.seconds = time.perf_counter() - started

    def __enter__(self) -> Flood:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def unexpected(self) -> dict[tuple[str, int], int]:
        return {key: count for key, count in self.codes.items() if key[1] != EXPECTED[key[0]]}


@dataclass(slots=True)
class Phase:
    name: str
    load: LoadResult
    usage: Usage
    seconds: float
    flood: Flood | None = None


def offer(pool: ProcessPoolExecutor, target: str, args: argparse.Namespace, pid: int, round_: int) -> tuple[LoadResult, Usage]:
    """One phase of OTLP load from the already started pool; the collector sampled over the schedule."""
    processes = pool._max_workers  # type: ignore[attr-defined]
    start_at = time.time() + 1.0
    plans = [WorkerPlan(target=target, signal="traces", rate=args.rate / args.batch / processes, duration=args.seconds,
                        start_at=start_at, batch=args.batch, seed=round_ * 10 + i + 1, connections=2)
             for i in range(processes)]
    futures = [pool.submit(worker_main, plan) for plan in plans]
    time.sleep(max(0.0, start_at - time.time()))
    sampler = Sampler(pid).start()
    results = [future.result() for future in futures]
    return merge(results, args.seconds, args.batch), sampler.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000, help="OTLP spans per second")
    parser.add_argument("--batch", type=int, default=100, help="spans per OTLP request")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3, help="alone + flood pairs")
    parser.add_argument("--senders", type=int, default=8, help="concurrent webhook senders")
    parser.add_argument("--bad-share", type=float, default=0.1, help="share of bad deliveries (401 and 400)")
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--no-batch", action="store_true", help="no batch processor (each request its own insert)")
    args = parser.parse_args(argv)

    otlp_port, hook_port = free_port(), free_port()
    target, url = f"http://127.0.0.1:{otlp_port}", f"http://127.0.0.1:{hook_port}/events"
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="flood-") as tmp, Collector(Path(tmp), config(otlp_port, hook_port, Path(tmp), not args.no_batch)) as collector, \
            ProcessPoolExecutor(max_workers=args.processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert collector.process is not None
        pid = collector.process.pid
        print(f"collector pid {pid} ready; warming up", file=sys.stderr, flush=True)
        with Flood(url, 2, args.bad_share):
            offer(pool, target, argparse.Namespace(**{**vars(args), "seconds": 2.0}), pid, 99)
        for round_ in range(args.rounds):
            for name in ("alone", "flood"):
                print(f"round {round_ + 1}/{args.rounds}: {name} ...", file=sys.stderr, flush=True)
                started = time.perf_counter()
                if name == "alone":
                    load, usage = offer(pool, target, args, pid, round_)
                    phases.append(Phase(name, load, usage, time.perf_counter() - started))
                else:
                    with Flood(url, args.senders, args.bad_share) as flood:
                        load, usage = offer(pool, target, args, pid, round_)
                    phases.append(Phase(name, load, usage, time.perf_counter() - started, flood))
                last = phases[-1]
                print(f"  p99 {last.load.p99_ms:.1f} ms, errors {last.load.errors or 'none'}", file=sys.stderr, flush=True)
    return report(phases, args)


def report(phases: list[Phase], args: argparse.Namespace) -> int:
    print(f"OTLP/HTTP {args.rate:,.0f} spans/s in requests of {args.batch}, {args.seconds:.0f} s per phase; "
          f"flood: {args.senders} senders, {args.bad_share:.0%} bad")
    print(f"{'round':>5} {'phase':6} {'OTLP req/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'hooks 2xx/s':>11} "
          f"{'rejected':18} {'CPU cores':>9} {'RSS MiB':>7}")
    failed = False
    for index, phase in enumerate(phases):
        load, flood = phase.load, phase.flood
        ok_rps = (load.requests - sum(load.errors.values())) / args.seconds
        hooks, rejected = "-", "-"
        if flood is not None:
            accepted = sum(n for (_, status), n in flood.codes.items() if 200 <= status < 300)
            hooks = f"{accepted / flood.seconds:,.0f}"
            by_code: Counter[int] = Counter()
            for (_, status), n in flood.codes.items():
                if not 200 <= status < 300:
                    by_code[status] += n
            rejected = " ".join(f"{code}:{n}" for code, n in sorted(by_code.items())) or "none"
            if flood.unexpected():
                failed = True
                print(f"unexpected webhook answers (kind, status): count: {flood.unexpected()}")
        if load.errors:
            failed = True
            print(f"OTLP errors: {load.errors}")
        print(f"{index // 2 + 1:>5} {phase.name:6} {ok_rps:>10.0f} {load.p50_ms:>7.1f} {load.p99_ms:>7.1f} {hooks:>11} "
              f"{rejected:18} {phase.usage.cpu_percent / 100:>9.2f} {phase.usage.rss_peak_mib:>7.0f}")
    alone = [p.load.p99_ms for p in phases if p.name == "alone"]
    ratios = [f.load.p99_ms / a.load.p99_ms for a, f in zip(phases[::2], phases[1::2], strict=False)]
    if ratios:
        print(f"flood-p99 / alone-p99: median {statistics.median(ratios):.2f} over {len(ratios)} rounds "
              f"({', '.join(f'{r:.2f}' for r in ratios)}); alone p99 spread {min(alone):.1f}-{max(alone):.1f} ms "
              f"(max/min {max(alone) / min(alone):.2f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
