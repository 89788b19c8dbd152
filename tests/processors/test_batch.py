"""The batch processor: size and time triggers, the max-size cap; acknowledged on receipt with
refused flushes retried (not dropped) and a bounded hold; with `wait_for_result`, refusals reach
every caller."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exceptions import RetryableError
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
    from summitcol.exceptions import ConfigError

    with pytest.raises(ConfigError):
        Config(**bad).validate()


# Precise checks the mutation run (`make mutation`) asked for: exact error messages and limits a
# user configures by, the counters a user alerts on, and who gets which outcome of a flush.


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"max_pending_items": -1}, "max_pending_items must be 0 (automatic) or more"),
        ({"send_batch_size": -1}, "send_batch_size and send_batch_max_size must be 0 or more"),
        ({"send_batch_max_size": -1}, "send_batch_size and send_batch_max_size must be 0 or more"),
        ({"send_batch_size": 10, "send_batch_max_size": 9},
         "send_batch_max_size (9) must be >= send_batch_size (10); raise send_batch_max_size, or set it to 0 for no limit"),
        ({"timeout": timedelta(microseconds=-1)}, "timeout must not be negative"),
        ({"metadata_keys": ["tenant"]},
         "metadata_keys is not supported yet; remove it (batches are not split by client metadata)"),
    ],
)
def test_config_error_messages(bad: dict, message: str) -> None:  # type: ignore[type-arg]
    from summitcol.exceptions import ConfigError

    with pytest.raises(ConfigError) as error:
        Config(**bad).validate()
    assert str(error.value) == message


@pytest.mark.parametrize(
    "good",
    [{}, {"max_pending_items": 0, "send_batch_size": 0, "send_batch_max_size": 0, "timeout": timedelta(0), "metadata_keys": []},
     {"send_batch_size": 10, "send_batch_max_size": 10}, {"send_batch_size": 10, "send_batch_max_size": 0},
     {"send_batch_size": 0, "send_batch_max_size": 5}],
)
def test_config_boundaries_that_are_valid(good: dict) -> None:  # type: ignore[type-arg]
    Config(**good).validate()


@pytest.mark.parametrize(
    ("config", "limit"),
    [(Config(), 100_000), (Config(send_batch_size=10_000), 100_000), (Config(send_batch_size=10_001), 100_010),
     (Config(max_pending_items=7, send_batch_size=10_001), 7)],
)
def test_pending_limit(config: Config, limit: int) -> None:
    assert config.pending_limit() == limit


def test_defaults_match_otelcol() -> None:
    config = Config()
    assert (config.timeout, config.send_batch_size, config.send_batch_max_size) == (timedelta(milliseconds=200), 8192, 0)
    assert (config.metadata_keys, config.metadata_cardinality_limit, config.wait_for_result, config.max_pending_items) == (None, 1000, False, 0)


class Gate(Recorder):
    """Refuses retryably (retry_after 0.01 s) until `open` is set, then records."""

    def __init__(self) -> None:
        super().__init__()
        self.open = False

    async def consume(self, data: SignalData) -> None:
        if not self.open:
            raise RetryableError("not yet", retry_after=0.01)
        await super().consume(data)


def test_hold_limit_is_exact_and_freed_after_delivery() -> None:
    """A request that brings the hold exactly to `max_pending_items` is taken, one more item is
    refused with retry_after 1 s and the exact count, and delivered data frees the hold."""

    async def scenario() -> tuple[RetryableError, list[list[str]]]:
        gate = Gate()
        processor = make(Config(send_batch_size=3, timeout=timedelta(hours=1), max_pending_items=6), gate)
        await processor.consume(spans("a", 3))
        await processor.consume(spans("b", 3))  # 6 held: exactly the limit
        with pytest.raises(RetryableError) as refused:
            await processor.consume(spans("c", 1))
        gate.open = True
        await wait_until(lambda: len(gate.batches) == 2)
        await processor.consume(spans("d", 6))  # nothing held any more: a full hold is taken again
        await processor.shutdown()
        return refused.value, gate.batches

    refused, batches = asyncio.run(scenario())
    assert str(refused) == "batch processor batch holds 6 items that downstream has not taken yet; retry later"
    assert refused.retry_after == 1.0
    assert sorted(map(tuple, batches)) == [("a0", "a1", "a2"), ("b0", "b1", "b2"), tuple(f"d{i}" for i in range(6))]


async def wait_until(condition: object, timeout: float = 10.0) -> None:
    """Yield to the event loop until `condition()` holds (a deadline, not a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def test_a_request_over_the_hold_limit_is_taken_only_while_under_it() -> None:
    """held < limit: a request larger than the limit is taken; held == limit: refused."""

    async def scenario() -> tuple[BaseException | None, BaseException | None]:
        gate = Gate()
        processor = make(Config(send_batch_size=5, timeout=timedelta(hours=1), max_pending_items=5), gate)
        await processor.consume(spans("a", 4))
        first = None
        try:
            await processor.consume(spans("big", 6))  # 4 < 5 held: taken
        except RetryableError as exc:
            first = exc
        second = None
        processor2 = make(Config(send_batch_size=5, timeout=timedelta(hours=1), max_pending_items=5), gate)
        await processor2.consume(spans("a", 5))
        try:
            await processor2.consume(spans("big", 6))  # 5 held: refused
        except RetryableError as exc:
            second = exc
        gate.open = True
        await processor.shutdown()
        await processor2.shutdown()
        return first, second

    first, second = asyncio.run(scenario())
    assert first is None
    assert isinstance(second, RetryableError)


def test_items_are_counted_in_and_out() -> None:
    async def scenario() -> tuple[float, float]:
        recorder = Recorder()
        settings = CreateSettings(id=ComponentID("batch/x"), telemetry=Telemetry())
        processor = BatchProcessor(settings, Config(send_batch_size=100, timeout=timedelta(hours=1)), next_consumer=recorder)
        await processor.consume(spans("a", 3))
        await processor.consume(spans("b", 4))
        await processor.shutdown()
        labels = {"processor": "batch/x", "otel_signal": "traces"}
        return (settings.telemetry.value("otelcol_processor_incoming_items_total", **labels),
                settings.telemetry.value("otelcol_processor_outgoing_items_total", **labels))

    assert asyncio.run(scenario()) == (7.0, 7.0)


def test_max_size_cuts_requests_and_fills_batches_exactly() -> None:
    """send_batch_max_size 4: a 12-item request goes as 4+4+4; a batch exactly at the cap is not
    flushed early, one item more starts a new batch."""

    async def scenario() -> list[list[str]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=4, send_batch_max_size=4, timeout=timedelta(hours=1), wait_for_result=True), recorder)
        await asyncio.wait_for(processor.consume(spans("x", 12)), timeout=10)
        recorder.batches.append(["|"])
        tasks = [asyncio.ensure_future(processor.consume(spans(p, 2))) for p in "ab"]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        recorder.batches.append(["|"])
        tasks = [asyncio.ensure_future(processor.consume(spans(p, n))) for p, n in [("c", 3), ("d", 2)]]
        await processor.shutdown()
        await asyncio.gather(*tasks)
        return recorder.batches

    assert asyncio.run(scenario()) == [
        ["x0", "x1", "x2", "x3"], ["x4", "x5", "x6", "x7"], ["x8", "x9", "x10", "x11"], ["|"],
        ["a0", "a1", "b0", "b1"], ["|"],
        ["c0", "c1", "c2"], ["d0", "d1"],
    ]


