"""The `batch` processor: concatenates Arrow batches into larger ones.

Batches flush when `send_batch_size` items are pending or `timeout` after the first pending item;
`send_batch_max_size` caps a batch (larger requests are split). On shutdown, whatever is pending
is flushed before the exporters stop.

Acknowledgement, two modes:

* default (as otelcol's batch processor): `consume` returns once the data is in the batcher, so
  batching adds no latency to the client's request. Unlike otelcol's (#4646), a flush that
  downstream refuses retryably is not dropped: the batcher keeps it and retries (honouring
  Retry-After), and while it holds more than `max_pending_items` it refuses new data retryably,
  so backpressure still reaches the clients. Data in the batcher is in memory, like a memory
  sending queue: a crash (not a clean stop) loses it.
* `wait_for_result: true` (Summit, named like `sending_queue::wait_for_result`): a caller's
  `consume` returns only once the batch holding its data was accepted downstream, and raises what
  downstream raised. Use it in front of a persistent queue, so everything acknowledged is on disk
  — or drop the processor and batch in the queue (`sending_queue::batch`).

In both modes a batch of several requests that downstream fails for a reason other than a
retryable refusal is split in halves and delivered again, down to the request that fails: one
request's content (a value an exporter cannot write) never costs the others their data.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from summitcol.component import Consumer, CreateSettings, Factory, Kind, Processor, Signal, Stability
from summitcol.exceptions import ConfigError, ConsumerError, PartialRejectionError, RetryableError
from summitcol.pdata.signal import SignalData, concat
from summitcol.processors.retrying import consume_retrying

log = logging.getLogger("summitcol.processor.batch")

DEFAULT_SEND_BATCH_SIZE = 8192  # otelcol processor/batchprocessor
DEFAULT_TIMEOUT = timedelta(milliseconds=200)
SHUTDOWN_RETRY_S = 30.0  # at a stop, how long a refused batch is retried before it is given up


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    timeout: timedelta = DEFAULT_TIMEOUT
    send_batch_size: int = DEFAULT_SEND_BATCH_SIZE
    send_batch_max_size: int = 0  # 0 = no upper limit
    metadata_keys: list[str] | None = None
    metadata_cardinality_limit: int = 1000
    wait_for_result: bool = False
    max_pending_items: int = 0  # 0: ten batches (10 × send_batch_size, at least 100,000)

    def pending_limit(self) -> int:
        return self.max_pending_items or max(10 * self.send_batch_size, 100_000)

    def validate(self) -> None:
        if self.max_pending_items < 0:
            raise ConfigError("max_pending_items must be 0 (automatic) or more")
        if self.send_batch_size < 0 or self.send_batch_max_size < 0:
            raise ConfigError("send_batch_size and send_batch_max_size must be 0 or more")
        if 0 < self.send_batch_max_size < self.send_batch_size:
            raise ConfigError(
                f"send_batch_max_size ({self.send_batch_max_size}) must be >= send_batch_size "
                f"({self.send_batch_size}); raise send_batch_max_size, or set it to 0 for no limit"
            )
        if self.timeout < timedelta(0):
            raise ConfigError("timeout must not be negative")
        if self.metadata_keys:
            raise ConfigError("metadata_keys is not supported yet; remove it (batches are not split by client metadata)")


class BatchProcessor(Processor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        self.settings = settings
        self.config = config
        self.next_consumer = next_consumer
        self.label = str(settings.id)
        self._pending: list[SignalData] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self._draining = False
        self._held = 0  # items accepted and not yet delivered downstream (ack-on-receipt mode)

    async def consume(self, data: SignalData) -> None:
        items = data.item_count()
        if not self.config.wait_for_result and self._full(items):
            raise RetryableError(
                f"batch processor {self.label} holds {self._held} items that downstream has not taken yet; retry later",
                retry_after=1.0,
            )
        self.settings.telemetry.processor_items("incoming", self.label, data.signal, items)
        size = self._piece_size(items)
        pieces = [data.slice(start, size) for start in range(0, items, size)] if size and items > size else [data]
        waiters = [self._enqueue(piece) for piece in pieces]  # all added before anything else runs
        if self.config.wait_for_result:
            results = await asyncio.gather(*(asyncio.shield(w) for w in waiters), return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]

    def _full(self, items: int) -> bool:
        """Whether a request of `items` must be refused for now (ack-on-receipt mode).

        A request that fits under `max_pending_items` waits until it fits (or nothing is held);
        a larger one could never fit beside anything, so it is taken whenever the processor
        holds less than the limit. After it, the processor is over the limit and refuses the
        rest until downstream took enough: at most one such request beyond the limit."""
        limit = self.config.pending_limit()
        if not self._held:
            return False
        if items > limit:
            return self._held >= limit
        return self._held + items > limit

    def _piece_size(self, items: int) -> int:
        """Rows per piece a request is cut into: `send_batch_max_size`; without one, a request
        larger than `max_pending_items` is cut into `send_batch_size` pieces anyway, so that no
        stage downstream is handed more at once than this processor may hold; 0: not cut."""
        if self.config.send_batch_max_size:
            return self.config.send_batch_max_size
        limit = self.config.pending_limit()
        if items > limit:
            return min(self.config.send_batch_size or limit, limit)
        return 0

    def _enqueue(self, data: SignalData) -> asyncio.Future[None]:
        """Add `data` to the pending batch; the future is settled once its batch is delivered."""
        loop = asyncio.get_running_loop()
        items = data.item_count()
        cap = self.config.send_batch_max_size
        if cap and self._count + items > cap:
            self._flush()
        waiter: asyncio.Future[None] = loop.create_future()
        waiter.add_done_callback(_retrieve)  # a caller that went away must not leave it unobserved
        self._pending.append(data)
        self._waiters.append(waiter)
        self._count += items
        self._held += items
        if self._draining or self._count >= self.config.send_batch_size or self.config.timeout <= timedelta(0):
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.config.timeout.total_seconds(), self._flush)
        return waiter

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        pending, waiters = self._pending, self._waiters
        self._pending, self._waiters, self._count = [], [], 0
        task = asyncio.get_running_loop().create_task(self._send(pending, waiters))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _send(self, pending: list[SignalData], waiters: list[asyncio.Future[None]]) -> None:
        sizes = [{name: table.num_rows for name, table in data.tables.items()} for data in pending]
        # Concatenating tens of thousands of rows takes milliseconds: not on the event loop.
        batch = pending[0] if len(pending) == 1 else await asyncio.to_thread(concat, pending)
        pending.clear()  # the pieces are copied into `batch`: free them now, not after delivery
        lost: list[tuple[int, BaseException]] = []
        try:
            await self._settle(batch, sizes, waiters, lost)
        finally:
            self._held -= batch.item_count()
        if lost:
            self._lost(lost, len(waiters))

    async def _settle(
        self,
        batch: SignalData,
        sizes: list[dict[str, int]],
        waiters: list[asyncio.Future[None]],
        lost: list[tuple[int, BaseException]],
    ) -> None:
        """Deliver `batch` (the requests `sizes` describes, one waiter each) and settle the waiters.

        A batch of several requests that fails for a reason other than a retryable refusal may
        fail for one request's content (a value an exporter cannot write): it is split in two
        halves, each delivered on its own, down to the single request that fails, so the other
        requests' acknowledged data is delivered. Undeliverable items go to `lost`."""
        try:
            if self.config.wait_for_result:
                await self.next_consumer.consume(batch)
            else:
                await self._deliver(batch)
        except PartialRejectionError as exc:
            if len(waiters) > 1:
                # A count over a concatenation says nothing about which request held the records.
                log.warning("%s: downstream rejected %d of %d items of a batch of %d requests: %s",
                            self.label, exc.rejected, batch.item_count(), len(waiters), exc)
                _settle_all(waiters, None)
            else:
                _settle_all(waiters, exc)
            return
        except RetryableError as exc:  # wait_for_result: the callers retry; else: given up at a stop
            self._failed(batch, waiters, exc, lost)
            return
        except Exception as exc:
            if len(waiters) > 1:
                log.info("%s: downstream failed a batch of %d requests (%s); delivering them in halves",
                         self.label, len(waiters), exc)
                middle = len(waiters) // 2
                await self._settle(_requests(batch, sizes, 0, middle), sizes[:middle], waiters[:middle], lost)
                await self._settle(_requests(batch, sizes, middle, len(sizes)), sizes[middle:], waiters[middle:], lost)
                return
            self._failed(batch, waiters, exc, lost)
            return
        except BaseException as exc:
            _settle_all(waiters, exc)
            raise
        self.settings.telemetry.processor_items("outgoing", self.label, batch.signal, batch.item_count())
        _settle_all(waiters, None)

    def _failed(
        self, batch: SignalData, waiters: list[asyncio.Future[None]], exc: Exception, lost: list[tuple[int, BaseException]]
    ) -> None:
        if not isinstance(exc, ConsumerError):  # a downstream bug: keep its traceback
            log.error("%s: downstream failed on %d items", self.label, batch.item_count(), exc_info=exc)
        _settle_all(waiters, exc)
        if not self.config.wait_for_result:  # nobody is waiting for it: logged and counted
            lost.append((batch.item_count(), exc))

    async def _deliver(self, batch: SignalData) -> None:
        """Ack-on-receipt mode: hand `batch` downstream, retrying retryable refusals (bounded at a
        stop, then the refusal is raised); a permanent failure is raised at once."""
        deadline: float | None = None
        loop = asyncio.get_running_loop()

        def give_up_at() -> float | None:
            nonlocal deadline
            if self._draining:
                deadline = deadline or loop.time() + SHUTDOWN_RETRY_S
            return deadline

        what = f"{self.label}: a batch of {batch.item_count()} items"
        try:
            await consume_retrying(self.next_consumer, batch, give_up_at, log, what)
        except PartialRejectionError:
            return  # downstream took the rest and counted what it rejected

    def _lost(self, lost: list[tuple[int, BaseException]], requests: int) -> None:
        items = sum(count for count, _ in lost)
        self.settings.telemetry.count_plain("summitcol_processor_batch_dropped_items", items, processor=self.label)
        log.error("%s: %d acknowledged items (%d piece(s) of a batch of %d requests) could not be delivered and are dropped: %s",
                  self.label, items, len(lost), requests, lost[0][1])

    async def shutdown(self) -> None:
        """Flush what is pending, pass later arrivals on at once, wait for every flush in flight."""
        self._draining = True
        self._flush()
        while self._flushes:
            await asyncio.gather(*list(self._flushes), return_exceptions=True)


def _requests(batch: SignalData, sizes: list[dict[str, int]], first: int, end: int) -> SignalData:
    """The rows of requests [first, end) of a batch concatenated from requests of `sizes` (zero-copy)."""
    tables = {}
    for name, table in batch.tables.items():
        start = sum(size.get(name, 0) for size in sizes[:first])
        length = sum(size.get(name, 0) for size in sizes[first:end])
        if length:
            tables[name] = table.slice(start, length)
    return batch.with_tables(tables)


def _settle_all(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> BatchProcessor:
    return BatchProcessor(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="batch",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.BETA,
    description="groups data into larger Arrow batches; refused flushes are retried, not dropped",
)
