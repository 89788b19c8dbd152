"""The rate at which a webhook receiver takes on authenticated deliveries.

A delivery costs milliseconds of work in the collector (mapping, decoding, exporting build
rows) where an OTLP request of the same size costs far less, and webhook receivers run beside
OTLP in worker 0. Real CI traffic is a few deliveries a second; a flood (a misbehaving
integration, a replay of thousands of old deliveries, someone holding the secret) would take
the CPU the OTLP clients need. So deliveries past the rate wait their turn, up to a bound that
stays under GitHub's 10 s delivery timeout, and past that are answered 503 + Retry-After, which
GitLab and CircleCI retry and GitHub lets you redeliver.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    """A token bucket (`rate` per second, `burst` at most) that callers wait on, at most `max_wait`."""

    def __init__(self, rate: float, burst: int, max_wait: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.max_wait = rate, burst, max_wait
        self.clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._next_free = self._last  # when the token of the last admitted caller is available

    def reserve(self) -> float | None:
        """Seconds to wait before going ahead (0: at once), or None when that would be past max_wait."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        wait = (1 - self._tokens) / self.rate
        if wait > self.max_wait:
            return None
        self._tokens -= 1  # taken now, paid for by the wait
        return wait

    async def admit(self) -> bool:
        """Wait for a turn; False when the wait would be longer than max_wait."""
        wait = self.reserve()
        if wait is None:
            return False
        if wait:
            await asyncio.sleep(wait)
        return True
