"""Sampler cost: probabilistic_sampler spans/s per mode, tail_sampling ingest and decision spans/s
and memory per 100k traces in flight.

    .venv/bin/python perf/sampling_bench.py
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from corpus import trace_request  # noqa: E402

from summitcol.component import ComponentID, CreateSettings, Signal  # noqa: E402
from summitcol.pdata.codec import decode_request  # noqa: E402
from summitcol.pdata.signal import SignalData  # noqa: E402
from summitcol.processors.memory_limiter import release_memory  # noqa: E402
from summitcol.processors.probabilistic_sampler import Config as PConfig  # noqa: E402
from summitcol.processors.probabilistic_sampler import ProbabilisticSampler  # noqa: E402
from summitcol.processors.tail_sampling import Config as TConfig  # noqa: E402
from summitcol.processors.tail_sampling import DecisionCache, TailSampler  # noqa: E402
from summitcol.telemetry import Telemetry, process_rss_bytes  # noqa: E402

MIB = 1024 * 1024


class Sink:
    def __init__(self) -> None:
        self.spans = 0

    async def consume(self, data: SignalData) -> None:
        self.spans += data.item_count()


def settings(name: str) -> CreateSettings:
    return CreateSettings(id=ComponentID(name), telemetry=Telemetry())


def probabilistic(batch: pa.RecordBatch) -> None:
    print(f"{'probabilistic_sampler mode':<28} {'spans/s (one core)':>20}")
    for mode in ("hash_seed", "proportional", "equalizing"):
        sampler = ProbabilisticSampler(settings("p"), PConfig(sampling_percentage=10, hash_seed=1, mode=mode), next_consumer=None)  # type: ignore[arg-type]
        sampler.sample(batch)
        start, rounds = time.perf_counter(), 50
        for _ in range(rounds):
            sampler.sample(batch)
        print(f"{mode:<28} {rounds * batch.num_rows / (time.perf_counter() - start):>20,.0f}", flush=True)


def with_trace_ids(batch: pa.RecordBatch, traces: int, spans_per_trace: int, rng: random.Random) -> pa.RecordBatch:
    ids = [rng.randbytes(16).hex() for _ in range(traces)]
    column = pa.array([ids[i // spans_per_trace] for i in range(traces * spans_per_trace)], pa.string())
    rows = batch.take(pa.array([i % batch.num_rows for i in range(traces * spans_per_trace)]))
    return rows.set_column(rows.schema.get_field_index("TraceId"), rows.schema.field("TraceId"), column)


async def tail(batch: pa.RecordBatch) -> None:
    rng = random.Random(1)
    traces_per_request, spans_per_trace, requests = 2000, 4, 50  # 100k traces, 400k spans
    chunks = [with_trace_ids(batch, traces_per_request, spans_per_trace, rng) for _ in range(requests)]
    sink = Sink()
    policies = [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "slow", "type": "latency", "latency": {"threshold_ms": 500}},
        {"name": "some", "type": "probabilistic", "probabilistic": {"sampling_percentage": 5}},
    ]
    sampler = TailSampler(settings("t"), TConfig(decision_wait=timedelta(hours=1), num_traces=1_000_000, policies=policies), next_consumer=sink)
    release_memory()
    before = process_rss_bytes()
    start = time.perf_counter()
    for chunk in chunks:
        await sampler.consume(SignalData(Signal.TRACES, {"spans": chunk}))
    ingest = time.perf_counter() - start
    held = process_rss_bytes() - before
    start = time.perf_counter()
    await sampler.shutdown()  # decides all 100k traces at once
    decide = time.perf_counter() - start
    spans = traces_per_request * spans_per_trace * requests
    print(f"tail_sampling: ingest {spans / ingest:,.0f} spans/s; deciding 100k traces ({spans:,} spans) "
          f"{spans / decide:,.0f} spans/s; {held / MIB:.0f} MiB RSS for 100k traces (400k spans) in flight; "
          f"kept {sink.spans:,} spans")


def decision_cache_probe(rounds: int = 20) -> None:
    """Probing a batch of 1,000 spans against a full decision cache (100,000 ids): the cache as
    it is kept now vs. the list → Arrow array → is_in that ran on every batch before (issue #13)."""
    rng = random.Random(2)
    cached = [rng.randbytes(16).hex() for _ in range(100_000)]
    batch_ids = pa.array([rng.choice(cached) if i % 10 == 0 else rng.randbytes(16).hex() for i in range(1000)], pa.string())
    cache = DecisionCache(limit=100_000)
    cache.add(pa.array(cached, pa.string()))
    cache.probe(batch_ids)  # the sorted digests are built once per change of the cache
    start = time.perf_counter()
    for _ in range(rounds):
        cache.probe(batch_ids)
    now_ms = (time.perf_counter() - start) / rounds * 1e3
    ordered = dict.fromkeys(cached)
    start = time.perf_counter()
    for _ in range(rounds):
        pc.is_in(batch_ids, pa.array(list(ordered), pa.string()))
    before_ms = (time.perf_counter() - start) / rounds * 1e3
    start = time.perf_counter()
    cache.add(pa.array([rng.randbytes(16).hex() for _ in range(1000)], pa.string()))
    cache.probe(batch_ids)
    rebuild_ms = (time.perf_counter() - start) * 1e3
    print(f"decision cache (100k ids), 1,000-span batch: probe {now_ms:.2f} ms (before: {before_ms:.1f} ms); "
          f"adding 1,000 decisions + the first probe after them {rebuild_ms:.1f} ms")


def main() -> None:
    data, _ = decode_request(Signal.TRACES, trace_request(8192).SerializeToString(), "proto")
    batch = data.tables["spans"]
    probabilistic(batch)
    asyncio.run(tail(batch))
    decision_cache_probe()


if __name__ == "__main__":
    main()
