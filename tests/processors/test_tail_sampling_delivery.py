"""tail_sampling holds acknowledged spans: a refusal by the next stage must not lose them (they
are retried, and new data is refused while too many wait); the decision caches are exact."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from types import SimpleNamespace

import pyarrow as pa
import pytest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exceptions import InvalidDataError, PartialRejectionError, RetryableError
from summitcol.pdata.signal import SignalData
from summitcol.processors import tail_sampling
from summitcol.processors.tail_sampling import Config, DecisionCache, TailSampler
from summitcol.telemetry import Telemetry
from tests.helpers import async_wait_for
from tests.processors.test_tail_sampling import spans

ALWAYS = [{"name": "all", "type": "always_sample"}]


class Refusing:
    """Refuses the first `refusals` batches with `error`, then records span names."""

    def __init__(self, refusals: int, error: Exception | None = None) -> None:
        self.refusals = refusals
        self.error = error or RetryableError("sending queue is full", retry_after=0.01)
        self.names: list[str] = []
        self.calls = 0

    async def consume(self, data: SignalData) -> None:
        self.calls += 1
        if self.refusals:
            self.refusals -= 1
            raise self.error
        self.names.extend(data.tables["spans"].column("SpanName").to_pylist())


def make(sink: Refusing, wait: timedelta = timedelta(seconds=30)) -> tuple[TailSampler, Telemetry]:
    telemetry = Telemetry()
    config = Config(decision_wait=wait, policies=ALWAYS)
    config.validate()
    return TailSampler(CreateSettings(id=ComponentID("tail_sampling"), telemetry=telemetry), config, next_consumer=sink), telemetry


TWO = spans((1, 1, 5, 0, {}, ""), (1, 2, 5, 0, {}, ""))


def test_one_retryable_refusal_at_stop_loses_nothing() -> None:
    async def scenario() -> list[str]:
        sink = Refusing(refusals=1)
        processor, _ = make(sink)
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        await processor.shutdown()  # decides the trace; the first hand-off is refused
        return sink.names

    assert sorted(asyncio.run(scenario())) == ["t1-s1", "t1-s2"]


def test_refused_spans_decided_by_the_timer_are_retried() -> None:
    async def scenario() -> tuple[bool, list[str], int]:
        sink = Refusing(refusals=2)
        processor, telemetry = make(sink, wait=timedelta(milliseconds=20))
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        delivered = await async_wait_for(lambda: len(sink.names) == 2)  # before any stop
        await processor.shutdown()
        return delivered, sorted(sink.names), int(telemetry.value("otelcol_processor_outgoing_items_total", processor="tail_sampling", otel_signal="traces"))

    delivered, names, outgoing = asyncio.run(scenario())
    assert delivered and names == ["t1-s1", "t1-s2"] and outgoing == 2


def test_new_data_is_refused_retryably_while_too_many_spans_wait() -> None:
    async def scenario() -> tuple[str, list[str]]:
        sink = Refusing(refusals=10**9)
        processor, _ = make(sink, wait=timedelta(milliseconds=20))
        processor.max_undelivered = 2
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        await async_wait_for(lambda: sink.calls >= 1)  # decided, handed off, refused: both spans wait
        try:
            await processor.consume(spans((2, 1, 5, 0, {}, "")))
        except RetryableError as exc:
            refused = str(exc)
        else:
            refused = ""
        sink.refusals = 0
        await processor.shutdown()
        return refused, sorted(sink.names)

    refused, names = asyncio.run(scenario())
    assert refused == "tail_sampling processor tail_sampling holds 2 sampled spans that the next stage has not taken yet; retry later"
    assert names == ["t1-s1", "t1-s2"]


def test_a_permanent_failure_is_counted_and_the_next_batch_still_delivered() -> None:
    async def scenario() -> tuple[list[str], float]:
        sink = Refusing(refusals=1, error=InvalidDataError("cannot write"))
        processor, telemetry = make(sink, wait=timedelta(milliseconds=20))
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        await async_wait_for(lambda: sink.calls == 1)  # decided by the timer and failed
        await processor.consume(spans((2, 1, 5, 0, {}, "")))
        await async_wait_for(lambda: sink.calls == 2)
        await processor.shutdown()
        return sorted(sink.names), telemetry.value("summitcol_processor_tail_sampling_dropped_spans_total", processor="tail_sampling")

    names, dropped = asyncio.run(scenario())
    assert names == ["t2-s1"] and dropped == 2


def test_decision_cache_is_exact_and_forgets_the_oldest() -> None:
    ids = [f"{i:032x}" for i in range(1, 6)]
    cache = DecisionCache(limit=3)
    cache.add(pa.array(ids[:2]))
    cache.add(pa.array(ids[2:]))  # five ids, limit three: the first two are forgotten
    probe = pa.array([ids[0], ids[4], "nothex", ids[2], "", ids[1], ids[3], ids[4]])
    assert cache.probe(probe).to_pylist() == [False, True, False, True, False, False, True, True]
    assert len(cache) == 3
    assert DecisionCache(limit=3).probe(probe).to_pylist() == [False] * 8


# What consume counts and refuses, what the outbox loses and says, and the decision timer on a
# clock the test moves (mutation run, issue #13: `consume`, `_deliver`/`_lost` and `_tick` survivors).


class Partial(Refusing):
    async def consume(self, data: SignalData) -> None:
        self.calls += 1
        if self.calls == 1:
            raise PartialRejectionError("1 span rejected", rejected=1)
        self.names.extend(data.tables["spans"].column("SpanName").to_pylist())


def test_consume_counts_spans_and_ignores_what_has_none() -> None:
    async def scenario() -> tuple[Telemetry, list[str]]:
        sink = Refusing(refusals=0)
        processor, telemetry = make(sink)
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(SignalData(Signal.LOGS, {}))
        await processor.consume(SignalData(Signal.TRACES, {"spans": TWO.tables["spans"].slice(0, 0)}))
        await processor.consume(TWO)
        await processor.consume(spans((2, 1, 5, 0, {}, "")))
        await processor.shutdown()
        return telemetry, sorted(sink.names)

    telemetry, names = asyncio.run(scenario())
    assert names == ["t1-s1", "t1-s2", "t2-s1"]
    assert telemetry.value("otelcol_processor_incoming_items_total", processor="tail_sampling", otel_signal="traces") == 3
    assert telemetry.value("otelcol_processor_outgoing_items_total", processor="tail_sampling", otel_signal="traces") == 3


def test_new_data_is_taken_while_fewer_than_the_limit_wait() -> None:
    async def scenario() -> tuple[list[str], float]:
        sink = Refusing(refusals=10**9)
        processor, _ = make(sink, wait=timedelta(milliseconds=20))
        processor.max_undelivered = 3
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        assert await async_wait_for(lambda: sink.calls >= 1)  # 2 wait, below 3: still taken
        await processor.consume(spans((2, 1, 5, 0, {}, "")))
        assert await async_wait_for(lambda: processor._outbox_spans == 3)
        with pytest.raises(RetryableError) as refused:
            await processor.consume(spans((3, 1, 5, 0, {}, "")))
        sink.refusals = 0
        await processor.shutdown()
        return sorted(sink.names), refused.value.retry_after

    names, retry_after = asyncio.run(scenario())
    assert names == ["t1-s1", "t1-s2", "t2-s1"] and retry_after == 1.0


def test_a_partial_rejection_downstream_is_settled_not_retried_or_dropped() -> None:
    async def scenario() -> tuple[Partial, Telemetry]:
        sink = Partial(refusals=0)
        processor, telemetry = make(sink, wait=timedelta(milliseconds=20))
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        assert await async_wait_for(lambda: sink.calls == 1)
        await processor.consume(spans((2, 1, 5, 0, {}, "")))
        await processor.shutdown()
        return sink, telemetry

    sink, telemetry = asyncio.run(scenario())
    assert sink.calls == 2 and sink.names == ["t2-s1"]
    assert telemetry.value("summitcol_processor_tail_sampling_dropped_spans_total", processor="tail_sampling") == 0
    assert telemetry.value("otelcol_processor_outgoing_items_total", processor="tail_sampling", otel_signal="traces") == 1


def test_what_a_stop_cannot_deliver_is_counted_and_said(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Still refused when the stop's retry time ends: every waiting span (two batches: a decided
    trace and a late span that followed it) is dropped, counted and logged, and the stop ends."""
    monkeypatch.setattr(tail_sampling, "SHUTDOWN_RETRY_S", 0.05)

    async def scenario() -> tuple[Refusing, Telemetry, int]:
        sink = Refusing(refusals=10**9)
        processor, telemetry = make(sink, wait=timedelta(milliseconds=20))
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        assert await async_wait_for(lambda: sink.calls >= 1)
        await processor.consume(spans((1, 3, 5, 0, {}, "")))  # late: follows the sampled trace into the outbox
        assert processor._outbox_spans == 3
        await asyncio.wait_for(processor.shutdown(), timeout=20)
        return sink, telemetry, processor._outbox_spans

    with caplog.at_level(logging.ERROR, logger="summitcol.processor.tail_sampling"):
        sink, telemetry, left = asyncio.run(scenario())
    assert sink.names == [] and left == 0
    assert telemetry.value("summitcol_processor_tail_sampling_dropped_spans_total", processor="tail_sampling") == 3
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "tail_sampling: 3 acknowledged sampled spans could not be delivered and are dropped: sending queue is full"
    ]


