"""tail_sampling holds acknowledged spans: a refusal by the next stage must not lose them (they
are retried, and new data is refused while too many wait); the decision caches are exact."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyarrow as pa

from summitcol.component import ComponentID, CreateSettings
from summitcol.exceptions import InvalidDataError, RetryableError
from summitcol.pdata.signal import SignalData
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