def test_zero_timeout_flushes_every_request_at_once() -> None:
    async def scenario() -> list[list[str]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=1000, timeout=timedelta(0), wait_for_result=True), recorder)
        await asyncio.wait_for(processor.consume(spans("a", 2)), timeout=10)
        await asyncio.wait_for(processor.consume(spans("b", 1)), timeout=10)
        return recorder.batches

    assert asyncio.run(scenario()) == [["a0", "a1"], ["b0"]]


def test_without_a_max_size_a_request_over_the_hold_limit_is_cut_in_send_batch_size_pieces() -> None:
    async def scenario() -> list[int]:
        sizes: list[int] = []

        class Sizes(Recorder):
            async def consume(self, data: SignalData) -> None:
                sizes.append(data.item_count())

        processor = make(Config(send_batch_size=3, timeout=timedelta(hours=1), max_pending_items=4), Sizes())
        await processor.consume(spans("a", 4))  # not over the limit: one piece
        await processor.shutdown()
        processor = make(Config(send_batch_size=3, timeout=timedelta(hours=1), max_pending_items=4), Sizes())
        await processor.consume(spans("b", 8))  # over it: 3-item pieces
        await processor.shutdown()
        processor = make(Config(send_batch_size=0, timeout=timedelta(hours=1), max_pending_items=4), Sizes())
        await processor.consume(spans("c", 9))  # send_batch_size 0: pieces of the limit
        await processor.shutdown()
        return sizes

    assert asyncio.run(scenario()) == [4, 3, 3, 2, 4, 4, 1]