def test_a_permanent_failure_is_logged_with_its_count() -> None:
    async def scenario() -> list[logging.LogRecord]:
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append  # type: ignore[method-assign]
        logger = logging.getLogger("summitcol.processor.tail_sampling")
        logger.addHandler(handler)
        try:
            sink = Refusing(refusals=1, error=InvalidDataError("cannot write"))
            processor, _ = make(sink)
            await processor.start(None)  # type: ignore[arg-type]
            await processor.consume(TWO)
            await processor.shutdown()
        finally:
            logger.removeHandler(handler)
        return records

    messages = [r.getMessage() for r in asyncio.run(scenario()) if r.levelno >= logging.ERROR]
    assert messages == [
        "tail_sampling: the next stage failed on 2 sampled spans",
        "tail_sampling: 2 acknowledged sampled spans could not be delivered and are dropped: cannot write",
    ]


def test_the_timer_decides_a_trace_once_decision_wait_has_passed_and_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a clock the test moves: ticks every decision_wait / 4 (at most 1 s); a trace whose first
    span came at t is decided by the first tick at or after t + decision_wait, not earlier."""
    now = [500.0]
    monkeypatch.setattr(tail_sampling, "time", SimpleNamespace(monotonic=lambda: now[0]))
    original_sleep = asyncio.sleep
    ticks: list[float] = []

    async def sleep(delay: float, *args: object) -> object:
        if processor._task is not None and asyncio.current_task() is processor._task:
            ticks.append(delay)
        return await original_sleep(0 if ticks and asyncio.current_task() is processor._task else delay, *args)

    sink = Refusing(refusals=0)
    processor, _ = make(sink, wait=timedelta(seconds=8))

    async def scenario() -> tuple[list[str], list[str]]:
        monkeypatch.setattr(asyncio, "sleep", sleep)
        await processor.start(None)  # type: ignore[arg-type]
        await processor.consume(TWO)
        now[0] = 507.999
        await processor.consume(spans((2, 1, 5, 0, {}, "")))  # first seen at 507.999
        before = len(ticks)
        assert await async_wait_for(lambda: len(ticks) >= before + 3)
        early = sorted(sink.names)
        now[0] = 508.0  # trace 1's decision_wait is over exactly; trace 2's is not
        before = len(ticks)
        assert await async_wait_for(lambda: len(ticks) >= before + 3 and len(sink.names) >= 2)
        on_time = sorted(sink.names)
        await processor.shutdown()
        return early, on_time

    early, on_time = asyncio.run(scenario())
    assert early == []
    assert on_time == ["t1-s1", "t1-s2"]
    assert set(ticks) == {1.0}  # min(1 s, 8 s / 4)
    assert sorted(sink.names) == ["t1-s1", "t1-s2", "t2-s1"]  # the stop decides the rest


def test_decision_cache_stays_exact_across_merges_and_rebuilds() -> None:
    """Ids added a few at a time after probes (merged into the sorted digests), then past twice
    the limit (rebuilt): every probe answers exactly, whatever the order of the ids."""
    import random

    rng = random.Random(13)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(40)]
    cache = DecisionCache(limit=6)
    added: list[str] = []
    for start in range(0, 40, 3):
        chunk = ids[start : start + 3]
        cache.add(pa.array(chunk))
        added += chunk
        remembered = set(added[-6:])
        probe = pa.array(ids + ["0" * 32, "f" * 32])
        assert cache.probe(probe).to_pylist() == [i in remembered for i in ids] + [False, False], start
        assert len(cache) == len(remembered)
    chunked = pa.chunked_array([pa.array(ids[:20]), pa.array(ids[20:])])
    assert cache.probe(chunked).to_pylist() == [i in set(added[-6:]) for i in ids]
