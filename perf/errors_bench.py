"""Error tracking on one core, in process: OTLP requests where every span carries an exception.

    .venv/bin/python perf/errors_bench.py [--distinct 1000,100000] [--shape bugs,unique] [--batch 500]
        [--model builtin|none] [--min-exceptions 50000] [--passes 2]

For each (distinct, shape): pre-serialized requests that walk through `distinct` distinct stack
texts (perf/corpus.py `error_storm_request`: 70% Python, 15% Java, 15% Node.js), then per request
the decode (C decoder) and `ErrorTracker.process` — parse, fingerprint, group (the built-in model
unless `--model none`), store the decisions in a real `GroupStore` on an embedded chDB engine in a
temp dir, annotate, build the events_error_v1 rows. Every pass is as long as the distinct texts
(at least `--min-exceptions`), so the first pass sees each text for the first time and later
passes find them in the tracker's LRU (20,000 entries: with 100,000 texts it never hits).

Throughput is exceptions per CPU second of this process (all its threads, chDB's included), so
it is per core whatever else runs on the machine; latency is per request (decode + process);
peak RSS is the process's. The bar (issue #15): >= 20,000 exceptions/s per core.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from corpus import error_storm_request, trace_request  # noqa: E402

from summitcol.component import Signal  # noqa: E402
from summitcol.errors.grouping import Grouper  # noqa: E402
from summitcol.errors.model import PairModel, builtin_model_path  # noqa: E402
from summitcol.errors.store import GroupStore  # noqa: E402
from summitcol.errors.tracker import ErrorTracker  # noqa: E402
from summitcol.extensions.chdb.engine import Engine  # noqa: E402
from summitcol.extensions.chdb.writer import EmbeddedWriter  # noqa: E402
from summitcol.pdata.codec import decode_request  # noqa: E402

BAR = 20_000


@dataclass(slots=True)
class PassResult:
    exceptions: int
    cpu_s: float
    wall_s: float
    decode_cpu_s: float
    latencies_ms: list[float]
    new_groups: int

    @property
    def per_core(self) -> float:
        return self.exceptions / self.cpu_s if self.cpu_s else 0.0

    def pct(self, p: float) -> float:
        return float(np.percentile(self.latencies_ms, p)) if self.latencies_ms else 0.0


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(distinct: int, shape: str, batch: int, exceptions: int) -> list[bytes]:
    """One pass: requests covering the texts 0, 1, ... in order, `exceptions` spans in all."""
    base = time.time_ns() - 60_000_000_000
    return [
        error_storm_request(batch, first=first, distinct=distinct, shape=shape, base_ns=base).SerializeToString()
        for first in range(0, exceptions, batch)
    ]


def one_pass(tracker: ErrorTracker, requests: list[bytes], batch: int) -> PassResult:
    latencies: list[float] = []
    decode_cpu = 0.0
    new_groups = 0
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for body in requests:
        t0, c0 = time.perf_counter(), time.process_time()
        data, _ = decode_request(Signal.TRACES, body, "proto")
        decode_cpu += time.process_time() - c0
        result = tracker.process("spans", data.tables["spans"])
        latencies.append((time.perf_counter() - t0) * 1000)
        new_groups += result.new_groups
        assert result.errors is not None
    return PassResult(len(requests) * batch, time.process_time() - cpu0, time.perf_counter() - wall0, decode_cpu, latencies, new_groups)


def s1_cost(model: PairModel | None, args: argparse.Namespace) -> int:
    """Spans/s per core of decode alone and of decode + the processor, on S1's requests."""
    base = time.time_ns() - 60_000_000_000
    requests = [trace_request(args.batch, seed=v, base_ns=base).SerializeToString() for v in range(8)] * 25
    tmp = tempfile.mkdtemp(prefix="errors-bench-")
    engine = Engine(os.path.join(tmp, "ch"), 1, {})
    try:
        store = GroupStore(EmbeddedWriter(engine))
        store.create_schema()
        tracker = ErrorTracker(Grouper(model), store)
        one_pass(tracker, requests[:8], args.batch)  # first sight of S1's fingerprint
        c0 = time.process_time()
        for body in requests:
            decode_request(Signal.TRACES, body, "proto")
        decode_s = time.process_time() - c0
        r = one_pass(tracker, requests, args.batch)
    finally:
        engine.close()
        shutil.rmtree(tmp, ignore_errors=True)
    spans = len(requests) * args.batch
    print(f"S1 corpus, {args.batch} spans per request (5% exceptions), {len(requests)} requests")
    print(f"decode only:             {spans / decode_s:>9,.0f} spans/s per core, {1000 * decode_s / len(requests):.2f} ms CPU per request")
    print(f"decode + fingerprint:    {spans / r.cpu_s:>9,.0f} spans/s per core, {1000 * r.cpu_s / len(requests):.2f} ms CPU per request "
          f"(p50 {r.pct(50):.1f} ms, p99 {r.pct(99):.1f} ms)")
    print(f"fingerprint processor:   {1000 * (r.cpu_s - decode_s) / len(requests):.2f} ms CPU per request, "
          f"{1e6 * (r.cpu_s - decode_s) / (spans / 20):.0f} µs per exception")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distinct", default="1000,100000", help="comma-separated distinct stack-trace texts")
    parser.add_argument("--shape", default="bugs,unique", help="bugs (50 bugs, many texts) and/or unique (a fingerprint per text)")
    parser.add_argument("--batch", type=int, default=500, help="spans (= exceptions) per request")
    parser.add_argument("--model", choices=["builtin", "none"], default="builtin")
    parser.add_argument("--min-exceptions", type=int, default=50_000, help="per pass")
    parser.add_argument("--max-exceptions", type=int, default=0, help="cap a pass (0: none); the texts beyond it are not sent")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--s1", action="store_true", help="instead: S1's corpus (5%% exceptions), the cost of the processor on S1")
    args = parser.parse_args(argv)

    model = None
    model_path = builtin_model_path()
    if args.model == "builtin":
        if not model_path.is_file():
            print(f"no built-in model at {model_path}: running Grouper(None)")
        else:
            model = PairModel.load(None)
    print(f"grouping: {'built-in model ' + model_path.name if model else 'Grouper(None) (fingerprints only)'}; "
          f"{args.batch} exceptions per request; every span an exception; 70% Python, 15% Java, 15% Node.js")
    header = (f"{'distinct':>8} {'shape':<7} {'pass':<5} {'exceptions':>10} {'exc/s/core':>11} {'decode %':>8} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'new groups':>10} {'RSS MiB':>8}")
    rows = []
    if args.s1:
        return s1_cost(model, args)
    for distinct in [int(d) for d in args.distinct.split(",")]:
        for shape in args.shape.split(","):
            exceptions = max(distinct, args.min_exceptions)
            exceptions = min(exceptions, args.max_exceptions) if args.max_exceptions else exceptions
            exceptions -= exceptions % args.batch
            before = rss_mib()
            requests = build(distinct, shape, args.batch, exceptions)
            pool = sum(len(r) for r in requests) / 2**20
            with_pool = rss_mib()
            tmp = tempfile.mkdtemp(prefix="errors-bench-")
            engine = Engine(os.path.join(tmp, "ch"), 1, {})
            try:
                store = GroupStore(EmbeddedWriter(engine))
                store.create_schema()
                tracker = ErrorTracker(Grouper(model), store)
                print(f"\n{distinct:,} distinct texts, shape {shape}: {len(requests)} requests, {pool:.0f} MiB of protobuf "
                      f"(RSS {before:.0f} → {with_pool:.0f} MiB with the pool, {rss_mib():.0f} with the engine)", flush=True)
                print(header)
                for n in range(args.passes):
                    r = one_pass(tracker, requests, args.batch)
                    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    label = "cold" if n == 0 else f"{n + 1}"
                    print(f"{distinct:>8,} {shape:<7} {label:<5} {r.exceptions:>10,} {r.per_core:>11,.0f} "
                          f"{100 * r.decode_cpu_s / r.cpu_s:>7.1f}% {r.pct(50):>7.1f} {r.pct(99):>7.1f} {r.new_groups:>10,} "
                          f"{peak:>8.0f}", flush=True)
                    rows.append((distinct, shape, label, r, peak))
                groups = len(set(tracker.grouper.groups.values()))
                print(f"fingerprints {len(tracker.grouper.groups):,}, groups {groups:,}")
            finally:
                engine.close()
                shutil.rmtree(tmp, ignore_errors=True)
            del requests
    worst = min(r.per_core for _, _, _, r, _ in rows)
    print(f"\nslowest pass: {worst:,.0f} exceptions/s per core (bar {BAR:,}: {'met' if worst >= BAR else 'NOT met'}); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
