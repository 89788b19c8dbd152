"""The `memory_limiter` processor: keeps the collector under a memory limit, and says so retryably.

Two checks, both refusing with a retryable error (gRPC UNAVAILABLE + RetryInfo, HTTP 503 +
Retry-After — never RESOURCE_EXHAUSTED without RetryInfo, which SDKs treat as final):

* **admission, before and while decoding**: receivers ask `admit(bytes, client=…)` with the
  size a request will take once decoded (its wire size times an expansion factor) before they
  decode it; the decoder then calls `grow` with the bytes of the resource and scope columns it is
  about to replicate on every record (a 200 kB resource attribute shared by 2,000 spans is 400 MB
  of Arrow from a 205 KiB request), before building them. The bytes stay reserved until the
  request is done; the pipeline's Arrow memory (batches, queues, inserts in progress) counts too.
  A request that would take the process over the soft limit (`limit - spike_limit`) is refused;
  one that could not fit even in an idle collector is refused permanently (INVALID_ARGUMENT/400).
* **progress**: the oldest request in flight (or a new one when none is) is admitted while RSS,
  the pipeline's data and its need stay under halfway to the hard limit, even over the soft
  limit: memory an allocator keeps, or small reservations refusing each other's growth, never
  refuse every request for good.
* **fairness**: over the soft limit, a client (a connection: peer address and port) holding less
  than its share of the room, `(soft - idle RSS) / clients in flight`, is still admitted up to
  halfway to the hard limit; clients holding more are refused first.
* **in the pipeline**: data arriving while the measured RSS is over the soft limit is refused
  (otelcol's behaviour); over the soft limit freed memory is handed back to the OS (GC, glibc,
  Arrow's pool) before RSS is trusted.

RSS is measured every `check_interval`; keys and defaults are otelcol's (`spike_limit_mib`
defaults to 20% of the limit).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from dataclasses import dataclass
from datetime import timedelta

import pyarrow as pa

from summitcol.component import Consumer, CreateSettings, Factory, Host, Kind, Processor, Signal, Stability
from summitcol.exceptions import ConfigError, InvalidDataError, RetryableError
from summitcol.pdata.signal import SignalData
from summitcol.telemetry import ITEM_NAMES
from summitcol.worker import collector_rss_bytes

log = logging.getLogger("summitcol.processor.memory_limiter")
MIB = 1024 * 1024
# Measured (perf/corpus.py, 20,000 spans): decoding 10 MB of OTLP protobuf takes ~125 MB at its
# peak (upb objects, Python lists, Arrow buffers).
EXPANSION = 12  # per byte of uncompressed OTLP
COMPRESSED_EXPANSION = 60  # per byte of a gzip body (gzip shrinks OTLP about 5x)
# Measured (tests/processors/test_memory_attack.py): a batch of N bytes of Arrow took the collector
# ~2N at its peak, as the embedded engine's insert copies it into its own columns.
PIPELINE_FACTOR = 2
# Arrow memory the pipeline may hold and still count as idle (self-telemetry, a batch's leftovers).
IDLE_HELD = 4 * MIB


def release_memory() -> None:
    """Give freed memory back to the OS so RSS measures what is in use, not what was once used:
    a full GC, glibc's malloc_trim, and Arrow's pool (mimalloc/jemalloc keep freed pages)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    pa.default_memory_pool().release_unused()


def total_memory_bytes() -> int:
    """The cgroup's memory limit when there is one, else physical memory."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as fh:
                text = fh.read().strip()
            if text.isdigit() and int(text) < 1 << 60:
                return int(text)
        except OSError:
            continue
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    check_interval: timedelta = timedelta(0)
    limit_mib: int = 0
    spike_limit_mib: int = 0
    limit_percentage: int = 0
    spike_limit_percentage: int = 0

    def validate(self) -> None:
        if self.check_interval <= timedelta(0):
            raise ConfigError("'check_interval' must be greater than zero; 1s is a good start")
        if self.limit_mib <= 0 and self.limit_percentage <= 0:
            raise ConfigError("set 'limit_mib' (or 'limit_percentage') to the memory the collector may use")
        if self.limit_mib > 0 and self.spike_limit_mib >= self.limit_mib:
            raise ConfigError("'spike_limit_mib' must be smaller than 'limit_mib'")
        if not 0 <= self.limit_percentage <= 100 or not 0 <= self.spike_limit_percentage <= 100:
            raise ConfigError("'limit_percentage' and 'spike_limit_percentage' must be between 0 and 100")
        if self.limit_percentage and self.spike_limit_percentage >= self.limit_percentage:
            raise ConfigError("'spike_limit_percentage' must be smaller than 'limit_percentage'")

    def limits(self) -> tuple[int, int]:
        """(hard, soft) limits in bytes."""
        if self.limit_mib > 0:
            hard = self.limit_mib * MIB
            spike = self.spike_limit_mib * MIB if self.spike_limit_mib else hard // 5
        else:
            total = total_memory_bytes()
            hard = total * self.limit_percentage // 100
            spike = total * self.spike_limit_percentage // 100 if self.spike_limit_percentage else hard // 5
        return hard, hard - spike


@dataclass(slots=True)
class Ticket:
    """One request's reservation: who holds it (the connection, for fairness) and how much."""

    client: str
    bytes: int = 0


