"""Open-loop, constant-rate OTLP load: the core of `perf/loadgen`.

Request k of a worker is *scheduled* at `start + k / rate`; it is sent at that time whatever
happened to the earlier ones (no waiting for responses: open loop), and its latency is measured
from the scheduled time, not from when it actually left. A collector that stalls therefore shows
the stall in every request scheduled during it — no coordinated omission. Latencies go into an
HDR histogram (microseconds, 3 significant digits).

Each worker process owns its connections and a set of pre-serialized requests (built once from
`perf/corpus.py`, with current timestamps), so sending costs no encoding.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GRPC_METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}
HTTP_PATHS = {"traces": "/v1/traces", "logs": "/v1/logs", "metrics": "/v1/metrics"}
# Error storms (issue #15): traces where every span carries an exception, walking through this
# many distinct stack texts (perf/corpus.py `error_storm_request`, shape "bugs": 50 bugs whose
# texts differ by message parameters and line numbers); `_unique` = every text its own fingerprint.
STORM_SIGNALS = {"errors_1k": (1_000, "bugs"), "errors_100k": (100_000, "bugs"),
                 "errors_1k_unique": (1_000, "unique"), "errors_100k_unique": (100_000, "unique")}
for _storm in STORM_SIGNALS:
    GRPC_METHODS[_storm], HTTP_PATHS[_storm] = GRPC_METHODS["traces"], HTTP_PATHS["traces"]
LATENCY_MAX_US = 3_600_000_000  # an hour


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, LATENCY_MAX_US, 3)


@dataclass(slots=True)
class WorkerPlan:
    """What one worker process sends."""

    target: str  # grpc://host:port or http://host:port
    signal: str
    rate: float  # requests per second for this worker
    duration: float  # seconds
    start_at: float  # time.time() when the schedule starts (shared by all workers)
    batch: int  # records per request
    seed: int
    variants: int = 8
    connections: int = 2
    max_in_flight: int = 4000
    timeout: float = 30.0
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Authorization (gRPC: as metadata, lower-cased)


@dataclass(slots=True)
class WorkerResult:
    scheduled: int = 0
    sent: int = 0
    acked_requests: int = 0
    acked_records: int = 0
    errors: Counter = field(default_factory=Counter)  # type: ignore[type-arg]
    histogram: bytes = b""  # HdrHistogram encoded
    max_send_lag_ms: float = 0.0  # how late the worker itself was in sending (its own health)


def storm_variants(signal: str, batch: int, processes: int) -> int:
    """Requests per worker so that the workers together send every distinct text of a storm once
    per round (8 for the other signals). 100,000 texts at 500 spans: 100 requests of ~0.5 MB each
    per worker — the pool holds each text once, as serialized bytes only."""
    if signal not in STORM_SIGNALS:
        return 8
    distinct = STORM_SIGNALS[signal][0]
    return max(1, -(-distinct // (batch * processes)))


def build_requests(signal: str, batch: int, seed: int, variants: int) -> list[bytes]:
    from corpus import error_storm_request, logs_request, metrics_request, trace_request

    base = time.time_ns() - 60_000_000_000
    if signal in STORM_SIGNALS:
        distinct, shape = STORM_SIGNALS[signal]
        # worker `seed` (1..N) sends texts [(seed-1)·variants·batch, seed·variants·batch) of the round
        return [
            error_storm_request(batch, first=((seed - 1) * variants + v) * batch, distinct=distinct, shape=shape, base_ns=base).SerializeToString()
            for v in range(variants)
        ]
    make = {"traces": trace_request, "logs": logs_request, "metrics": metrics_request}[signal]
    return [make(batch, seed=seed * 1000 + v, base_ns=base).SerializeToString() for v in range(variants)]


class _GrpcSender:
    def __init__(self, target: str, signal: str, connections: int, timeout: float, headers: dict[str, str]) -> None:
        import grpc

        self.grpc = grpc
        address = target.removeprefix("grpc://")
        options = [("grpc.max_send_message_length", 64 << 20), ("grpc.use_local_subchannel_pool", 1)]
        self.channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(connections)]
        self.calls = [c.unary_unary(GRPC_METHODS[signal]) for c in self.channels]
        self.timeout = timeout
        self.metadata = tuple((key.lower(), value) for key, value in headers.items()) or None

    async def send(self, k: int, body: bytes) -> str:
        try:
            await self.calls[k % len(self.calls)](body, timeout=self.timeout, metadata=self.metadata)
            return "OK"
        except self.grpc.aio.AioRpcError as exc:
            return exc.code().name

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class _HttpSender:
    def __init__(self, target: str, signal: str, connections: int, timeout: float, headers: dict[str, str]) -> None:
        import aiohttp

        self.aiohttp = aiohttp
        self.url = target.rstrip("/") + HTTP_PATHS[signal]
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(connections, 1) * 64),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        self.headers = {"Content-Type": "application/x-protobuf", **headers}

    async def send(self, k: int, body: bytes) -> str:
        try:
            async with self.session.post(self.url, data=body, headers=self.headers) as response:
                await response.read()
                return "OK" if response.status == 200 else f"HTTP_{response.status}"
        except (TimeoutError, self.aiohttp.ClientError) as exc:
            return type(exc).__name__

    async def close(self) -> None:
        await self.session.close()


async def run_plan(plan: WorkerPlan, requests: list[bytes] | None = None) -> WorkerResult:
    """Send `plan` open-loop; every latency is measured from the request's scheduled time."""
    if requests is None:
        requests = build_requests(plan.signal, plan.batch, plan.seed, plan.variants)
    sender: Any = (_GrpcSender if plan.target.startswith("grpc://") else _HttpSender)(
        plan.target, plan.signal, plan.connections, plan.timeout, plan.headers
    )
    result = WorkerResult()
    histogram = new_histogram()
    total = int(plan.rate * plan.duration)
    interval = 1.0 / plan.rate if plan.rate > 0 else 0.0
    loop = asyncio.get_running_loop()
    # The schedule is in wall-clock time shared by all workers, mapped onto this loop's clock.
    start = loop.time() + (plan.start_at - time.time())
    in_flight: set[asyncio.Task] = set()  # type: ignore[type-arg]

    async def one(k: int, scheduled: float) -> None:
        status = await sender.send(k, requests[k % len(requests)])
        latency_us = max(1, int((loop.time() - scheduled) * 1e6))
        histogram.record_value(min(latency_us, LATENCY_MAX_US))
        if status == "OK":
            result.acked_requests += 1
            result.acked_records += plan.batch
        else:
            result.errors[status] += 1

    for k in range(total):
        scheduled = start + k * interval
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        result.max_send_lag_ms = max(result.max_send_lag_ms, (loop.time() - scheduled) * 1000)
        result.scheduled += 1
        if len(in_flight) >= plan.max_in_flight:
            # Too many outstanding: the server is not answering. Count it, never wait (open loop).
            result.errors["CLIENT_IN_FLIGHT_LIMIT"] += 1
            histogram.record_value(LATENCY_MAX_US)
            continue
        task = asyncio.create_task(one(k, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        result.sent += 1
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=plan.timeout + 5)
    await sender.close()
    result.histogram = histogram.encode()
    return result


def worker_main(plan: WorkerPlan) -> WorkerResult:
    """Entry point of a worker process."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(run_plan(plan))


@dataclass(slots=True)
class LoadResult:
    offered_rps: float  # records per second offered
    acked_rps: float
    acked_records: int
    requests: int
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    max_send_lag_ms: float


def merge(results: list[WorkerResult], duration: float, batch: int) -> LoadResult:
    histogram = new_histogram()
    errors: Counter = Counter()  # type: ignore[type-arg]
    for result in results:
        if result.histogram:
            histogram.add(HdrHistogram.decode(result.histogram))
        errors.update(result.errors)
    acked = sum(r.acked_records for r in results)
    scheduled = sum(r.scheduled for r in results)

    def pct(p: float) -> float:
        return histogram.get_value_at_percentile(p) / 1000 if histogram.get_total_count() else 0.0

    return LoadResult(
        offered_rps=scheduled * batch / duration,
        acked_rps=acked / duration,
        acked_records=acked,
        requests=scheduled,
        errors=dict(errors),
        p50_ms=pct(50),
        p90_ms=pct(90),
        p99_ms=pct(99),
        p999_ms=pct(99.9),
        max_ms=histogram.get_max_value() / 1000 if histogram.get_total_count() else 0.0,
        max_send_lag_ms=max((r.max_send_lag_ms for r in results), default=0.0),
    )


def run_load(
    target: str,
    signal: str,
    rate: float,
    duration: float,
    batch: int = 500,
    processes: int = 2,
    connections: int = 2,
    timeout: float = 30.0,
) -> LoadResult:
    """`rate` records/s for `duration` s from `processes` worker processes; blocks until done."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    requests_per_s = rate / batch
    variants = storm_variants(signal, batch, processes)
    # time for spawned workers to start and build their requests (a 100k-text storm: ~100 requests)
    start_at = time.time() + 4.0 + variants * 0.08
    plans = [
        WorkerPlan(
            target=target,
            signal=signal,
            rate=requests_per_s / processes,
            duration=duration,
            start_at=start_at,
            batch=batch,
            seed=i + 1,
            variants=variants,
            connections=connections,
            timeout=timeout,
        )
        for i in range(processes)
    ]
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(worker_main, plans))
    return merge(results, duration, batch)
