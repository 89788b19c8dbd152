"""CPU and RSS of a process and its children, sampled from /proc (Linux)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo += [int(c) for c in handle.read().split()]
        except OSError:
            continue
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            continue
    return total / CLOCK_TICKS


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


@dataclass(slots=True)
class Usage:
    cpu_percent: float  # of one core; 200% = two cores busy
    rss_peak_mib: float
    rss_start_mib: float
    rss_end_mib: float
    rss_by_quarter_mib: tuple[float, ...] = ()  # the peak in each quarter of the run: flat or growing?


class Sampler:
    """Samples a process tree every `interval` s in a thread, between `start()` and `stop()`."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples: list[tuple[float, float, int]] = []  # (time, cpu seconds, rss)

    def _sample(self) -> None:
        pids = tree(self.pid)
        self.samples.append((time.monotonic(), cpu_seconds(pids), rss_bytes(pids)))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> Sampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> Usage:
        self._stop.set()
        self._thread.join()
        self._sample()
        (t0, c0, r0), (t1, c1, r1) = self.samples[0], self.samples[-1]
        span = max(t1 - t0, 1e-9)
        quarters = [
            max((s[2] for s in self.samples if q * span / 4 <= s[0] - t0 <= (q + 1) * span / 4), default=0) / 2**20
            for q in range(4)
        ]
        return Usage(
            cpu_percent=100 * (c1 - c0) / span,
            rss_peak_mib=max(s[2] for s in self.samples) / 2**20,
            rss_start_mib=r0 / 2**20,
            rss_end_mib=r1 / 2**20,
            rss_by_quarter_mib=tuple(quarters),
        )