class MemoryLimiter(Processor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        self.settings = settings
        self.config = config
        self.next_consumer = next_consumer
        self.label = str(settings.id)
        # The limits are the collector's: with several worker processes, each compares the
        # resident memory of all of them with the limits, and admits up to its share of the room.
        self.hard, self.soft = config.limits()
        self.worker = settings.worker
        self.rss = collector_rss_bytes(self.worker)
        self.baseline = self.rss  # RSS with nothing in flight, after freed memory went back to the OS
        self.floor = self.rss  # the lowest baseline seen: what an idle collector needs
        self.arrow_baseline = pa.total_allocated_bytes()  # Arrow memory held when `baseline` was measured
        self.reserved = 0
        self.by_client: dict[str, int] = {}
        self.in_flight: dict[int, Ticket] = {}  # id -> ticket, oldest first
        # admit/release run on the event loop, grow in decode threads
        self._lock = threading.Lock()
        self._warned = False
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: Host) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        interval = self.config.check_interval.total_seconds()
        while True:
            self.rss = collector_rss_bytes(self.worker)
            if self.rss > self.soft:
                # Over the soft limit RSS may be memory freed but kept by an allocator (Arrow's
                # pool, glibc): hand it back before refusing on it.
                if self.rss > self.hard:
                    log.warning("memory usage %d MiB is above the hard limit %d MiB; forcing a GC", self.rss // MIB, self.hard // MIB)
                await asyncio.to_thread(release_memory)
                self.rss = collector_rss_bytes(self.worker)
            if not self.reserved:
                if self.rss > self.baseline + 16 * MIB:
                    await asyncio.to_thread(release_memory)
                    self.rss = collector_rss_bytes(self.worker)
                if not self.reserved:
                    self.baseline, self.arrow_baseline = self.rss, pa.total_allocated_bytes()
                    self.floor = min(self.floor, self.baseline)
                    self._warn_if_idle_above_soft_limit()
            await asyncio.sleep(interval)

    def _warn_if_idle_above_soft_limit(self) -> None:
        """Once: the collector with nothing in flight is already over the soft limit, so it takes
        one request at a time and refuses the rest; say which knob to turn."""
        if self._warned or self.rss <= self.soft or not self.worker.owner:
            return
        self._warned = True
        workers = (
            f" or lower service::workers (its {self.worker.count} processes hold ~{self.rss // MIB // self.worker.count} MiB each)"
            if self.worker.count > 1
            else ""
        )
        log.warning(
            "memory_limiter %s: the collector uses %d MiB with no data in flight, above the soft limit of %d MiB "
            "(limit - spike), so it takes one request at a time and refuses the others; raise limit_mib%s",
            self.label, self.rss // MIB, self.soft // MIB, workers,
        )

    def _refusal(self) -> RetryableError:
        return RetryableError(
            f"data refused due to high memory usage ({self.rss // MIB} MiB resident, {self.reserved // MIB} MiB "
            f"reserved for requests in flight, {self._held() // MIB} MiB held by the pipeline, soft limit "
            f"{self.soft // MIB} MiB); retry later",
            retry_after=max(1.0, self.config.check_interval.total_seconds()),
        )

    def _refused_request(self) -> RetryableError:
        self.settings.telemetry.count_plain("summitcol_memory_limiter_refused_requests", 1, processor=self.label)
        return self._refusal()

    def _held(self) -> int:
        """What the data already in the pipeline (batches, queues, inserts) will cost: the Arrow
        memory allocated since the idle baseline, once more for the engine's copy at insert."""
        return PIPELINE_FACTOR * max(0, pa.total_allocated_bytes() - self.arrow_baseline)

    def _limits(self) -> tuple[int, int]:
        """(soft, hard) for this process: the baseline plus its share of the room above it."""
        count = max(1, self.worker.count)
        return (
            self.baseline + max(0, self.soft - self.baseline) // count,
            self.baseline + max(0, self.hard - self.baseline) // count,
        )

    def _room(self) -> int:
        """The most one request may take: this process's share of the room an idle collector
        has up to halfway between the soft and hard limits (as far as fairness lets a client go)."""
        return max(0, (self.soft + self.hard) // 2 - self.floor) // max(1, self.worker.count)

    def _check(self, ticket: Ticket, need: int) -> None:
        """Raise the refusal unless `ticket`'s request may reserve `need` more bytes (caller
        holds the lock).

        Memory in use is the idle baseline plus what requests in flight reserved plus what the
        pipeline holds, or RSS when that is more: allocators keep freed memory for a while (the
        watch loop hands it back when idle or over the soft limit), and an insert in progress
        holds the engine's copy. Under the soft limit everyone is admitted. Over it, a client
        holding less than its share of the room ((soft - baseline) / clients in flight) is still
        admitted up to halfway to the hard limit, so one heavy client cannot starve the others.

        The oldest request in flight (or a new one when none is) is admitted as long as RSS, what
        the pipeline holds and its need stay under halfway to the hard limit, even over the soft
        limit, so that some request always makes progress: RSS left over the soft limit when
        nothing is in flight is memory the allocators keep (fragmented heaps, thread arenas)
        that refusing would never bring down, and counting it as in use refused every request
        for good (seen in CI: idle RSS 193 MiB over a 180 MiB soft limit); and requests that
        each hold a small reservation refused each other's growth for good (seen in CI: six
        amplifying clients, none admitted in 12 s).
        """
        if self.rss > self.hard:
            raise self._refused_request()
        soft, hard = self._limits()
        oldest = next(iter(self.in_flight.values()), ticket)
        if oldest is ticket and self.rss + self._held() + need <= (soft + hard) // 2:
            return
        client = ticket.client
        used = max(self.baseline + self.reserved + self._held(), self.rss)
        if used + need <= soft:
            return
        clients = len(self.by_client) + (client not in self.by_client)
        share = max(0, soft - self.baseline) // clients
        if self.by_client.get(client, 0) + need <= share and used + need <= (soft + hard) // 2:
            return
        raise self._refused_request()

    def admit(self, wire_bytes: int, compressed: bool, client: str = "") -> Ticket:
        """Reserve the memory a request will need before it is decoded (its wire size times an
        expansion factor); raises the refusal when there is none. Pass the ticket to `grow` as
        decoding finds more, and to `release` when the request is done."""
        need = wire_bytes * (COMPRESSED_EXPANSION if compressed else EXPANSION)
        self.rss = collector_rss_bytes(self.worker)
        ticket = Ticket(client)
        with self._lock:
            self._check(ticket, need)
            self._take(ticket, need)
            self.in_flight[id(ticket)] = ticket
        return ticket

    def grow(self, ticket: Ticket, nbytes: int) -> None:
        """Reserve `nbytes` more for the request (called by the decoder, in its thread, before it
        builds columns the wire size does not predict: resource and scope values repeated on each
        record). Refuses retryably when there is no room now, permanently when there never can be."""
        need = PIPELINE_FACTOR * nbytes
        room = self._room()
        if need > room:
            self.settings.telemetry.count_plain("summitcol_memory_limiter_refused_requests", 1, processor=self.label)
            raise InvalidDataError(
                f"the request would take {need // MIB} MiB once decoded (its resource and scope attributes are "
                f"repeated on each of its records), more than memory_limiter {self.label} can ever admit "
                f"({room // MIB} MiB); send fewer records per resource or smaller resource attributes"
            )
        with self._lock:
            self._check(ticket, need)
            self._take(ticket, need)

    def _take(self, ticket: Ticket, need: int) -> None:
        ticket.bytes += need
        self.reserved += need
        self.by_client[ticket.client] = self.by_client.get(ticket.client, 0) + need

    def release(self, ticket: Ticket) -> None:
        with self._lock:
            self.in_flight.pop(id(ticket), None)
            self.reserved -= ticket.bytes
            left = self.by_client.get(ticket.client, 0) - ticket.bytes
            if left > 0:
                self.by_client[ticket.client] = left
            else:
                self.by_client.pop(ticket.client, None)
            ticket.bytes = 0

    async def consume(self, data: SignalData) -> None:
        # Data admitted by a receiver is already accounted for in `reserved`; the RSS check is for
        # data that came in without admission (and for when even admitted data overshoots).
        # With nothing in flight or held, RSS over the soft limit is memory the allocators keep
        # (see `_check`): refusing would not bring it down, and would refuse such data for good.
        if (self.rss > self.soft and not self.reserved and self._held() >= IDLE_HELD) or self.rss > self.hard:
            self.settings.telemetry.count_plain(
                f"otelcol_processor_memory_limiter_refused_{ITEM_NAMES[data.signal]}", data.item_count(), processor=self.label
            )
            raise self._refusal()
        await self.next_consumer.consume(data)

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> MemoryLimiter:
    return MemoryLimiter(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="memory_limiter",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.BETA,
    description="refuses data retryably before memory runs out: admission before decoding, RSS checks after",
)
