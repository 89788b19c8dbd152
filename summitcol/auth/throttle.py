"""A brake on repeated authentication failures from one address: the first few in a window are
answered at once, later ones after a delay that doubles up to a cap, so guessing credentials
costs the guesser time while a client that mistyped its token once is not slowed. Bounded: the
addresses seen last are kept, the oldest forgotten."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

FREE_FAILURES = 5
WINDOW_S = 60.0
FIRST_DELAY_S = 0.1
MAX_DELAY_S = 5.0
MAX_ADDRESSES = 10_000


class FailureThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, free: int = FREE_FAILURES,
                 window_s: float = WINDOW_S, first_delay_s: float = FIRST_DELAY_S, max_delay_s: float = MAX_DELAY_S,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self.clock = clock
        self.free, self.window_s = free, window_s
        self.first_delay_s, self.max_delay_s = first_delay_s, max_delay_s
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()  # address -> (window start, count)

    def failed(self, address: str) -> float:
        """Record a failure from `address`; the seconds to wait before answering it."""
        now = self.clock()
        start, count = self._failures.pop(address, (now, 0))
        if now - start > self.window_s:
            start, count = now, 0
        count += 1
        self._failures[address] = (start, count)
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)
        if count <= self.free:
            return 0.0
        return min(self.max_delay_s, self.first_delay_s * 2 ** (count - self.free - 1))

    def succeeded(self, address: str) -> None:
        """Forgive a client that mistyped a few times; an address already being slowed stays
        slowed until its window ends, so a guesser holding one valid credential cannot reset
        the brake by sending a good request between guesses."""
        entry = self._failures.get(address)
        if entry is not None and entry[1] <= self.free:
            del self._failures[address]
