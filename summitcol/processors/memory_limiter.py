"""The `memory_limiter` processor: keeps the collector under a memory limit, and says so retryably.

Two checks, both refusing with a retryable error (gRPC UNAVAILABLE + RetryInfo, HTTP 503 +
Retry-After — never RESOURCE_EXHAUSTED without RetryInfo, which SDKs treat as final):

* **admission, before decoding**: receivers ask `admit(bytes)` with the size a request will take
  once decoded (its wire size times an expansion factor) before they decode it; the bytes stay
  reserved until the request is done. A request that would take the process over the soft limit
  (`limit - spike_limit`) is refused without being decoded at all.
* **in the pipeline**: data arriving while the measured RSS is over the soft limit is refused
  (otelcol's behaviour); over the hard limit a garbage collection is forced.

RSS is measured every `check_interval`; keys and defaults are otelcol's (`spike_limit_mib`
defaults to 20% of the limit).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from summitcol.component import Consumer, CreateSettings, Factory, Host, Kind, Processor, Signal, Stability
from summitcol.errors import ConfigError, RetryableError
from summitcol.pdata.signal import SignalData
from summitcol.service.telemetry import ITEM_NAMES
from summitcol.service.workers import collector_rss_bytes

log = logging.getLogger("summitcol.processor.memory_limiter")
MIB = 1024 * 1024
# Measured (perf/corpus.py, 20,000 spans): decoding 10 MB of OTLP protobuf takes ~125 MB at its
# peak (upb objects, Python lists, Arrow buffers).
EXPANSION = 12  # per byte of uncompressed OTLP
COMPRESSED_EXPANSION = 60  # per byte of a gzip body (gzip shrinks OTLP about 5x)


def release_memory() -> None:
    """Give freed memory back to the OS so RSS measures what is in use, not what was once used:
    a full GC, glibc's malloc_trim, and Arrow's pool (mimalloc/jemalloc keep freed pages)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    import pyarrow as pa

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


class MemoryLimiter(Processor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        self.settings = settings
        self.config = config
        self.next_consumer = next_consumer
        self.label = str(settings.id)
        # The limits are the collector's: with several worker processes, each compares the
        # resident memory of all of them with the limits.
        self.hard, self.soft = config.limits()
        self.worker = settings.worker
        self.rss = collector_rss_bytes(self.worker)
        self.baseline = self.rss  # RSS with nothing in flight, after freed memory went back to the OS
        self.reserved = 0
        self._warned = False
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: Host) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        interval = self.config.check_interval.total_seconds()
        while True:
            self.rss = collector_rss_bytes(self.worker)
            if self.rss > self.hard:
                log.warning("memory usage %d MiB is above the hard limit %d MiB; forcing a GC", self.rss // MIB, self.hard // MIB)
                await asyncio.to_thread(release_memory)
                self.rss = collector_rss_bytes(self.worker)
            if not self.reserved:
                if self.rss > self.baseline + 16 * MIB:
                    await asyncio.to_thread(release_memory)
                    self.rss = collector_rss_bytes(self.worker)
                if not self.reserved:
                    self.baseline = self.rss
                    self._warn_if_idle_above_soft_limit()
            await asyncio.sleep(interval)

    def _warn_if_idle_above_soft_limit(self) -> None:
        """Once: the collector with nothing in flight is already over the soft limit, so it would
        refuse everything; say which knob to turn."""
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
            "(limit - spike), so it will refuse data; raise limit_mib%s",
            self.label, self.rss // MIB, self.soft // MIB, workers,
        )

    def _refusal(self) -> RetryableError:
        return RetryableError(
            f"data refused due to high memory usage ({self.rss // MIB} MiB resident, {self.reserved // MIB} MiB "
            f"reserved for requests in flight, soft limit {self.soft // MIB} MiB); retry later",
            retry_after=max(1.0, self.config.check_interval.total_seconds()),
        )

    def _refused_request(self) -> RetryableError:
        self.settings.telemetry.count_plain("summitcol_memory_limiter_refused_requests", 1, processor=self.label)
        return self._refusal()

    def admit(self, wire_bytes: int, compressed: bool) -> int:
        """Reserve the memory a request will need; raises the refusal when there is none.

        Returns the reservation to pass to `release` when the request is done.
        """
        need = wire_bytes * (COMPRESSED_EXPANSION if compressed else EXPANSION)
        self.rss = collector_rss_bytes(self.worker)
        if self.rss > self.hard:
            raise self._refused_request()
        # Memory in use ≈ the idle baseline plus what admitted requests reserved; RSS itself also
        # holds memory freed but not yet reused, so it would refuse long after the load is gone.
        # With nothing in flight one request is always admitted, so a large one cannot starve.
        if self.reserved and self.baseline + self.reserved + need > self.soft:
            raise self._refused_request()
        self.reserved += need
        return need

    def release(self, reservation: int) -> None:
        self.reserved -= reservation

    async def consume(self, data: SignalData) -> None:
        # Data admitted by a receiver is already accounted for in `reserved`; the RSS check is for
        # data that came in without admission (and for when even admitted data overshoots).
        if (not self.reserved and self.rss > self.soft) or self.rss > self.hard:
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
