"""memory_limiter's inputs the machine decides: the container's memory limit (cgroup v2, v1, else
physical memory) read from files the test writes, and the watch loop on an RSS the test sets —
when it hands memory back to the OS (over the soft limit; idle and 16 MiB above the idle
baseline), when it warns (over the hard limit), and which idle baseline and floor it keeps.
(The mutation run's survivors: this machine has no cgroup memory limit, and real RSS cannot be
put at a limit's exact byte.)"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta

import pyarrow as pa
import pytest

from summitcol.component import ComponentID, CreateSettings
from summitcol.processors import memory_limiter
from summitcol.processors.memory_limiter import MIB, Config, MemoryLimiter, total_memory_bytes
from summitcol.telemetry import Telemetry
from tests.helpers import async_wait_for

V2 = "/sys/fs/cgroup/memory.max"
V1 = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
PHYSICAL = 4096 * 1000


@pytest.fixture
def cgroup(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The files `total_memory_bytes` reads (absent unless set), and 4,096,000 bytes of RAM."""
    files: dict[str, str] = {}

    def fake_open(path: str, encoding: str | None = None) -> io.StringIO:
        if path not in files:
            raise FileNotFoundError(path)
        return io.StringIO(files[path])

    monkeypatch.setattr(memory_limiter, "open", fake_open, raising=False)
    monkeypatch.setattr(memory_limiter.os, "sysconf", {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 1000}.__getitem__)
    return files


@pytest.mark.parametrize(
    ("v2", "v1", "total"),
    [
        ("1073741824\n", "536870912\n", 1073741824),  # cgroup v2 first
        ("max\n", "536870912\n", 536870912),  # no v2 limit: v1's
        (None, " 2048 \n", 2048),
        (None, "9223372036854771712\n", PHYSICAL),  # v1's "no limit" (near 2^63)
        (str(1 << 60), None, PHYSICAL),  # 2^60 and more: no limit
        (str((1 << 60) - 1), None, (1 << 60) - 1),
        ("-1", None, PHYSICAL),
        ("", "", PHYSICAL),
        (None, None, PHYSICAL),
    ],
)
def test_the_memory_total_is_the_cgroup_limit_else_physical_memory(cgroup: dict[str, str], v2: str | None, v1: str | None, total: int) -> None:
    cgroup.update({path: text for path, text in ((V2, v2), (V1, v1)) if text is not None})
    assert total_memory_bytes() == total


def test_percentages_are_of_the_cgroup_limit(cgroup: dict[str, str]) -> None:
    cgroup[V2] = str(1000 * MIB)
    assert Config(limit_percentage=50).limits() == (500 * MIB, 400 * MIB)  # spike: 20% of the limit
    assert Config(limit_percentage=50, spike_limit_percentage=10).limits() == (500 * MIB, 400 * MIB)
    assert Config(limit_percentage=90, spike_limit_percentage=30).limits() == (900 * MIB, 600 * MIB)


class Memory:
    """The collector's RSS as the limiter measures it, and what handing memory back does to it."""

    def __init__(self, rss: int) -> None:
        self.rss = rss
        self.after_release: int | None = None
        self.measured = 0
        self.releases = 0

    def measure(self, worker: object) -> int:
        self.measured += 1
        return self.rss

    def release(self) -> None:
        self.releases += 1
        if self.after_release is not None:
            self.rss = self.after_release


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Memory:
    fake = Memory(50 * MIB)
    monkeypatch.setattr(memory_limiter, "collector_rss_bytes", fake.measure)
    monkeypatch.setattr(memory_limiter, "release_memory", fake.release)
    return fake


def watched() -> MemoryLimiter:
    """hard 100 MiB, soft 80 MiB, measured every millisecond."""
    config = Config(check_interval=timedelta(milliseconds=1), limit_mib=100, spike_limit_mib=20)
    return MemoryLimiter(CreateSettings(id=ComponentID("memory_limiter"), telemetry=Telemetry()), config, next_consumer=None)  # type: ignore[arg-type]


async def rounds(memory: Memory, n: int = 3) -> None:
    """Until the watch loop has measured `n` more times (it measures at the top of each round)."""
    target = memory.measured + n
    assert await async_wait_for(lambda: memory.measured >= target)


def test_the_watch_loop_hands_memory_back_over_the_soft_limit_and_warns_over_the_hard_one(
    memory: Memory, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(limiter: MemoryLimiter) -> list[tuple[int, int, int]]:
        seen = []
        limiter.reserved = 1  # in flight: the idle baseline is not re-taken
        await limiter.start(None)  # type: ignore[arg-type]
        for rss in (80 * MIB, 80 * MIB + 1, 100 * MIB, 100 * MIB + 1):
            memory.rss, before, warned = rss, memory.releases, len(caplog.records)
            await rounds(memory)
            seen.append((rss, memory.releases - before, len(caplog.records) - warned))
        await limiter.shutdown()
        return seen

    with caplog.at_level(logging.WARNING, logger="summitcol.processor.memory_limiter"):
        limiter = watched()
        seen = asyncio.run(scenario(limiter))
    released = {rss: bool(count) for rss, count, _ in seen}
    assert released == {80 * MIB: False, 80 * MIB + 1: True, 100 * MIB: True, 100 * MIB + 1: True}
    warned = {rss: bool(count) for rss, _, count in seen}
    assert warned == {80 * MIB: False, 80 * MIB + 1: False, 100 * MIB: False, 100 * MIB + 1: True}
    messages = {r.getMessage() for r in caplog.records}
    assert messages == {"memory usage 100 MiB is above the hard limit 100 MiB; forcing a GC"}  # only at 100 MiB + 1 byte
    assert (limiter.baseline, limiter.floor) == (50 * MIB, 50 * MIB)  # never idle


def test_idle_the_watch_loop_retakes_the_baseline_after_handing_back_what_grew_16_mib(memory: Memory) -> None:
    async def scenario(limiter: MemoryLimiter) -> list[tuple[int, int, int]]:
        seen = []

        async def at(rss: int, after_release: int | None = None) -> None:
            memory.rss, memory.after_release, before = rss, after_release, memory.releases
            await rounds(memory)
            seen.append((limiter.baseline, limiter.floor, memory.releases - before))

        await limiter.start(None)  # type: ignore[arg-type]
        await at(66 * MIB)  # exactly 16 MiB above the idle baseline (50): kept as the new baseline
        await at(40 * MIB)
        await at(56 * MIB + 1, after_release=45 * MIB)  # 16 MiB + 1 byte above 40: handed back first
        await at(61 * MIB)  # exactly 16 MiB above 45
        limiter.reserved = 5 * MIB  # a request in flight: the baseline stays
        await at(30 * MIB)
        await limiter.shutdown()
        return seen

    limiter = watched()
    assert (limiter.baseline, limiter.floor) == (50 * MIB, 50 * MIB)
    arrow = pa.total_allocated_bytes()
    seen = asyncio.run(scenario(limiter))
    assert seen == [
        (66 * MIB, 50 * MIB, 0),
        (40 * MIB, 40 * MIB, 0),  # the floor: the lowest idle baseline
        (45 * MIB, 40 * MIB, 1),  # measured again after handing back
        (61 * MIB, 40 * MIB, 0),
        (61 * MIB, 40 * MIB, 0),
    ]
    assert limiter.arrow_baseline == arrow  # Arrow memory when the baseline was taken
    assert limiter._task is None
