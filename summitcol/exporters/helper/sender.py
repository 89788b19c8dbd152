"""ExporterHelper: what the service puts in front of every exporter.

Without helper settings (debug, file, parquet) it only counts `otelcol_exporter_sent_*` /
`send_failed_*`. With them (otlp_grpc, otlp_http, clickhouse):

* `sending_queue.enabled` (default): `consume` returns once the data is queued — in memory, or
  written to the WAL (fsync'd when the file_storage says so) with `storage`. A full queue refuses
  retryably, or waits with `block_on_overflow`. `num_consumers` tasks send from the queue.
* `sending_queue.batch`: a consumer merges queued requests of one signal until `min_size` items
  or `flush_timeout` after the first, into sends of at most `max_size`; one consumer gathers at a
  time while the others send, and every merged request is acknowledged once its send succeeded.
  A merged send refused permanently is retried request by request: one request's content must
  not cost the others their delivery.
* `retry_on_failure`: retryable failures are retried with exponential backoff (randomized,
  honouring the peer's RetryInfo / Retry-After) until `max_elapsed_time`; permanent ones are not.
* what cannot be delivered — rejected permanently, or retried past `max_elapsed_time`, or left in
  a memory queue when a stop could not drain it — is written to the dead-letter file (OTLP/JSON
  lines) and counted in `summitcol_exporter_dead_letter_*`. A persistent queue keeps what is
  left at a stop in its WAL for the next start. A stop first sends what consumers are gathering
  (taken from the queue, not sent yet: neither queued nor in flight) and logs a WARNING with
  whatever it could not deliver.
* without a queue, the caller waits for the delivery (with retries) and gets its error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

from summitcol.component import ComponentID, Exporter, Host
from summitcol.exceptions import ConsumerError, PartialRejectionError, PermanentError, RetryableError
from summitcol.exporters.helper.config import HelperConfig
from summitcol.exporters.helper.queue import MemoryQueue, PersistentQueue, QueueFull, SendingQueue
from summitcol.extensions.file_storage.extension import FileStorage
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import to_message
from summitcol.pdata.signal import SignalData, concat
from summitcol.telemetry import ITEM_NAMES, Telemetry

log = logging.getLogger("summitcol.exporter.helper")

DRAIN_TIMEOUT_S = 30.0
SEND_GRACE_S = 5.0  # after the drain, for sends already under way to finish
DEFAULT_DEAD_LETTER_DIR = "./data/dead_letter"


class ExporterHelper(Exporter):
    def __init__(self, exporter: Exporter, id_: ComponentID, telemetry: Telemetry, config: Any, workers: int = 1) -> None:
        """`workers`: how many processes run this exporter (`service.workers`); each gets its
        share of `queue_size`, so the collector's queues hold what the config says."""
        self.exporter = exporter
        self.workers = workers
        self.id = id_
        self.label = str(id_)
        self.telemetry = telemetry
        self.settings: HelperConfig | None = config if isinstance(config, HelperConfig) else None
        self.queue: SendingQueue | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._draining = asyncio.Event()  # the stop began: refuse new data, flush what is gathered
        self._stopping = asyncio.Event()  # the drain is over: retries give up
        self._dead_letter_path = ""
        self._gathering = asyncio.Lock()
        self.drain_timeout = (
            self.settings.sending_queue.drain_timeout.total_seconds() if self.settings is not None else DRAIN_TIMEOUT_S
        )

    def _queue_share(self, queue_size: int) -> int:
        return max(1, -(-queue_size // self.workers))

    async def start(self, host: Host) -> None:
        await self.exporter.start(host)
        settings = self.settings
        if settings is None:
            return
        self._dead_letter_path = settings.dead_letter.path or os.path.join(
            DEFAULT_DEAD_LETTER_DIR, f"{self.label.replace('/', '_')}.jsonl"
        )
        queue_config = settings.sending_queue
        if not queue_config.enabled:
            return
        if queue_config.storage:
            storage = host.extension(ComponentID.parse(queue_config.storage))
            if not isinstance(storage, FileStorage):
                raise OSError(f"exporter {self.label}: sending_queue::storage '{queue_config.storage}' is not a file_storage extension")
            wal = await asyncio.to_thread(storage.open_log, f"exporter_{self.label}")
            queue = await asyncio.to_thread(PersistentQueue, wal, self._queue_share(queue_config.queue_size))
            if queue.replayed:
                log.warning(
                    "exporter %s: replaying %d request(s) from the write-ahead log; any delivered just before "
                    "the last stop will arrive twice (at-least-once)", self.label, queue.replayed,
                )
                self.telemetry.count_plain("summitcol_wal_replayed_requests", queue.replayed, exporter=self.label)
            self.queue = queue
        else:
            self.queue = MemoryQueue(self._queue_share(queue_config.queue_size), queue_config.sizer)
        self.telemetry.queue_gauges(self.label, self.queue)
        self._consumers = [
            asyncio.get_running_loop().create_task(self._consume_queue()) for _ in range(queue_config.num_consumers)
        ]

    async def consume(self, data: SignalData) -> None:
        settings = self.settings
        if settings is None:
            try:
                await self._send_once(data)
            except PartialRejectionError:
                raise
            except ConsumerError:
                self.telemetry.count("exporter_send_failed", data.signal, data.item_count(), exporter=self.label)
                raise
            return
        if self.queue is None:
            error = await self._deliver(data)
            if error is not None:
                if not isinstance(error, PartialRejectionError):
                    self.telemetry.count("exporter_send_failed", data.signal, data.item_count(), exporter=self.label)
                raise error
            return
        if self._draining.is_set():
            raise RetryableError(f"exporter {self.label} is stopping")
        try:
            await self.queue.put(data, block=settings.sending_queue.block_on_overflow)
        except QueueFull:
            self.telemetry.count("exporter_enqueue_failed", data.signal, data.item_count(), exporter=self.label)
            raise RetryableError(
                f"sending queue of exporter {self.label} is full ({self.queue.capacity} "
                f"{settings.sending_queue.sizer}); retry later", retry_after=1.0,
            ) from None

    async def _send_once(self, data: SignalData) -> None:
        """One attempt; counts what it delivered. A failure is counted (`send_failed`) once,
        where it is given up on (dead letter, or the caller's error), not per attempt: as in
        otelcol, where the obsreport sender sits outside the retries."""
        items = data.item_count()
        try:
            await self.exporter.consume(data)
        except PartialRejectionError as exc:
            self.telemetry.count("exporter_sent", data.signal, items - exc.rejected, exporter=self.label)
            self.telemetry.count("exporter_send_failed", data.signal, exc.rejected, exporter=self.label)
            raise
        self.telemetry.count("exporter_sent", data.signal, items, exporter=self.label)

    def _backoff(self, attempt: int) -> float:
        retry = self.settings.retry_on_failure  # type: ignore[union-attr]
        interval = min(retry.initial_interval.total_seconds() * retry.multiplier**attempt, retry.max_interval.total_seconds())
        spread = retry.randomization_factor * interval
        return random.uniform(interval - spread, interval + spread)  # noqa: S311 - jitter, not security

    async def _deliver(self, data: SignalData) -> ConsumerError | None:
        """Send with retries; the error that ended it, or None once delivered."""
        retry = self.settings.retry_on_failure  # type: ignore[union-attr]
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                await self._send_once(data)
                return None
            except (PermanentError, PartialRejectionError) as exc:
                return exc
            except ConsumerError as exc:
                error = exc
            except Exception as exc:  # an exporter bug must not kill the consumer
                log.exception("exporter %s failed unexpectedly", self.label)
                error = RetryableError(f"{type(exc).__name__}: {exc}")
            if not retry.enabled:
                return error
            delay = max(self._backoff(attempt), getattr(error, "retry_after", 0.0))
            attempt += 1
            limit = retry.max_elapsed_time.total_seconds()
            if limit and time.monotonic() - started + delay > limit:
                return error
            log.info("exporter %s: %s; retrying in %.1fs", self.label, error, delay)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            except TimeoutError:
                continue
            if self.queue is not None:
                return error  # stopping: the queue's own stop logic keeps or dead-letters it

    def _max_size(self) -> int:
        batching = self.settings.sending_queue.batch  # type: ignore[union-attr]
        return batching.max_size if batching is not None else 0

    async def _next_batch(self) -> list[tuple[int, SignalData]]:
        """The next request, or with `sending_queue.batch` several of its signal: [(token, data)].

        Everything taken counts as `taken` in the queue until acknowledged or released, so a
        stop waits for it; after the queue's `close` (a stop) the gatherer no longer waits."""
        assert self.queue is not None
        batching = self.settings.sending_queue.batch  # type: ignore[union-attr]
        if batching is None:
            return [await self.queue.get()]
        async with self._gathering:
            taken = [await self.queue.get()]
            signal, items = taken[0][1].signal, taken[0][1].item_count()
            deadline = time.monotonic() + batching.flush_timeout.total_seconds()
            while items < batching.min_size:
                got = await self.queue.get_within(deadline - time.monotonic(), signal)
                if got is None:
                    break
                taken.append(got)
                items += got[1].item_count()
        return taken

    async def _consume_queue(self) -> None:
        while True:
            taken = await self._next_batch()
            self._count_replayed(taken)
            for group in self._groups(taken):
                await self._send_group(group)
            # Let go of this batch before waiting for the next: an idle consumer would keep its
            # last batch alive otherwise (measured: 400 MB held after a burst, issue #12 item 6).
            taken = group = []  # type: ignore[assignment]

    def _count_replayed(self, taken: list[tuple[int, SignalData]]) -> None:
        """`summitcol_wal_replayed_*`: the items of each request that came from the last run's WAL."""
        if not isinstance(self.queue, PersistentQueue):
            return
        for token, data in taken:
            if token <= self.queue.last_replayed:
                self.telemetry.count_plain(f"summitcol_wal_replayed_{ITEM_NAMES[data.signal]}", data.item_count(), exporter=self.label)

    def _groups(self, taken: list[tuple[int, SignalData]]) -> list[list[tuple[int, SignalData]]]:
        """Requests packed, in order, into sends of at most `max_size` items (0: one send); a
        request larger than that alone (it is sent in slices). Each send knows its requests, so
        one that fails for one request's sake can be retried without it."""
        cap = self._max_size()
        if not cap:
            return [taken]
        groups: list[list[tuple[int, SignalData]]] = []
        items = 0
        for entry in taken:
            size = entry[1].item_count()
            if not groups or items + size > cap:
                groups.append([])
                items = 0
            groups[-1].append(entry)
            items += size
        return groups

    async def _send_group(self, group: list[tuple[int, SignalData]]) -> None:
        """Deliver one send; acknowledge its requests, or dead-letter / keep what failed."""
        assert self.queue is not None
        cap = self._max_size()
        if len(group) == 1 and cap and group[0][1].item_count() > cap:
            await self._send_slices(group[0], cap)
            return
        data = group[0][1] if len(group) == 1 else await asyncio.to_thread(concat, [part for _, part in group])
        error = _unsettled(await self._deliver(data))
        if error is None:
            self._ack(group)
        elif isinstance(error, PermanentError) and len(group) > 1:
            # the refusal may be one request's doing (its content): the others must not pay for it
            log.warning(
                "exporter %s: a send of %d merged requests was refused permanently (%s); sending each request on its own",
                self.label, len(group), error,
            )
            for entry in group:
                await self._send_group([entry])
        else:
            await self._give_up(group, data, error)

    async def _send_slices(self, entry: tuple[int, SignalData], cap: int) -> None:
        """One request larger than `max_size`, sent in slices of `max_size` items."""
        token, data = entry
        for start in range(0, data.item_count(), cap):
            piece = data.slice(start, cap)
            error = _unsettled(await self._deliver(piece))
            if error is None:
                continue
            if self._keeps(error):
                self.queue.release(token)  # type: ignore[union-attr]
                return
            await self._give_up([], piece, error)
        self._ack([entry])

    def _keeps(self, error: ConsumerError) -> bool:
        """Whether the stop keeps this undelivered data (WAL, or the memory queue's dead letter
        at the end of the stop) rather than the consumer dead-lettering it now."""
        return self._stopping.is_set() and not isinstance(error, PermanentError)

    def _ack(self, group: list[tuple[int, SignalData]]) -> None:
        for token, _ in group:
            self.queue.ack(token)  # type: ignore[union-attr]

    async def _give_up(self, group: list[tuple[int, SignalData]], data: SignalData, error: ConsumerError) -> None:
        """Dead-letter `data` and acknowledge `group`; during a stop, a retryable failure is
        released instead (left in the WAL, or dead-lettered by the stop with the rest)."""
        if self._keeps(error):
            for token, _ in group:
                self.queue.release(token)  # type: ignore[union-attr]
            return
        try:
            await self._dead_letter(data, error)
        except OSError:
            log.exception("exporter %s: cannot write the dead-letter file %s", self.label, self._dead_letter_path)
            for token, _ in group:
                self.queue.release(token)  # type: ignore[union-attr]
            return
        self._ack(group)

    async def _dead_letter(self, data: SignalData, error: Exception) -> None:
        items = data.item_count()
        path = self._dead_letter_path
        line = otlp_json.dumps(to_message(data)) + b"\n"

        def write() -> None:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "ab") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

        await asyncio.to_thread(write)
        self.telemetry.count("exporter_send_failed", data.signal, items, exporter=self.label)
        self.telemetry.count_plain(f"summitcol_exporter_dead_letter_{ITEM_NAMES[data.signal]}", items, exporter=self.label)
        log.error("exporter %s: %d %s written to dead-letter file %s: %s", self.label, items, ITEM_NAMES[data.signal], path, error)

    async def shutdown(self) -> None:
        """Drain the queue (bounded); memory leftovers go to the dead-letter file, WAL ones stay;
        either way a WARNING says what the stop left behind, how much and where."""
        if self.queue is not None:
            await self._drain(self.queue)
        await self.exporter.shutdown()

    async def _drain(self, queue: SendingQueue) -> None:
        # New data is refused and gatherers send what they hold at once; the drain waits for
        # queued *and* taken requests (a gathered batch is neither queued nor sent yet).
        self._draining.set()
        queue.close()
        deadline = time.monotonic() + self.drain_timeout
        await _until(lambda: not queue.pending() and not queue.taken(), deadline)
        self._stopping.set()  # retries end now: what still fails is kept or dead-lettered
        await _until(lambda: not queue.taken(), deadline + SEND_GRACE_S)
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        if isinstance(queue, MemoryQueue):
            await self._dead_letter_leftovers(queue)
        elif isinstance(queue, PersistentQueue):
            self._report_wal_leftovers(queue)

    async def _dead_letter_leftovers(self, queue: MemoryQueue) -> None:
        left = queue.unacknowledged()
        if not left:
            return
        error = RetryableError("the collector stopped before it could be delivered")
        for token, data in left:
            await self._dead_letter(data, error)
            queue.ack(token)
        log.warning(
            "exporter %s: the stop could not deliver %d request(s) (%s) within %g s; they are in the dead-letter file %s",
            self.label, len(left), _amounts([data for _, data in left]), self.drain_timeout, self._dead_letter_path,
        )

    def _report_wal_leftovers(self, queue: PersistentQueue) -> None:
        left = queue.unacknowledged_by_signal()
        if not left:
            return
        log.warning(
            "exporter %s: the stop left %d request(s) (%s) undelivered in the write-ahead log %s; the next start sends them",
            self.label, sum(left.values()), ", ".join(f"{count} {signal}" for signal, count in left.items()), queue.wal.directory,
        )


def _unsettled(error: ConsumerError | None) -> ConsumerError | None:
    """The error that leaves data undelivered: a partial rejection is settled (the destination
    took the rest and rejected the others for good, logged and counted)."""
    return None if isinstance(error, PartialRejectionError) else error


def _amounts(parts: list[SignalData]) -> str:
    """'120 spans, 30 log_records': items per signal."""
    counts: dict[str, int] = {}
    for data in parts:
        counts[ITEM_NAMES[data.signal]] = counts.get(ITEM_NAMES[data.signal], 0) + data.item_count()
    return ", ".join(f"{count} {name}" for name, count in counts.items())


async def _until(done: Callable[[], bool], deadline: float) -> None:
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
