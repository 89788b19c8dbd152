"""The batch processor: size and time triggers, the max-size cap; acknowledged on receipt with
refused flushes retried (not dropped) and a bounded hold; with `wait_for_result`, refusals reach
every caller."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.errors import RetryableError
from summitcol.pdata.signal import SignalData
from summitcol.pdata.traces import traces_from_otlp
from summitcol.processors.batch import BatchProcessor, Config
from summitcol.telemetry import Telemetry
from tests.helpers import async_wait_for


def spans(prefix: str, n: int) -> SignalData:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i in range(n):
        scope.spans.add(name=f"{prefix}{i}", trace_id=bytes(16), span_id=(i + 1).to_bytes(8, "big"))
    return SignalData(Signal.TRACES, {"spans": traces_from_otlp(request)[0]})


class Recorder:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def consume(self, data: SignalData) -> None:
        if self.fail is not None:
            raise self.fail
        self.batches.append(data.tables["spans"].column("SpanName").to_pylist())


def make(config: Config, recorder: Recorder) -> BatchProcessor:
    settings = CreateSettings(id=ComponentID("batch"), telemetry=Telemetry())
    return BatchProcessor(settings, config, next_consumer=recorder)


def test_flushes_when_send_batch_size_is_reached() -> None:
    async def scenario() -> list[list[str]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=10, timeout=timedelta(hours=1)), recorder)
        await asyncio.gather(*(processor.consume(spans(p, 4)) for p in "abc"))
        await processor.shutdown()  # acknowledged on receipt: wait for the flush the size triggered
        return recorder.batches

    assert asyncio.run(scenario()) == [["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "c0", "c1", "c2", "c3"]]


def test_flushes_after_timeout_and_waits_for_the_result_when_asked() -> None:
    async def scenario() -> tuple[list[list[str]], float]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=1000, timeout=timedelta(milliseconds=50), wait_for_result=True), recorder)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await processor.consume(spans("t", 3))
        return recorder.batches, loop.time() - start

    batches, waited = asyncio.run(scenario())
    assert batches == [["t0", "t1", "t2"]]
    assert waited >= 0.04


def test_max_size_caps_every_batch() -> None:
    async def scenario() -> list[list[str]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=4, send_batch_max_size=5, timeout=timedelta(milliseconds=10)), recorder)
        await processor.consume(spans("x", 12))
        await processor.consume(spans("y", 3))
        await processor.shutdown()
        return recorder.batches

    batches = asyncio.run(scenario())
    assert all(len(b) <= 5 for b in batches)
    assert [name for b in batches for name in b] == [f"x{i}" for i in range(12)] + ["y0", "y1", "y2"]


def test_acknowledged_on_receipt_then_flushed_after_timeout() -> None:
    async def scenario() -> tuple[list[list[str]], list[list[str]]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=1000, timeout=timedelta(milliseconds=50)), recorder)
        await processor.consume(spans("t", 3))
        before = list(recorder.batches)  # acknowledged, and not flushed yet: not held for the timeout
        assert await async_wait_for(lambda: recorder.batches)
        return before, recorder.batches

    before, after = asyncio.run(scenario())
    assert before == [] and after == [["t0", "t1", "t2"]]


class Flaky(Recorder):
    """Refuses the first `refusals` flushes retryably, then records."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    async def consume(self, data: SignalData) -> None:
        if self.refusals:
            self.refusals -= 1
            raise RetryableError("queue full", retry_after=0.05)
        await super().consume(data)


def test_refused_flush_is_retried_not_dropped() -> None:
    async def scenario() -> list[list[str]]:
        recorder = Flaky(refusals=3)
        processor = make(Config(send_batch_size=2, timeout=timedelta(hours=1)), recorder)
        await processor.consume(spans("r", 2))
        await processor.shutdown()
        return recorder.batches

    assert asyncio.run(scenario()) == [["r0", "r1"]]


def test_hold_limit_refuses_new_data_retryably() -> None:
    async def scenario() -> tuple[BaseException | None, list[list[str]]]:
        recorder = Flaky(refusals=10**6)
        processor = make(Config(send_batch_size=4, timeout=timedelta(hours=1), max_pending_items=8), recorder)
        await processor.consume(spans("a", 4))
        await processor.consume(spans("b", 4))
        try:
            await processor.consume(spans("c", 4))
            refused = None
        except RetryableError as exc:
            refused = exc
        recorder.refusals = 0
        await processor.shutdown()
        return refused, recorder.batches

    refused, batches = asyncio.run(scenario())
    assert isinstance(refused, RetryableError) and "holds 8 items" in str(refused)
    assert sorted(n for b in batches for n in b) == [f"a{i}" for i in range(4)] + [f"b{i}" for i in range(4)]


def test_refusal_reaches_every_caller_of_the_batch() -> None:
    async def scenario() -> list[BaseException | None]:
        processor = make(Config(send_batch_size=6, timeout=timedelta(hours=1), wait_for_result=True), Recorder(RetryableError("downstream full", retry_after=3)))
        return await asyncio.gather(*(processor.consume(spans(p, 3)) for p in "ab"), return_exceptions=True)

    results = asyncio.run(scenario())
    assert [type(r) for r in results] == [RetryableError, RetryableError]
    assert all(r.retry_after == 3 for r in results)  # type: ignore[union-attr]


def test_shutdown_flushes_pending_and_later_arrivals_at_once() -> None:
    async def scenario() -> list[list[str]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=1000, timeout=timedelta(hours=1), wait_for_result=True), recorder)
        pending = asyncio.ensure_future(processor.consume(spans("p", 2)))
        await asyncio.sleep(0)
        await processor.shutdown()
        await pending
        await asyncio.wait_for(processor.consume(spans("late", 1)), timeout=5)
        return recorder.batches

    assert asyncio.run(scenario()) == [["p0", "p1"], ["late0"]]


@pytest.mark.parametrize("bad", [{"send_batch_size": -1}, {"timeout": timedelta(seconds=-1)}, {"metadata_keys": ["tenant"]}])
def test_invalid_configs(bad: dict) -> None:  # type: ignore[type-arg]
    from summitcol.errors import ConfigError

    with pytest.raises(ConfigError):
        Config(**bad).validate()
