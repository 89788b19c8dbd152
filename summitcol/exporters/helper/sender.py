"""ExporterHelper: what the service puts in front of every exporter.

Without helper settings (debug, file, parquet) it only counts `otelcol_exporter_sent_*` /
`send_failed_*`. With them (otlp_grpc, otlp_http, clickhouse):

* `sending_queue.enabled` (default): `consume` returns once the data is queued — in memory, or
  written to the WAL (fsync'd when the file_storage says so) with `storage`. A full queue refuses
  retryably, or waits with `block_on_overflow`. `num_consumers` tasks send from the queue.
* `sending_queue.batch`: a consumer merges queued requests until `min_size` items or
  `flush_timeout` after the first, into one send (split at `max_size`); one consumer gathers at a
  time while the others send, and every merged request is acknowledged once the send succeeded.
* `retry_on_failure`: retryable failures are retried with exponential backoff (randomized,
  honouring the peer's RetryInfo / Retry-After) until `max_elapsed_time`; permanent ones are not.
* what cannot be delivered — rejected permanently, or retried past `max_elapsed_time`, or left in
  a memory queue when a stop could not drain it — is written to the dead-letter file (OTLP/JSON
  lines) and counted in `summitcol_exporter_dead_letter_*`. A persistent queue keeps what is
  left at a stop in its WAL for the next start.
* without a queue, the caller waits for the delivery (with retries) and gets its error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

from summitcol.component import ComponentID, Exporter, Host
from summitcol.errors import ConsumerError, PartialRejectionError, PermanentError, RetryableError
from summitcol.exporters.helper.config import HelperConfig
from summitcol.exporters.helper.queue import MemoryQueue, PersistentQueue, QueueFull, SendingQueue
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import to_message
from summitcol.pdata.signal import SignalData, concat
from summitcol.service.telemetry import ITEM_NAMES, Telemetry

log = logging.getLogger("summitcol.exporter.helper")

DRAIN_TIMEOUT_S = 30.0
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
        self._stopping = asyncio.Event()
        self._in_flight = 0
        self._dead_letter_path = ""
        self._gathering = asyncio.Lock()

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
            from summitcol.extensions.file_storage.extension import FileStorage

            storage = host.extension(ComponentID.parse(queue_config.storage))
            if not isinstance(storage, FileStorage):
                raise OSError(f"exporter {self.label}: sending_queue::storage '{queue_config.storage}' is not a file_storage extension")
            wal = await asyncio.to_thread(storage.open_log, f"exporter_{self.label}")
            queue = PersistentQueue(wal, self._queue_share(queue_config.queue_size))
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
            await self._send_once(data)
            return
        if self.queue is None:
            error = await self._deliver(data)
            if error is not None:
                raise error
            return
        if self._stopping.is_set():
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
        items = data.item_count()
        try:
            await self.exporter.consume(data)
        except PartialRejectionError as exc:
            self.telemetry.count("exporter_sent", data.signal, items - exc.rejected, exporter=self.label)
            self.telemetry.count("exporter_send_failed", data.signal, exc.rejected, exporter=self.label)
            raise
        except ConsumerError:
            self.telemetry.count("exporter_send_failed", data.signal, items, exporter=self.label)
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

    async def _next_batch(self) -> tuple[list[int], SignalData]:
        """The next request, or with `sending_queue.batch` several merged: (tokens, data)."""
        assert self.queue is not None
        batching = self.settings.sending_queue.batch  # type: ignore[union-attr]
        if batching is None:
            token, data = await self.queue.get()
            return [token], data
        async with self._gathering:
            token, data = await self.queue.get()
            tokens, parts, items = [token], [data], data.item_count()
            deadline = time.monotonic() + batching.flush_timeout.total_seconds()
            while items < batching.min_size and not self._stopping.is_set():
                got = await self.queue.get_within(deadline - time.monotonic())
                if got is None:
                    break
                tokens.append(got[0])
                parts.append(got[1])
                items += got[1].item_count()
        return tokens, (parts[0] if len(parts) == 1 else await asyncio.to_thread(concat, parts))

    async def _consume_queue(self) -> None:
        assert self.queue is not None
        batching = self.settings.sending_queue.batch  # type: ignore[union-attr]
        while True:
            tokens, data = await self._next_batch()
            if isinstance(self.queue, PersistentQueue):
                replayed = [t for t in tokens if t <= self.queue.last_replayed]
                if replayed:
                    self.telemetry.count_plain(f"summitcol_wal_replayed_{ITEM_NAMES[data.signal]}", data.item_count(), exporter=self.label)
            self._in_flight += 1
            try:
                cap = batching.max_size if batching is not None else 0
                pieces = [data.slice(start, cap) for start in range(0, data.item_count(), cap)] if cap and data.item_count() > cap else [data]
                for piece in pieces:
                    error = await self._deliver(piece)
                    if isinstance(error, PartialRejectionError):
                        error = None  # the destination took the rest; it rejected the others for good (logged, counted)
                    if error is not None:
                        if self._stopping.is_set() and isinstance(self.queue, PersistentQueue) and not isinstance(error, PermanentError):
                            break  # left unacknowledged in the WAL: the next start sends it
                        await self._dead_letter(piece, error)
                else:
                    for token in tokens:
                        self.queue.ack(token)
            finally:
                self._in_flight -= 1
                # Let go of this batch before waiting for the next: an idle consumer would keep its
                # last batch alive otherwise (measured: 400 MB held after a burst, issue #12 item 6).
                data = pieces = None  # type: ignore[assignment]
                piece = None

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
        """Drain the queue (bounded); memory leftovers go to the dead-letter file, WAL ones stay."""
        if self.queue is not None:
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while (self.queue.pending() or self._in_flight) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            self._stopping.set()
            while self._in_flight and time.monotonic() < deadline + 5:
                await asyncio.sleep(0.05)
            for task in self._consumers:
                task.cancel()
            await asyncio.gather(*self._consumers, return_exceptions=True)
            if isinstance(self.queue, MemoryQueue):
                while self.queue.pending():
                    token, data = await self.queue.get()
                    await self._dead_letter(data, RetryableError("the collector stopped before it could be delivered"))
                    self.queue.ack(token)
        await self.exporter.shutdown()

