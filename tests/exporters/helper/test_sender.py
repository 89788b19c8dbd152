"""The exporter helper's delivery paths, in-process against a scripted exporter (no network):
without helper settings, without a queue, the queue's refusals, backoff and `max_elapsed_time`,
`sending_queue.batch` packing and slicing at `max_size`, a merged send refused permanently,
an unwritable dead-letter file, the per-worker queue share and the WAL replay counters.
Counts and names are checked by value (issue #13: the mutation run's survivors)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Exporter
from summitcol.exceptions import ConsumerError, PartialRejectionError, PermanentError, RetryableError
from summitcol.exporters.helper import sender
from summitcol.exporters.helper.config import (
    DeadLetterConfig,
    HelperConfig,
    QueueBatchConfig,
    QueueConfig,
    RetryConfig,
)
from summitcol.exporters.helper.sender import ExporterHelper
from summitcol.extensions.file_storage.extension import Config as StorageConfig
from summitcol.extensions.file_storage.extension import FileStorage
from summitcol.pdata.signal import SignalData
from summitcol.telemetry import Telemetry
from tests.exporters.helper.test_queue_batch import Host, names
from tests.helpers import async_wait_for, read_file_export
from tests.processors.test_batch import spans

FAST = RetryConfig(initial_interval=timedelta(milliseconds=1), max_interval=timedelta(milliseconds=2), randomization_factor=0)


class Scripted(Exporter):
    """Answers each send with the next outcome of `script` (None: accepted), then accepts;
    `refuse` refuses permanently every send that contains a span of that name."""

    def __init__(self, script: list[BaseException | None] | None = None, refuse: str = "") -> None:
        self.script = list(script or [])
        self.refuse = refuse
        self.sends: list[list[str]] = []
        self.delivered: list[str] = []
        self.started = self.stopped = 0

    async def start(self, host) -> None:  # type: ignore[no-untyped-def]
        self.started += 1

    async def shutdown(self) -> None:
        self.stopped += 1

    async def consume(self, data: SignalData) -> None:
        sent = names(data)
        self.sends.append(sent)
        outcome = self.script.pop(0) if self.script else None
        if self.refuse and self.refuse in sent:
            outcome = PermanentError(f"refused {self.refuse}")
        if outcome is not None:
            raise outcome
        self.delivered += sent


def helper_for(exporter: Exporter, tmp: Path, *, retry: RetryConfig = FAST, workers: int = 1, label: str = "otlp_http",
               settings: bool = True, dead_letter: str = "", **queue: object) -> tuple[ExporterHelper, Telemetry]:
    telemetry = Telemetry()
    queue.setdefault("drain_timeout", timedelta(seconds=2))  # a stop that cannot drain fails the test sooner
    config = HelperConfig(
        retry_on_failure=retry,
        sending_queue=QueueConfig(**queue),  # type: ignore[arg-type]
        dead_letter=DeadLetterConfig(path=dead_letter or str(tmp / "dead.jsonl")),
    ) if settings else object()
    return ExporterHelper(exporter, ComponentID.parse(label), telemetry, config, workers=workers), telemetry


def dead_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    requests = read_file_export(path).get(ExportTraceServiceRequest, [])
    return [s.name for r in requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]


def sent(telemetry: Telemetry, what: str = "sent") -> float:
    return telemetry.value(f"otelcol_exporter_{what}_spans_total", exporter="otlp_http")


def dead(telemetry: Telemetry) -> float:
    return telemetry.value("summitcol_exporter_dead_letter_spans_total", exporter="otlp_http")


async def settled(helper: ExporterHelper) -> None:
    assert await async_wait_for(lambda: not (helper.queue.size() or helper.queue.taken()), timeout=5)  # type: ignore[union-attr]


# --- without helper settings (debug, file, parquet): one attempt, counted, the caller's error


def test_without_settings_each_send_is_one_counted_attempt(tmp_path: Path) -> None:
    async def scenario() -> tuple[Scripted, ExporterHelper, Telemetry, list[type[Exception]]]:
        exporter = Scripted([None, RetryableError("busy"), PartialRejectionError("bad", rejected=2)])
        helper, telemetry = helper_for(exporter, tmp_path, settings=False)
        await helper.start(Host({}))
        raised: list[type[Exception]] = []
        for prefix in "abc":
            try:
                await helper.consume(spans(prefix, 3))
            except Exception as exc:  # noqa: BLE001 - the test records what the caller gets
                raised.append(type(exc))
        await helper.shutdown()
        return exporter, helper, telemetry, raised

    exporter, helper, telemetry, raised = asyncio.run(scenario())
    assert helper.queue is None and (exporter.started, exporter.stopped) == (1, 1)
    assert raised == [RetryableError, PartialRejectionError]
    assert exporter.sends == [["a0", "a1", "a2"], ["b0", "b1", "b2"], ["c0", "c1", "c2"]]  # never retried
    assert sent(telemetry) == 3 + 1  # a's 3, and c's 1 accepted of 3
    assert sent(telemetry, "send_failed") == 3 + 2  # b's 3 (counted once, by the helper), c's 2 rejected
    assert not (tmp_path / "dead.jsonl").exists()


# --- without a queue: the caller waits for the delivery, retries included


def test_without_a_queue_the_caller_waits_through_the_retries(tmp_path: Path) -> None:
    async def scenario() -> tuple[Scripted, Telemetry]:
        exporter = Scripted([RetryableError("busy", retry_after=0), RetryableError("busy", retry_after=0), None])
        helper, telemetry = helper_for(exporter, tmp_path, enabled=False)
        await helper.start(Host({}))
        assert helper.queue is None
        await helper.consume(spans("a", 4))
        await helper.shutdown()
        return exporter, telemetry

    exporter, telemetry = asyncio.run(scenario())
    assert exporter.sends == [["a0", "a1", "a2", "a3"]] * 3
    assert exporter.delivered == ["a0", "a1", "a2", "a3"]
    assert (sent(telemetry), sent(telemetry, "send_failed")) == (4, 0)


@pytest.mark.parametrize(
    ("outcome", "raised", "message", "failed"),
    [
        (PermanentError("bad request"), PermanentError, "bad request", 4),
        (RetryableError("busy"), RetryableError, "busy", 4),
        (ValueError("exporter bug"), RetryableError, "ValueError: exporter bug", 4),
        (PartialRejectionError("1 invalid", rejected=1), PartialRejectionError, "1 invalid", 1),
    ],
)
def test_without_a_queue_the_caller_gets_the_error_that_ended_it(
    tmp_path: Path, outcome: Exception, raised: type[Exception], message: str, failed: int
) -> None:
    """Retries disabled (or a permanent / partial refusal): one attempt, the caller's error,
    `send_failed` counted once, and nothing dead-lettered (the caller still has the data)."""

    async def scenario() -> tuple[Scripted, Telemetry, Exception]:
        exporter = Scripted([outcome])
        helper, telemetry = helper_for(exporter, tmp_path, retry=RetryConfig(enabled=False), enabled=False)
        await helper.start(Host({}))
        with pytest.raises(raised) as error:
            await helper.consume(spans("a", 4))
        await helper.shutdown()
        return exporter, telemetry, error.value

    exporter, telemetry, error = asyncio.run(scenario())
    assert str(error) == message
    assert len(exporter.sends) == 1
    assert sent(telemetry, "send_failed") == failed
    assert sent(telemetry) == 4 - failed
    assert not (tmp_path / "dead.jsonl").exists()


def test_without_a_queue_max_elapsed_time_ends_the_retries_before_a_long_wait(tmp_path: Path) -> None:
    """The peer asks for 60 s, more than `max_elapsed_time` (1 s) allows: given up at once, not
    after a wait; with `max_elapsed_time: 0` (retry forever) the same answer is waited out."""

    async def scenario(limit: timedelta, retry_after: float) -> tuple[Scripted, Exception | None]:
        exporter = Scripted([RetryableError("slow down", retry_after=retry_after), None])
        retry = RetryConfig(initial_interval=timedelta(milliseconds=1), max_interval=timedelta(milliseconds=1), max_elapsed_time=limit)
        helper, _ = helper_for(exporter, tmp_path, retry=retry, enabled=False)
        await helper.start(Host({}))
        try:
            await asyncio.wait_for(helper.consume(spans("a", 1)), timeout=10)
            return exporter, None
        except RetryableError as exc:
            return exporter, exc

    exporter, error = asyncio.run(scenario(timedelta(seconds=1), 60.0))
    assert str(error) == "slow down" and len(exporter.sends) == 1
    exporter, error = asyncio.run(scenario(timedelta(0), 0.01))
    assert error is None and exporter.delivered == ["a0"] and len(exporter.sends) == 2
    exporter, error = asyncio.run(scenario(timedelta(seconds=30), 0.01))
    assert error is None and exporter.delivered == ["a0"] and len(exporter.sends) == 2


def test_backoff_grows_by_the_multiplier_up_to_max_interval_with_the_spread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    retry = RetryConfig(initial_interval=timedelta(seconds=1), max_interval=timedelta(seconds=5), multiplier=2, randomization_factor=0.5)
    helper, _ = helper_for(Scripted(), tmp_path, retry=retry)
    monkeypatch.setattr(sender.random, "uniform", lambda low, high: (low, high))
    assert [helper._backoff(attempt) for attempt in range(5)] == [(0.5, 1.5), (1.0, 3.0), (2.0, 6.0), (2.5, 7.5), (2.5, 7.5)]


def test_the_retry_waits_for_the_larger_of_backoff_and_retry_after(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> Scripted:
        exporter = Scripted([RetryableError("busy", retry_after=0.05), RetryableError("busy", retry_after=0.001), None])
        retry = RetryConfig(initial_interval=timedelta(milliseconds=20), max_interval=timedelta(seconds=1), multiplier=1, randomization_factor=0)
        helper, _ = helper_for(exporter, tmp_path, retry=retry, enabled=False)
        await helper.start(Host({}))
        await helper.consume(spans("a", 1))
        return exporter

    with caplog.at_level(logging.INFO, logger="summitcol.exporter.helper"):
        exporter = asyncio.run(scenario())
    assert exporter.delivered == ["a0"]
    assert [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()] == [
        "exporter otlp_http: busy; retrying in 0.1s",  # the peer's 0.05 s over the 0.02 s backoff
        "exporter otlp_http: busy; retrying in 0.0s",  # the 0.02 s backoff over the peer's 0.001 s
    ]
    delays = [r.args[2] for r in caplog.records if "retrying" in r.getMessage()]  # type: ignore[index]
    assert delays == [0.05, 0.02]


# --- the queue: refusals, the per-worker share, the default dead-letter file


def test_a_full_queue_refuses_retryably_and_counts_it(tmp_path: Path) -> None:
    async def scenario() -> tuple[Telemetry, RetryableError, int]:
        gate = asyncio.Event()

        class Stuck(Scripted):
            async def consume(self, data: SignalData) -> None:
                await gate.wait()
                await super().consume(data)

        exporter = Stuck()
        helper, telemetry = helper_for(exporter, tmp_path, num_consumers=1, queue_size=2)
        await helper.start(Host({}))
        for prefix in "ab":  # a is taken by the consumer (still counted), b queued: c finds it full
            await helper.consume(spans(prefix, 3))
        assert await async_wait_for(lambda: exporter.sends == [] and helper.queue.pending() == 1, timeout=5)  # type: ignore[union-attr]
        with pytest.raises(RetryableError) as error:
            await helper.consume(spans("c", 3))
        gate.set()
        await settled(helper)
        await helper.shutdown()
        return telemetry, error.value, len(exporter.delivered)

    telemetry, error, delivered = asyncio.run(scenario())
    assert str(error) == "sending queue of exporter otlp_http is full (2 requests); retry later"
    assert error.retry_after == 1.0
    assert telemetry.value("otelcol_exporter_enqueue_failed_spans_total", exporter="otlp_http") == 3
    assert delivered == 6


def test_a_stopping_exporter_refuses_new_data_retryably(tmp_path: Path) -> None:
    async def scenario() -> str:
        helper, _ = helper_for(Scripted(), tmp_path)
        await helper.start(Host({}))
        await helper.shutdown()
        with pytest.raises(RetryableError) as error:
            await helper.consume(spans("late", 1))
        return str(error.value)

    assert asyncio.run(scenario()) == "exporter otlp_http is stopping"


@pytest.mark.parametrize(("queue_size", "workers", "share"), [(10, 1, 10), (10, 3, 4), (9, 3, 3), (2, 4, 1)])
def test_each_worker_gets_its_share_of_queue_size(tmp_path: Path, queue_size: int, workers: int, share: int) -> None:
    async def scenario() -> tuple[int, float]:
        helper, telemetry = helper_for(Scripted(), tmp_path, queue_size=queue_size, workers=workers, num_consumers=3)
        await helper.start(Host({}))
        capacity = helper.queue.capacity  # type: ignore[union-attr]
        consumers = len(helper._consumers)
        gauge = telemetry.value("otelcol_exporter_queue_capacity", exporter="otlp_http")
        await helper.shutdown()
        assert consumers == 3
        return capacity, gauge

    assert asyncio.run(scenario()) == (share, share)


def test_the_default_dead_letter_file_is_named_after_the_exporter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    async def scenario() -> None:
        config = HelperConfig(retry_on_failure=FAST)  # no dead_letter.path
        helper = ExporterHelper(Scripted([PermanentError("no")]), ComponentID.parse("otlp_http/primary"), Telemetry(), config)
        await helper.start(Host({}))
        await helper.consume(spans("d", 2))
        await settled(helper)
        await helper.shutdown()

    asyncio.run(scenario())
    assert dead_names(tmp_path / "data" / "dead_letter" / "otlp_http_primary.jsonl") == ["d0", "d1"]


def test_a_storage_that_is_not_a_file_storage_is_refused_at_start(tmp_path: Path) -> None:
    async def scenario() -> str:
        helper, _ = helper_for(Scripted(), tmp_path, storage="debug")
        with pytest.raises(OSError) as error:
            await helper.start(Host({ComponentID("debug"): object()}))
        return str(error.value)

    assert asyncio.run(scenario()) == "exporter otlp_http: sending_queue::storage 'debug' is not a file_storage extension"


# --- sending_queue.batch: packing at max_size, slicing, a merged send refused permanently


def batching(min_size: int, max_size: int) -> dict[str, object]:
    return {"num_consumers": 1, "batch": QueueBatchConfig(flush_timeout=timedelta(seconds=30), min_size=min_size, max_size=max_size)}


def test_gathered_requests_are_packed_in_order_into_sends_of_at_most_max_size(tmp_path: Path) -> None:
    async def scenario() -> tuple[Scripted, Telemetry]:
        exporter = Scripted()
        helper, telemetry = helper_for(exporter, tmp_path, **batching(9, 5))
        await helper.start(Host({}))
        for prefix, n in (("a", 2), ("b", 3), ("c", 4)):  # 9 items: the gatherer stops at min_size
            await helper.consume(spans(prefix, n))
        await settled(helper)
        await helper.shutdown()
        return exporter, telemetry

    exporter, telemetry = asyncio.run(scenario())
    assert exporter.sends == [["a0", "a1", "b0", "b1", "b2"], ["c0", "c1", "c2", "c3"]]  # 2+3 = 5 fits, +4 does not
    assert sent(telemetry) == 9


def test_a_request_larger_than_max_size_is_sent_in_slices(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> tuple[Scripted, Telemetry]:
        exporter = Scripted([None, PermanentError("slice refused"), None])
        helper, telemetry = helper_for(exporter, tmp_path, **batching(1, 5))
        await helper.start(Host({}))
        await helper.consume(spans("s", 12))
        await settled(helper)
        await helper.shutdown()
        return exporter, telemetry

    with caplog.at_level(logging.ERROR, logger="summitcol.exporter.helper"):
        exporter, telemetry = asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"exporter otlp_http: 5 spans written to dead-letter file {tmp_path / 'dead.jsonl'}: slice refused"
    ]
    assert exporter.sends == [[f"s{i}" for i in range(5)], [f"s{i}" for i in range(5, 10)], ["s10", "s11"]]
    assert exporter.delivered == [f"s{i}" for i in (0, 1, 2, 3, 4, 10, 11)]
    assert dead_names(tmp_path / "dead.jsonl") == [f"s{i}" for i in range(5, 10)]  # only the refused slice
    assert (sent(telemetry), dead(telemetry), sent(telemetry, "send_failed")) == (7, 5, 5)


@pytest.mark.parametrize("requests", [(("a", 2), ("bad", 3), ("c", 2)), (("a", 2), ("bad", 3))], ids=["three", "two"])
def test_a_merged_send_refused_permanently_is_retried_request_by_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, requests: tuple[tuple[str, int], ...]
) -> None:
    async def scenario() -> tuple[Scripted, Telemetry]:
        exporter = Scripted(refuse="bad1")
        helper, telemetry = helper_for(exporter, tmp_path, **batching(sum(n for _, n in requests), 0))
        await helper.start(Host({}))
        for prefix, n in requests:
            await helper.consume(spans(prefix, n))
        await settled(helper)
        await helper.shutdown()
        return exporter, telemetry

    with caplog.at_level(logging.WARNING, logger="summitcol.exporter.helper"):
        exporter, telemetry = asyncio.run(scenario())
    each = [[f"{prefix}{i}" for i in range(n)] for prefix, n in requests]
    assert exporter.sends == [[name for names in each for name in names], *each]
    assert exporter.delivered == [name for names in each if names[0] != "bad0" for name in names]
    assert dead_names(tmp_path / "dead.jsonl") == ["bad0", "bad1", "bad2"]
    good = sum(n for prefix, n in requests if prefix != "bad")
    assert (sent(telemetry), dead(telemetry), sent(telemetry, "send_failed")) == (good, 3, 3)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"exporter otlp_http: a send of {len(requests)} merged requests was refused permanently (refused bad1); "
        "sending each request on its own",
        f"exporter otlp_http: 3 spans written to dead-letter file {tmp_path / 'dead.jsonl'}: refused bad1",
    ]


def test_a_request_that_fits_after_others_joins_their_send_and_the_count_carries_on(tmp_path: Path) -> None:
    async def scenario() -> Scripted:
        exporter = Scripted()
        helper, _ = helper_for(exporter, tmp_path, **batching(6, 5))
        await helper.start(Host({}))
        for prefix in "abc":  # 2 + 2 fit in 5; a third 2 would make 6
            await helper.consume(spans(prefix, 2))
        await settled(helper)
        await helper.shutdown()
        return exporter

    assert asyncio.run(scenario()).sends == [["a0", "a1", "b0", "b1"], ["c0", "c1"]]


def test_a_partial_rejection_is_settled_not_dead_lettered(tmp_path: Path) -> None:
    async def scenario() -> tuple[Scripted, Telemetry, int]:
        exporter = Scripted([PartialRejectionError("1 invalid", rejected=1)])
        helper, telemetry = helper_for(exporter, tmp_path, num_consumers=1)
        await helper.start(Host({}))
        await helper.consume(spans("p", 3))
        await settled(helper)
        left = helper.queue.size()  # type: ignore[union-attr]
        await helper.shutdown()
        return exporter, telemetry, left

    exporter, telemetry, left = asyncio.run(scenario())
    assert left == 0 and len(exporter.sends) == 1  # acknowledged, not retried
    assert (sent(telemetry), sent(telemetry, "send_failed"), dead(telemetry)) == (2, 1, 0)
    assert not (tmp_path / "dead.jsonl").exists()


# --- what cannot be dead-lettered, and what comes back from the WAL


def test_an_unwritable_dead_letter_file_keeps_the_request_in_the_wal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "file").write_text("not a directory")
    unwritable = str(tmp_path / "file" / "dead.jsonl")

    async def scenario() -> tuple[Telemetry, list[int]]:
        storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), StorageConfig(directory=str(tmp_path / "wal")))
        await storage.start(Host({}))
        helper, telemetry = helper_for(Scripted([PermanentError("no")]), tmp_path, storage="file_storage", num_consumers=1,
                                       dead_letter=unwritable)
        await helper.start(Host({ComponentID("file_storage"): storage}))
        await helper.consume(spans("k", 2))
        assert await async_wait_for(lambda: helper.queue.pending() == 0 and helper.queue.taken() == 0, timeout=5)  # type: ignore[union-attr]
        pending = helper.queue.wal.pending()  # type: ignore[union-attr]
        await helper.shutdown()
        await storage.shutdown()
        return telemetry, pending

    with caplog.at_level(logging.WARNING, logger="summitcol.exporter.helper"):
        telemetry, pending = asyncio.run(scenario())
    assert pending == [1]  # released, not acknowledged: the next start sends it again
    assert f"exporter otlp_http: cannot write the dead-letter file {unwritable}" in [r.getMessage() for r in caplog.records]
    assert dead(telemetry) == 0


def test_requests_replayed_from_the_wal_are_counted_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def run(script: list[BaseException | None], data: list[SignalData]) -> tuple[Scripted, Telemetry]:
        storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), StorageConfig(directory=str(tmp_path / "wal")))
        await storage.start(Host({}))
        exporter = Scripted(script)
        helper, telemetry = helper_for(exporter, tmp_path, retry=RetryConfig(enabled=False), storage="file_storage",
                                       num_consumers=1, dead_letter=str(tmp_path / "file" / "dead.jsonl"))
        await helper.start(Host({ComponentID("file_storage"): storage}))
        for item in data:
            await helper.consume(item)
        # released (kept in the WAL) or acknowledged: nothing queued or in flight
        assert await async_wait_for(lambda: helper.queue.pending() == 0 and helper.queue.taken() == 0, timeout=5)  # type: ignore[union-attr]
        await helper.shutdown()
        await storage.shutdown()
        return exporter, telemetry

    (tmp_path / "file").write_text("not a directory")  # the first run cannot dead-letter: both stay in the WAL
    with caplog.at_level(logging.WARNING, logger="summitcol.exporter.helper"):
        asyncio.run(run([PermanentError("no")] * 3, [spans("a", 3), spans("b", 2), spans("c", 1)]))
        exporter, telemetry = asyncio.run(run([], [spans("new", 4)]))
    assert exporter.delivered == ["a0", "a1", "a2", "b0", "b1", "c0", "new0", "new1", "new2", "new3"]
    assert telemetry.value("summitcol_wal_replayed_requests_total", exporter="otlp_http") == 3
    assert telemetry.value("summitcol_wal_replayed_spans_total", exporter="otlp_http") == 6  # not the new 4
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"exporter otlp_http: the stop left 3 request(s) (3 traces) undelivered in the write-ahead log "
        f"{tmp_path / 'wal' / 'exporter_otlp_http'}; the next start sends them",
        "exporter otlp_http: replaying 3 request(s) from the write-ahead log; any delivered just before the last "
        "stop will arrive twice (at-least-once)"
    ]


@pytest.mark.parametrize("persistent", [False, True], ids=["memory", "persistent"])
def test_a_stop_releases_a_slice_still_refused_and_ends_without_the_grace_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, persistent: bool
) -> None:
    """A request sliced at max_size whose second slice is refused retryably until the stop: the
    stop releases it at once (no waiting out SEND_GRACE_S, here an hour), keeps it (WAL) or
    dead-letters it whole (memory); the first slice was delivered."""
    monkeypatch.setattr(sender, "SEND_GRACE_S", 3600.0)

    async def scenario() -> tuple[Scripted, Telemetry, list[int]]:
        exporter = Scripted([None] + [RetryableError("busy", retry_after=0.005)] * 10**6)
        storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), StorageConfig(directory=str(tmp_path / "wal")))
        await storage.start(Host({}))
        helper, telemetry = helper_for(exporter, tmp_path, storage="file_storage" if persistent else "",
                                       drain_timeout=timedelta(milliseconds=50), **batching(1, 2))
        await helper.start(Host({ComponentID("file_storage"): storage}))
        await helper.consume(spans("s", 3))
        assert await async_wait_for(lambda: len(exporter.sends) >= 3, timeout=5)  # the second slice is being retried
        await asyncio.wait_for(helper.shutdown(), timeout=10)
        wal = helper.queue.wal.pending() if persistent else []  # type: ignore[union-attr]
        await storage.shutdown()
        return exporter, telemetry, wal

    with caplog.at_level(logging.ERROR, logger="summitcol.exporter.helper"):
        exporter, telemetry, wal = asyncio.run(scenario())
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert exporter.delivered == ["s0", "s1"]
    queued = telemetry.value("otelcol_exporter_queue_size", exporter="otlp_http")
    if persistent:
        assert wal == [1] and dead(telemetry) == 0 and errors == [] and queued == 1  # still in the WAL
    else:
        assert dead_names(tmp_path / "dead.jsonl") == ["s0", "s1", "s2"] and dead(telemetry) == 3
        assert errors == [
            f"exporter otlp_http: 3 spans written to dead-letter file {tmp_path / 'dead.jsonl'}: "
            "the collector stopped before it could be delivered"
        ]
        assert queued == 0  # dead-lettered: acknowledged


def test_a_slice_refused_permanently_during_a_stop_is_dead_lettered_and_the_rest_still_sent(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[str], Telemetry]:
        delivered: list[str] = []

        class RefusesAtTheStop(Exporter):
            async def consume(self, data: SignalData) -> None:
                sent = names(data)
                if sent == ["s2", "s3"]:
                    await helper._stopping.wait()  # the drain is over: this answer comes during the stop
                    raise PermanentError("refused at the stop")
                delivered.extend(sent)

        helper, telemetry = helper_for(RefusesAtTheStop(), tmp_path, drain_timeout=timedelta(milliseconds=50), **batching(1, 2))
        await helper.start(Host({}))
        await helper.consume(spans("s", 5))
        await asyncio.wait_for(helper.shutdown(), timeout=10)
        return delivered, telemetry

    delivered, telemetry = asyncio.run(scenario())
    assert delivered == ["s0", "s1", "s4"]
    assert dead_names(tmp_path / "dead.jsonl") == ["s2", "s3"] and dead(telemetry) == 2


def test_the_backoff_multiplies_after_each_attempt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> Scripted:
        exporter = Scripted([RetryableError("busy", retry_after=0)] * 3)
        retry = RetryConfig(initial_interval=timedelta(milliseconds=10), max_interval=timedelta(seconds=1), multiplier=2, randomization_factor=0)
        helper, _ = helper_for(exporter, tmp_path, retry=retry, enabled=False)
        await helper.start(Host({}))
        await helper.consume(spans("a", 1))
        return exporter

    with caplog.at_level(logging.INFO, logger="summitcol.exporter.helper"):
        exporter = asyncio.run(scenario())
    assert exporter.delivered == ["a0"]
    assert [r.args[2] for r in caplog.records if "retrying" in r.getMessage()] == [0.01, 0.02, 0.04]  # type: ignore[index]


def test_a_stop_waits_for_a_retry_in_progress_to_deliver(tmp_path: Path) -> None:
    """The drain lasts while requests are queued or taken: a send refused once is retried during
    it (retries end only when the drain does) and delivered, not dead-lettered."""

    async def scenario() -> tuple[Scripted, Telemetry]:
        exporter = Scripted([RetryableError("busy", retry_after=0.02)])
        helper, telemetry = helper_for(exporter, tmp_path, num_consumers=1)
        await helper.start(Host({}))
        await helper.consume(spans("a", 2))
        assert await async_wait_for(lambda: len(exporter.sends) == 1, timeout=5)  # refused, the retry is waiting
        await asyncio.wait_for(helper.shutdown(), timeout=10)
        return exporter, telemetry

    exporter, telemetry = asyncio.run(scenario())
    assert exporter.delivered == ["a0", "a1"] and len(exporter.sends) == 2
    assert dead(telemetry) == 0 and not (tmp_path / "dead.jsonl").exists()


def test_an_exporter_bug_or_a_bare_consumer_error_is_retried_on_the_backoff(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Neither has a retry_after: the wait is the backoff's (10 ms), and the bug is logged with
    its traceback once per attempt."""

    async def scenario() -> Scripted:
        exporter = Scripted([ValueError("exporter bug"), ConsumerError("refused")])
        retry = RetryConfig(initial_interval=timedelta(milliseconds=10), max_interval=timedelta(milliseconds=10), randomization_factor=0)
        helper, _ = helper_for(exporter, tmp_path, retry=retry, enabled=False)
        await helper.start(Host({}))
        await helper.consume(spans("a", 1))
        return exporter

    with caplog.at_level(logging.INFO, logger="summitcol.exporter.helper"):
        exporter = asyncio.run(scenario())
    assert exporter.delivered == ["a0"] and len(exporter.sends) == 3
    bugs = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in bugs] == ["exporter otlp_http failed unexpectedly"] and bugs[0].exc_info is not None
    assert [r.args[2] for r in caplog.records if "retrying" in r.getMessage()] == [1.0, 0.01]  # type: ignore[index]
