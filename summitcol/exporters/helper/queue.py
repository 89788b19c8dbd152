"""Sending queues: in memory, or persistent on a file_storage write-ahead log.

`put` refuses with QueueFull when the queue is at capacity (the caller turns that into a
retryable refusal) or waits for room when `block`. `get` hands out (token, data); `ack(token)`
marks it done — for the persistent queue that is what lets the WAL forget it.

A request handed out and not yet acknowledged is `taken`: a stop waits for those as well as for
the `pending` ones, since a consumer gathering a batch holds requests it has not sent yet.
`get_within` can pick the next request of one signal (a batch merges one signal only), and after
`close` it no longer waits (a stop flushes what consumers gather at once).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

import orjson

from summitcol.component import Signal
from summitcol.extensions.file_storage.wal import WriteAheadLog
from summitcol.pdata import serialize
from summitcol.pdata.signal import SignalData


class QueueFull(Exception):
    """No room in the sending queue."""


class SendingQueue(Protocol):
    capacity: int

    def size(self) -> int: ...

    async def put(self, data: SignalData, *, block: bool) -> None: ...

    async def get(self) -> tuple[int, SignalData]: ...

    async def get_within(self, timeout: float, signal: Signal | None = None) -> tuple[int, SignalData] | None: ...

    def ack(self, token: int) -> None: ...

    def release(self, token: int) -> None: ...

    def pending(self) -> int: ...

    def taken(self) -> int: ...

    def close(self) -> None: ...


def _weight(data: SignalData, sizer: str) -> int:
    if sizer == "items":
        return data.item_count()
    if sizer == "bytes":
        return data.nbytes()
    return 1


class MemoryQueue:
    def __init__(self, capacity: int, sizer: str = "requests") -> None:
        self.capacity = capacity
        self.sizer = sizer
        self._items: deque[tuple[int, SignalData, int]] = deque()
        self._used = 0
        self._next = 0
        self._unacked: dict[int, tuple[SignalData, int]] = {}
        self._released: set[int] = set()
        self._closed = False
        self._changed = asyncio.Condition()

    def size(self) -> int:
        return self._used

    def pending(self) -> int:
        return len(self._items)

    def taken(self) -> int:
        return len(self._unacked) - len(self._released)

    def close(self) -> None:
        self._closed = True
        asyncio.get_running_loop().create_task(self._notify())

    def unacknowledged(self) -> list[tuple[int, SignalData]]:
        """Everything not acknowledged yet, taken first then queued (what a stop dead-letters);
        the queued ones are taken by this call."""
        while self._items:
            self._pop()
        return [(token, data) for token, (data, _) in self._unacked.items()]

    async def put(self, data: SignalData, *, block: bool) -> None:
        weight = _weight(data, self.sizer)
        async with self._changed:
            while self._used and self._used + weight > self.capacity:
                if not block:
                    raise QueueFull
                await self._changed.wait()
            self._next += 1
            self._items.append((self._next, data, weight))
            self._used += weight
            self._changed.notify_all()

    async def get(self) -> tuple[int, SignalData]:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))
            return self._pop()

    async def get_within(self, timeout: float, signal: Signal | None = None) -> tuple[int, SignalData] | None:
        """The next item (of `signal`, if given) if one is ready within `timeout` seconds, else
        None (nothing taken). After `close`, only what is ready now."""
        async with self._changed:
            found = await _ready_within(self._changed, lambda: self._find(signal), timeout, lambda: self._closed)
            return None if found is None else self._pop(found)

    def _find(self, signal: Signal | None) -> int | None:
        """Position of the first queued item of `signal` (any signal: the head), or None."""
        for position, (_, data, _) in enumerate(self._items):
            if signal is None or data.signal == signal:
                return position
        return None

    def _pop(self, position: int = 0) -> tuple[int, SignalData]:
        token, data, weight = self._items[position]
        del self._items[position]
        self._unacked[token] = (data, weight)
        return token, data

    def ack(self, token: int) -> None:
        _, weight = self._unacked.pop(token, (None, 0))
        self._released.discard(token)
        self._used -= weight
        asyncio.get_running_loop().create_task(self._notify())

    def release(self, token: int) -> None:
        """A taken request not delivered this run: the stop dead-letters it with the rest."""
        if token in self._unacked:
            self._released.add(token)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


class PersistentQueue:
    """Requests in a WAL: acknowledged to the client only once written (and fsync'd if configured)."""

    def __init__(self, wal: WriteAheadLog, capacity: int) -> None:
        """Reads the signal of each record left from the last run (blocking: call in a thread)."""
        self.wal = wal
        self.capacity = capacity
        self._ready: deque[tuple[int, Signal]] = deque((seq, _signal_of(wal.read(seq))) for seq in wal.pending())
        self.replayed = len(self._ready)
        self.last_replayed = self._ready[-1][0] if self._ready else 0
        self._outstanding = len(self._ready)
        self._taken: dict[int, Signal] = {}
        self._released: set[int] = set()
        self._closed = False
        self._changed = asyncio.Condition()  # binds to the loop on first use: building in a thread is fine

    def size(self) -> int:
        return self._outstanding

    def pending(self) -> int:
        return len(self._ready)

    def taken(self) -> int:
        return len(self._taken) - len(self._released)

    def unacknowledged_by_signal(self) -> dict[Signal, int]:
        """Requests in the WAL not acknowledged (queued, taken or released), per signal: what a
        stop leaves for the next start."""
        counts: dict[Signal, int] = {}
        for signal in [*self._taken.values(), *(signal for _, signal in self._ready)]:
            counts[signal] = counts.get(signal, 0) + 1
        return counts

    def close(self) -> None:
        self._closed = True
        asyncio.get_running_loop().create_task(self._notify())

    async def put(self, data: SignalData, *, block: bool) -> None:
        async with self._changed:
            while self._outstanding >= self.capacity:
                if not block:
                    raise QueueFull
                await self._changed.wait()
            self._outstanding += 1
        try:
            blob = await asyncio.to_thread(serialize.dumps, data)
            seq = await asyncio.to_thread(self.wal.append, blob)
        except BaseException:
            async with self._changed:
                self._outstanding -= 1
                self._changed.notify_all()
            raise
        async with self._changed:
            self._ready.append((seq, data.signal))
            self._changed.notify_all()

    async def get(self) -> tuple[int, SignalData]:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._ready))
            seq = self._take(0)
        return seq, await self._read(seq)

    async def get_within(self, timeout: float, signal: Signal | None = None) -> tuple[int, SignalData] | None:
        async with self._changed:
            found = await _ready_within(self._changed, lambda: self._find(signal), timeout, lambda: self._closed)
            if found is None:
                return None
            seq = self._take(found)
        return seq, await self._read(seq)

    def _find(self, signal: Signal | None) -> int | None:
        for position, (_, queued) in enumerate(self._ready):
            if signal is None or queued == signal:
                return position
        return None

    def _take(self, position: int) -> int:
        seq, signal = self._ready[position]
        del self._ready[position]
        self._taken[seq] = signal
        return seq

    async def _read(self, seq: int) -> SignalData:
        blob = await asyncio.to_thread(self.wal.read, seq)
        return serialize.loads(blob)

    def ack(self, token: int) -> None:
        self.wal.ack(token)
        self._taken.pop(token, None)
        self._released.discard(token)
        self._outstanding -= 1
        asyncio.get_running_loop().create_task(self._notify())

    def release(self, token: int) -> None:
        """A taken request not delivered this run: it stays in the WAL for the next start."""
        if token in self._taken:
            self._released.add(token)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


def _signal_of(blob: bytes) -> Signal:
    """The signal in a serialized request's header line, without decoding its tables."""
    return Signal(orjson.loads(blob[: blob.index(b"\n")])["signal"])


async def _ready_within(
    condition: asyncio.Condition, find: Callable[[], int | None], timeout: float, closed: Callable[[], bool]
) -> int | None:
    """With `condition` held: wait up to `timeout` s (not at all once `closed`) until `find` finds
    an item; its position, or None. Cancellation-safe (nothing is taken)."""
    found = find()
    if found is not None or timeout <= 0 or closed():
        return found
    try:
        await asyncio.wait_for(condition.wait_for(lambda: find() is not None or closed()), timeout)
    except TimeoutError:
        pass
    return find()
