"""Sending queues: in memory, or persistent on a file_storage write-ahead log.

`put` refuses with QueueFull when the queue is at capacity (the caller turns that into a
retryable refusal) or waits for room when `block`. `get` hands out (token, data); `ack(token)`
marks it done — for the persistent queue that is what lets the WAL forget it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

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

    async def get_within(self, timeout: float) -> tuple[int, SignalData] | None: ...

    def ack(self, token: int) -> None: ...

    def pending(self) -> int: ...


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
        self._unacked: dict[int, int] = {}
        self._changed = asyncio.Condition()

    def size(self) -> int:
        return self._used

    def pending(self) -> int:
        return len(self._items)

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

    async def get_within(self, timeout: float) -> tuple[int, SignalData] | None:
        """The next item if one is ready within `timeout` seconds, else None (nothing taken)."""
        async with self._changed:
            if not await _ready_within(self._changed, lambda: bool(self._items), timeout):
                return None
            return self._pop()

    def _pop(self) -> tuple[int, SignalData]:
        token, data, weight = self._items.popleft()
        self._unacked[token] = weight
        return token, data

    def ack(self, token: int) -> None:
        self._used -= self._unacked.pop(token, 0)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


class PersistentQueue:
    """Requests in a WAL: acknowledged to the client only once written (and fsync'd if configured)."""

    def __init__(self, wal: WriteAheadLog, capacity: int) -> None:
        self.wal = wal
        self.capacity = capacity
        self._ready: deque[int] = deque(wal.pending())
        self.replayed = len(self._ready)
        self.last_replayed = self._ready[-1] if self._ready else 0
        self._outstanding = len(self._ready)
        self._changed = asyncio.Condition()

    def size(self) -> int:
        return self._outstanding

    def pending(self) -> int:
        return len(self._ready)

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
            self._ready.append(seq)
            self._changed.notify_all()

    async def get(self) -> tuple[int, SignalData]:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._ready))
            seq = self._ready.popleft()
        return seq, await self._read(seq)

    async def get_within(self, timeout: float) -> tuple[int, SignalData] | None:
        async with self._changed:
            if not await _ready_within(self._changed, lambda: bool(self._ready), timeout):
                return None
            seq = self._ready.popleft()
        return seq, await self._read(seq)

    async def _read(self, seq: int) -> SignalData:
        blob = await asyncio.to_thread(self.wal.read, seq)
        return serialize.loads(blob)

    def ack(self, token: int) -> None:
        self.wal.ack(token)
        self._outstanding -= 1
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


async def _ready_within(condition: asyncio.Condition, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    """With `condition` held: wait up to `timeout` s for `predicate`; cancellation-safe (nothing is taken)."""
    if predicate():
        return True
    if timeout <= 0:
        return False
    try:
        await asyncio.wait_for(condition.wait_for(predicate), timeout)
    except TimeoutError:
        return predicate()
    return True