class Rejecting(Recorder):
    """Takes every batch but reports `rejected` of its items rejected (a partial success)."""

    def __init__(self, rejected: int) -> None:
        super().__init__()
        self.rejected = rejected

    async def consume(self, data: SignalData) -> None:
        from summitcol.exceptions import PartialRejectionError

        await super().consume(data)
        raise PartialRejectionError(f"{self.rejected} rejected", rejected=self.rejected)


def test_a_partial_rejection_reaches_a_lone_caller_but_not_the_callers_of_a_merged_batch() -> None:
    """A count over a merged batch says nothing about whose records were rejected: its callers
    succeed; a caller alone in its batch gets the rejection (wait_for_result)."""
    from summitcol.exceptions import PartialRejectionError

    async def scenario() -> tuple[list[object], list[object]]:
        config = Config(send_batch_size=4, timeout=timedelta(hours=1), wait_for_result=True)
        merged = await asyncio.gather(*(make(config, Rejecting(1)).consume(spans("x", 4)) for _ in range(1)),
                                      return_exceptions=True)
        processor = make(config, Rejecting(1))
        together = await asyncio.gather(processor.consume(spans("a", 2)), processor.consume(spans("b", 2)),
                                        return_exceptions=True)
        return merged, together

    alone, together = asyncio.run(scenario())
    assert len(alone) == 1 and isinstance(alone[0], PartialRejectionError) and alone[0].rejected == 1
    assert together == [None, None]


