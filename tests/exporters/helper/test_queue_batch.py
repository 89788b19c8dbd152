"""sending_queue::batch: queued requests are merged into sends of at least min_size items (or
after flush_timeout), split at max_size, and each merged request is acknowledged once sent — for
the memory queue and the persistent (WAL) queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from summitcol.component import ComponentID, CreateSettings, Exporter, Signal
from summitcol.exceptions import ConfigError
from summitcol.exporters.helper.config import HelperConfig, QueueBatchConfig, QueueConfig, RetryConfig
from summitcol.exporters.helper.queue import MemoryQueue, PersistentQueue, QueueFull
from summitcol.exporters.helper.sender import ExporterHelper
from summitcol.extensions.file_storage.extension import Config as StorageConfig
from summitcol.extensions.file_storage.extension import FileStorage
from summitcol.extensions.file_storage.wal import WriteAheadLog
from summitcol.pdata.signal import SignalData
from summitcol.telemetry import Telemetry
from tests.helpers import async_wait_for
from tests.processors.test_batch import spans


class Recording(Exporter):
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.names: list[str] = []

    async def consume(self, data) -> None:  # type: ignore[no-untyped-def]
        self.sizes.append(data.item_count())
        self.names += data.tables["spans"].column("SpanName").to_pylist()


class Host:
    def __init__(self, extensions: dict) -> None:  # type: ignore[type-arg]
        self.extensions = extensions

    def extension(self, id_: ComponentID):  # type: ignore[no-untyped-def]
        return self.extensions[id_]

    def pipelines_ready(self) -> bool:
        return True


@pytest.mark.parametrize("persistent", [False, True])
def test_queued_requests_are_merged_and_acknowledged(tmp_path: Path, persistent: bool) -> None:
    async def scenario() -> tuple[list[int], list[str], int]:
        queue = QueueConfig(
            num_consumers=4,
            storage="file_storage" if persistent else "",
            batch=QueueBatchConfig(flush_timeout=timedelta(milliseconds=300), min_size=100, max_size=150),
        )
        exporter = Recording()
        helper = ExporterHelper(exporter, ComponentID("clickhouse"), Telemetry(), HelperConfig(sending_queue=queue))
        extensions = {}
        if persistent:
            storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), StorageConfig(directory=str(tmp_path)))
            await storage.start(Host({}))
            extensions[ComponentID("file_storage")] = storage
        await helper.start(Host(extensions))
        for i in range(13):  # 13 requests × 30 spans = 390 spans
            await helper.consume(spans(f"r{i}-", 30))
        # The tail (less than min_size) goes after flush_timeout; then every send is acknowledged.
        await async_wait_for(lambda: len(exporter.names) >= 390 and helper.queue.size() == 0)  # type: ignore[union-attr]
        pending = helper.queue.size()  # type: ignore[union-attr]
        await helper.shutdown()
        for extension in extensions.values():
            await extension.shutdown()
        return exporter.sizes, exporter.names, pending

    sizes, names, pending = asyncio.run(scenario())
    assert sorted(names) == sorted(f"r{i}-{j}" for i in range(13) for j in range(30))  # nothing lost or doubled
    assert pending == 0  # every merged request was acknowledged
    assert all(size <= 150 for size in sizes)
    assert sum(1 for size in sizes if size >= 100) >= 2  # merged, not 13 sends of 30
    assert len(sizes) < 13


# The sending queues and the helper's config: capacity per sizer, blocking, picking one signal,
# what a stop sees (taken, released, unacknowledged), replay from the WAL, and the exact config
# errors users read (checks the mutation run, `make mutation`, asked for).


def log_records(prefix: str, n: int) -> SignalData:
    from tests.exporters.helper.test_stop_leftovers import log_records as make  # it imports this module

    return make(prefix, n)


def names(data: object) -> list[str]:
    table = next(iter(data.tables.values()))  # type: ignore[attr-defined]
    column = "SpanName" if "SpanName" in table.column_names else "Body"
    return [str(v) for v in table.column(column).to_pylist()]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (RetryConfig(initial_interval=timedelta(0)), "retry_on_failure: initial_interval and max_interval must be greater than 0"),
        (RetryConfig(max_interval=timedelta(0)), "retry_on_failure: initial_interval and max_interval must be greater than 0"),
        (RetryConfig(multiplier=0.99), "retry_on_failure: multiplier must be at least 1"),
        (RetryConfig(randomization_factor=-0.01), "retry_on_failure: randomization_factor must be between 0 and 1"),
        (RetryConfig(randomization_factor=1.01), "retry_on_failure: randomization_factor must be between 0 and 1"),
        (RetryConfig(max_elapsed_time=timedelta(microseconds=-1)), "retry_on_failure: max_elapsed_time must be 0 (retry forever) or more"),
        (QueueBatchConfig(min_size=-1), "sending_queue::batch: min_size and max_size must be 0 or more"),
        (QueueBatchConfig(max_size=-1, min_size=0), "sending_queue::batch: min_size and max_size must be 0 or more"),
        (QueueBatchConfig(min_size=10, max_size=9), "sending_queue::batch: max_size must be 0 (no cap) or at least min_size"),
        (QueueBatchConfig(flush_timeout=timedelta(microseconds=-1)), "sending_queue::batch: flush_timeout must not be negative"),
        (QueueConfig(num_consumers=0), "sending_queue: num_consumers must be at least 1"),
        (QueueConfig(queue_size=0), "sending_queue: queue_size must be at least 1"),
        (QueueConfig(storage="file_storage", sizer="items"), "sending_queue: a persistent queue (storage) counts requests; set sizer: requests"),
        (QueueConfig(drain_timeout=timedelta(microseconds=-1)), "sending_queue: drain_timeout must not be negative"),
    ],
)
def test_config_error_messages(config: RetryConfig | QueueBatchConfig | QueueConfig, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        config.validate()
    assert str(error.value) == message


@pytest.mark.parametrize(
    "config",
    [RetryConfig(), RetryConfig(multiplier=1, randomization_factor=0, max_elapsed_time=timedelta(0)), RetryConfig(randomization_factor=1),
     QueueBatchConfig(), QueueBatchConfig(min_size=0, max_size=0, flush_timeout=timedelta(0)), QueueBatchConfig(min_size=10, max_size=10),
     QueueConfig(num_consumers=1, queue_size=1), QueueConfig(storage="file_storage"), QueueConfig(sizer="bytes"),
     QueueConfig(drain_timeout=timedelta(0))],
)
def test_config_boundaries_that_are_valid(config: RetryConfig | QueueBatchConfig | QueueConfig) -> None:
    config.validate()


def test_config_defaults_are_otelcols() -> None:
    assert RetryConfig() == RetryConfig(enabled=True, initial_interval=timedelta(seconds=5), max_interval=timedelta(seconds=30),
                                        max_elapsed_time=timedelta(seconds=300), multiplier=1.5, randomization_factor=0.5)
    assert QueueConfig() == QueueConfig(enabled=True, num_consumers=10, queue_size=1000, sizer="requests", block_on_overflow=False,
                                        storage="", wait_for_result=False, batch=None)
    assert QueueBatchConfig() == QueueBatchConfig(flush_timeout=timedelta(milliseconds=200), min_size=8192, max_size=0, sizer="items")


def test_memory_queue_counts_requests_and_frees_room_on_ack() -> None:
    async def scenario() -> None:
        queue = MemoryQueue(2)
        await queue.put(spans("a", 3), block=False)
        await queue.put(spans("b", 1), block=False)
        with pytest.raises(QueueFull):
            await queue.put(spans("c", 1), block=False)
        assert (queue.size(), queue.pending(), queue.taken()) == (2, 2, 0)
        token, data = await queue.get()
        assert token == 1 and names(data) == ["a0", "a1", "a2"]
        assert (queue.size(), queue.pending(), queue.taken()) == (2, 1, 1)
        queue.ack(token)
        assert (queue.size(), queue.pending(), queue.taken()) == (1, 1, 0)
        queue.ack(token)  # twice, or an unknown token: no change
        queue.ack(99)
        assert queue.size() == 1
        await queue.put(spans("c", 1), block=False)
        assert [t for t, _ in queue.unacknowledged()] == [2, 3]

    asyncio.run(scenario())


def test_memory_queue_sizers_and_an_oversized_request_into_an_empty_queue() -> None:
    async def scenario() -> None:
        items = MemoryQueue(5, sizer="items")
        await items.put(spans("a", 3), block=False)
        with pytest.raises(QueueFull):
            await items.put(spans("b", 3), block=False)
        await items.put(spans("b", 2), block=False)  # exactly full
        assert items.size() == 5
        big = MemoryQueue(5, sizer="items")
        await big.put(spans("big", 9), block=False)  # alone it is taken, however large
        assert big.size() == 9
        data = spans("n", 4)
        sized = MemoryQueue(10**9, sizer="bytes")
        await sized.put(data, block=False)
        assert sized.size() == data.nbytes() > 4

    asyncio.run(scenario())


def test_memory_queue_blocks_until_an_ack_makes_room() -> None:
    async def scenario() -> None:
        queue = MemoryQueue(1)
        await queue.put(spans("a", 1), block=True)
        waiting = asyncio.ensure_future(queue.put(spans("b", 1), block=True))
        await asyncio.sleep(0)
        assert not waiting.done() and queue.pending() == 1
        token, _ = await queue.get()
        queue.ack(token)
        await asyncio.wait_for(waiting, timeout=10)
        assert queue.pending() == 1 and names((await queue.get())[1]) == ["b0"]

    asyncio.run(scenario())


def test_memory_queue_picks_one_signal_and_stops_waiting_once_closed() -> None:
    async def scenario() -> None:
        queue = MemoryQueue(10)
        await queue.put(spans("t", 1), block=False)
        await queue.put(log_records("l", 2), block=False)
        found = await queue.get_within(0, Signal.LOGS)
        assert found is not None and found[0] == 2 and names(found[1]) == ["l0", "l1"]
        assert await queue.get_within(0, Signal.LOGS) is None
        assert await queue.get_within(0.01, Signal.METRICS) is None
        late = asyncio.ensure_future(queue.get_within(30, Signal.LOGS))
        await asyncio.sleep(0)
        await queue.put(log_records("m", 1), block=False)
        got = await asyncio.wait_for(late, timeout=10)
        assert got is not None and names(got[1]) == ["m0"]
        head = await queue.get_within(0)
        assert head is not None and names(head[1]) == ["t0"]
        waiting = asyncio.ensure_future(queue.get_within(30))
        await asyncio.sleep(0)
        queue.close()
        assert await asyncio.wait_for(waiting, timeout=10) is None  # not 30 s
        assert await asyncio.wait_for(queue.get_within(30), timeout=10) is None

    asyncio.run(scenario())


def test_memory_queue_release_leaves_a_request_for_the_stop() -> None:
    async def scenario() -> None:
        queue = MemoryQueue(10)
        for prefix in "abc":
            await queue.put(spans(prefix, 1), block=False)
        first, _ = await queue.get()
        second, _ = await queue.get()
        queue.release(first)
        queue.release(42)
        assert queue.taken() == 1
        assert [t for t, _ in queue.unacknowledged()] == [first, second, 3]  # taken first, then queued
        assert queue.pending() == 0

    asyncio.run(scenario())


def test_persistent_queue_replays_per_signal_and_forgets_acknowledged(tmp_path: Path) -> None:
    async def fill() -> None:
        queue = PersistentQueue(WriteAheadLog(str(tmp_path)), capacity=3)
        await queue.put(spans("a", 2), block=False)
        await queue.put(log_records("l", 1), block=False)
        await queue.put(spans("b", 1), block=False)
        with pytest.raises(QueueFull):
            await queue.put(spans("c", 1), block=False)
        assert (queue.size(), queue.pending(), queue.replayed, queue.last_replayed) == (3, 3, 0, 0)
        token, data = await queue.get()
        assert token == 1 and names(data) == ["a0", "a1"]
        queue.ack(token)
        assert (queue.size(), queue.pending(), queue.taken()) == (2, 2, 0)
        queue.wal.close()

    async def replay() -> None:
        wal = WriteAheadLog(str(tmp_path))
        queue = PersistentQueue(wal, capacity=3)
        assert (queue.replayed, queue.last_replayed, queue.size(), queue.pending()) == (2, 3, 2, 2)
        assert queue.unacknowledged_by_signal() == {Signal.LOGS: 1, Signal.TRACES: 1}
        found = await queue.get_within(0, Signal.TRACES)
        assert found is not None and found[0] == 3 and names(found[1]) == ["b0"]
        assert await queue.get_within(0, Signal.TRACES) is None
        assert queue.unacknowledged_by_signal() == {Signal.TRACES: 1, Signal.LOGS: 1}
        queue.release(found[0])
        queue.release(99)
        assert queue.taken() == 0 and queue.pending() == 1
        logs = await queue.get()
        assert logs[0] == 2 and names(logs[1]) == ["l0"]
        queue.ack(logs[0])
        assert wal.pending() == [3] and queue.size() == 1
        await queue.put(spans("d", 1), block=False)
        await queue.put(spans("e", 1), block=False)
        waiting = asyncio.ensure_future(queue.put(spans("f", 1), block=True))
        await asyncio.sleep(0)
        assert not waiting.done()
        queue.ack(found[0])
        await asyncio.wait_for(waiting, timeout=10)
        assert wal.pending() == [4, 5, 6]
        queue.close()
        assert await asyncio.wait_for(queue.get_within(30, Signal.LOGS), timeout=10) is None
        wal.close()

    asyncio.run(fill())
    asyncio.run(replay())


def test_a_persistent_put_that_cannot_be_written_gives_its_room_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        wal = WriteAheadLog(str(tmp_path))
        queue = PersistentQueue(wal, capacity=3)
        await queue.put(spans("a", 1), block=False)
        await queue.put(spans("b", 1), block=False)

        def full(payload: bytes) -> int:
            raise OSError("disk full")

        wal.append = full  # type: ignore[method-assign]
        with pytest.raises(OSError, match="disk full"):
            await queue.put(spans("c", 1), block=False)
        assert (queue.size(), queue.pending()) == (2, 2)
        wal.close()

    asyncio.run(scenario())


def test_a_released_request_acknowledged_later_is_no_longer_counted(tmp_path: Path) -> None:
    """What a stop does with a released request (dead-letters it, then acknowledges it): neither
    taken nor released afterwards, for both queues."""

    async def scenario() -> None:
        memory = MemoryQueue(10)
        persistent = PersistentQueue(WriteAheadLog(str(tmp_path)), capacity=10)
        for queue in (memory, persistent):
            await queue.put(spans("a", 1), block=False)
            await queue.put(spans("b", 1), block=False)
            first, _ = await queue.get()
            second, _ = await queue.get()
            queue.release(first)
            assert queue.taken() == 1
            queue.ack(first)
            assert (queue.taken(), queue.size()) == (1, 1)
            queue.ack(second)
            assert (queue.taken(), queue.size(), queue.pending()) == (0, 0, 0)
        assert memory.unacknowledged() == [] and persistent.unacknowledged_by_signal() == {}
        persistent.wal.close()

    asyncio.run(scenario())
