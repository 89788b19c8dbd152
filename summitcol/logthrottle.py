"""One log line per key and interval, for events a client can cause as often as it likes.

A refused request, rows past their TTL: each is counted in a metric every time, but a line per
event would let whoever sends them flood the log. `LogThrottle.add` says when a line is due and
how much it stands for (everything added for that key since the previous line)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

DEFAULT_INTERVAL_S = 10.0


class LogThrottle:
    def __init__(self, interval: float = DEFAULT_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[Hashable, tuple[float, int]] = {}  # key → (time of the last line, amount since)

    def add(self, key: Hashable, amount: int = 1) -> int | None:
        """Record `amount` for `key`; the total since the previous line (this one included) when a
        line is due now, else None (the amount waits for the next line)."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self.interval:
            self._last[key] = (last[0], last[1] + amount)
            return None
        self._last[key] = (now, 0)
        return amount + (last[1] if last is not None else 0)