def test_acknowledged_data_downstream_fails_is_counted_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Ack-on-receipt: nobody waits for a permanently failed batch, so its items are counted in
    summitcol_processor_batch_dropped_items and logged as an error (an unexpected exception with
    its traceback); with wait_for_result the caller gets the error and nothing counts as dropped."""
    from summitcol.exceptions import InvalidDataError

    async def scenario(config: Config, error: Exception) -> tuple[list[object], float]:
        settings = CreateSettings(id=ComponentID("batch/d"), telemetry=Telemetry())
        processor = BatchProcessor(settings, config, next_consumer=Recorder(error))
        results = await asyncio.gather(processor.consume(spans("a", 3)), return_exceptions=True)
        await processor.shutdown()
        return results, settings.telemetry.value("summitcol_processor_batch_dropped_items_total", processor="batch/d")

    ack = Config(send_batch_size=3, timeout=timedelta(hours=1))
    with caplog.at_level("ERROR", logger="summitcol.processor.batch"):
        assert asyncio.run(scenario(ack, InvalidDataError("cannot encode"))) == ([None], 3.0)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [
        "batch/d: 3 acknowledged items (1 piece(s) of a batch of 1 requests) could not be delivered and are dropped: cannot encode"]
    caplog.clear()

    with caplog.at_level("ERROR", logger="summitcol.processor.batch"):
        assert asyncio.run(scenario(ack, KeyError("bug"))) == ([None], 3.0)
    bug = [r for r in caplog.records if r.getMessage() == "batch/d: downstream failed on 3 items"]
    assert len(bug) == 1 and bug[0].exc_info is not None and isinstance(bug[0].exc_info[1], KeyError)
    caplog.clear()

    waiting = Config(send_batch_size=3, timeout=timedelta(hours=1), wait_for_result=True)
    results, dropped = asyncio.run(scenario(waiting, InvalidDataError("cannot encode")))
    assert isinstance(results[0], InvalidDataError) and dropped == 0.0


def test_a_refusal_at_a_stop_is_retried_then_counted_dropped() -> None:
    """At a stop, a refused acknowledged batch is retried, then given up and counted."""
    import summitcol.processors.batch as batch_module

    async def scenario() -> float:
        settings = CreateSettings(id=ComponentID("batch"), telemetry=Telemetry())
        processor = BatchProcessor(settings, Config(send_batch_size=100, timeout=timedelta(hours=1)),
                                   next_consumer=Recorder(RetryableError("full", retry_after=0.01)))
        await processor.consume(spans("a", 2))
        saved, batch_module.SHUTDOWN_RETRY_S = batch_module.SHUTDOWN_RETRY_S, 0.2
        try:
            await asyncio.wait_for(processor.shutdown(), timeout=20)
        finally:
            batch_module.SHUTDOWN_RETRY_S = saved
        return settings.telemetry.value("summitcol_processor_batch_dropped_items_total", processor="batch")

    assert asyncio.run(scenario()) == 2.0


def test_a_base_exception_downstream_reaches_the_waiting_callers() -> None:
    class Stop(BaseException):
        pass

    async def scenario() -> list[object]:
        processor = make(Config(send_batch_size=4, timeout=timedelta(hours=1), wait_for_result=True), Recorder(Stop()))
        return await asyncio.gather(processor.consume(spans("a", 2)), processor.consume(spans("b", 2)),
                                    return_exceptions=True)

    results = asyncio.run(scenario())
    assert [type(r) for r in results] == [Stop, Stop]


def test_a_max_size_of_1_below_send_batch_size_is_an_error() -> None:
    from summitcol.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"send_batch_max_size \(1\) must be >= send_batch_size \(2\)"):
        Config(send_batch_size=2, send_batch_max_size=1).validate()


def test_a_request_of_exactly_the_hold_limit_waits_while_anything_is_held() -> None:
    async def scenario() -> BaseException | None:
        gate = Gate()
        processor = make(Config(send_batch_size=1, timeout=timedelta(hours=1), max_pending_items=5), gate)
        await processor.consume(spans("a", 1))
        try:
            await processor.consume(spans("b", 5))  # 1 + 5 > 5: it would fit alone, so it waits
            refused = None
        except RetryableError as exc:
            refused = exc
        gate.open = True
        await processor.shutdown()
        return refused

    assert isinstance(asyncio.run(scenario()), RetryableError)


def test_a_stop_completes_when_a_flush_dies_of_a_base_exception() -> None:
    class Stop(BaseException):
        pass

    class Dying(Recorder):
        async def consume(self, data: SignalData) -> None:
            await asyncio.sleep(0.01)
            raise Stop

    async def scenario() -> None:
        processor = make(Config(send_batch_size=1, timeout=timedelta(hours=1)), Dying())
        await processor.consume(spans("a", 1))
        await asyncio.wait_for(processor.shutdown(), timeout=10)

    asyncio.run(scenario())


def metric_points(**points: int) -> SignalData:
    """One request with `points[name]` gauge points of metric `name` (a sum metric when the name
    starts with "sum"): requests with different metric types hold different tables."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    from summitcol.pdata.metrics import metrics_from_otlp

    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    for name, count in points.items():
        metric = scope.metrics.add(name=name)
        data = metric.sum if name.startswith("sum") else metric.gauge
        for i in range(count):
            data.data_points.add(as_int=i, time_unix_nano=1 + i)
    return SignalData(Signal.METRICS, metrics_from_otlp(request)[0])


