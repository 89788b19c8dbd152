"""Which deliveries a CI receiver has already passed on: a bounded LRU of delivery ids.

Providers redeliver (GitHub and GitLab on request, CircleCI on its own and sometimes twice), and
a redelivery must not be counted twice. The log lives in memory and does not survive a restart:
that is fine, because every id Summit derives from a payload is deterministic (trace and span
ids, BuildEvent.event_id from the delivery id), so a delivery replayed after a restart writes
rows with the same keys as before, which the build tables' readers collapse.
"""

from __future__ import annotations

from collections import OrderedDict

MAX_DELIVERIES = 100_000


class DeliveryLog:
    """Delivery ids seen (passed on) and in flight, the oldest forgotten past `capacity`."""

    def __init__(self, capacity: int = MAX_DELIVERIES) -> None:
        self.capacity = capacity
        self._done: OrderedDict[str, None] = OrderedDict()
        self._in_flight: set[str] = set()

    def seen(self, delivery_id: str) -> bool:
        if delivery_id in self._done:
            self._done.move_to_end(delivery_id)
            return True
        return False

    def in_flight(self, delivery_id: str) -> bool:
        return delivery_id in self._in_flight

    def begin(self, delivery_id: str) -> None:
        self._in_flight.add(delivery_id)

    def end(self, delivery_id: str, *, done: bool) -> None:
        """The delivery was passed on (`done`) or refused (a later retry is then not a duplicate)."""
        self._in_flight.discard(delivery_id)
        if done:
            self._done[delivery_id] = None
            self._done.move_to_end(delivery_id)
            while len(self._done) > self.capacity:
                self._done.popitem(last=False)

    def __len__(self) -> int:
        return len(self._done)
