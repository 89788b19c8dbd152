"""The receiver's decode threads are handed out round robin between connections (issue #12
item 7): a connection with many requests queued does not go ahead of the others' requests."""

from __future__ import annotations

import asyncio

from summitcol.receiver.otlp.receiver import FairSlots


def test_round_robin_between_connections() -> None:
    async def scenario() -> tuple[list[str], int]:
        slots = FairSlots(1)
        granted: list[str] = []
        await slots.acquire("heavy")  # holds the only slot

        async def request(peer: str, name: str) -> None:
            await slots.acquire(peer)
            granted.append(name)

        tasks = [asyncio.ensure_future(request("heavy", f"heavy-{i}")) for i in range(3)]
        await asyncio.sleep(0)
        tasks.append(asyncio.ensure_future(request("light", "light-0")))
        cancelled = asyncio.ensure_future(request("other", "never"))
        await asyncio.sleep(0)
        cancelled.cancel()
        for _ in range(4):
            slots.release()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        slots.release()
        return granted, slots.free

    granted, free = asyncio.run(scenario())
    assert granted == ["heavy-0", "light-0", "heavy-1", "heavy-2"]
    assert free == 1