def test_splitting_a_failed_batch_keeps_each_request_s_rows_in_every_table() -> None:
    """Requests of different metric types: halving the failed batch must cut each table at its
    own offsets (a request without a table holds none of its rows)."""
    from summitcol.exceptions import InvalidDataError

    class Picky:
        def __init__(self) -> None:
            self.taken: list[str] = []

        async def consume(self, data: SignalData) -> None:
            names = [n for table in data.tables.values() for n in table.column("MetricName").to_pylist()]
            if any(n.endswith("poison") for n in names):
                raise InvalidDataError("cannot encode")
            self.taken += names

    async def scenario() -> tuple[list[str], float]:
        downstream = Picky()
        settings = CreateSettings(id=ComponentID("batch"), telemetry=Telemetry())
        processor = BatchProcessor(settings, Config(send_batch_size=10_000, timeout=timedelta(hours=1)), next_consumer=downstream)
        for request in (metric_points(a=2), metric_points(sum_poison=1), metric_points(b=1, sum_c=2), metric_points(sum_d=1)):
            await processor.consume(request)
        await processor.shutdown()
        return downstream.taken, settings.telemetry.value("summitcol_processor_batch_dropped_items_total", processor="batch")

    taken, dropped = asyncio.run(scenario())
    assert sorted(taken) == ["a", "a", "b", "sum_c", "sum_c", "sum_d"] and dropped == 1


def test_the_factory_creates_the_processor() -> None:
    from summitcol.processors.batch import FACTORY

    config, recorder = Config(), Recorder()
    settings = CreateSettings(id=ComponentID("batch"), telemetry=Telemetry())
    processor = FACTORY.create(settings, config, next_consumer=recorder)
    assert isinstance(processor, BatchProcessor)
    assert (processor.settings, processor.config, processor.next_consumer) == (settings, config, recorder)


def test_the_max_size_starts_a_new_batch_rather_than_overfill_one() -> None:
    """Acknowledged on receipt, send_batch_max_size 4: 3 items wait for more (not flushed at 3);
    2 more would make 5, so the 3 go first and the 2 wait."""

    async def scenario() -> tuple[list[list[str]], list[list[str]]]:
        recorder = Recorder()
        processor = make(Config(send_batch_size=4, send_batch_max_size=4, timeout=timedelta(hours=1)), recorder)
        await processor.consume(spans("c", 3))
        for _ in range(5):  # a flush, had one started, would have reached the recorder by now
            await asyncio.sleep(0)
        before = list(recorder.batches)
        await processor.consume(spans("d", 2))
        await processor.shutdown()
        return before, recorder.batches

    before, batches = asyncio.run(scenario())
    assert before == []
    assert batches == [["c0", "c1", "c2"], ["d0", "d1"]]


@pytest.mark.parametrize("order", ["good-first", "poison-first"])
def test_a_failed_batch_of_two_requests_delivers_the_good_one(order: str) -> None:
    """The smallest split: two requests, one of which cannot be written."""
    from summitcol.exceptions import InvalidDataError

    class Picky(Recorder):
        async def consume(self, data: SignalData) -> None:
            names = data.tables["spans"].column("SpanName").to_pylist()
            if any(name.startswith("poison") for name in names):
                raise InvalidDataError("cannot encode")
            await super().consume(data)

    async def scenario() -> tuple[list[list[str]], float]:
        downstream = Picky()
        settings = CreateSettings(id=ComponentID("batch"), telemetry=Telemetry())
        processor = BatchProcessor(settings, Config(send_batch_size=10_000, timeout=timedelta(hours=1)), next_consumer=downstream)
        requests = [spans("good", 2), spans("poison", 3)]
        for request in requests if order == "good-first" else requests[::-1]:
            await processor.consume(request)
        await asyncio.wait_for(processor.shutdown(), timeout=30)
        return downstream.batches, settings.telemetry.value("summitcol_processor_batch_dropped_items_total", processor="batch")

    assert asyncio.run(scenario()) == ([["good0", "good1"]], 3.0)
