"""Handing acknowledged data to the next stage: retry its retryable refusals, never drop them.

The batch and tail_sampling processors acknowledge on receipt, so a refusal downstream (a full
queue) must be waited out, not logged and forgotten. Both retry the same way: exponential
backoff from 0.1 s to 5 s, at least the peer's `retry_after`, until a deadline that exists only
once the collector is stopping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from summitcol.component import Consumer
from summitcol.exceptions import RetryableError
from summitcol.pdata.signal import SignalData

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 5.0


async def consume_retrying(
    consumer: Consumer, data: SignalData, give_up_at: Callable[[], float | None], log: logging.Logger, what: str
) -> None:
    """`consumer.consume(data)`, retried while it refuses retryably. `give_up_at()` (asked after
    each refusal) is the loop time past which the refusal is raised instead, or None (no limit).
    Any other error (a partial rejection too) is raised at once. `what` names the data in the
    retry log line."""
    loop = asyncio.get_running_loop()
    delay = FIRST_DELAY_S
    while True:
        try:
            await consumer.consume(data)
            return
        except RetryableError as exc:
            deadline = give_up_at()
            if deadline is not None and loop.time() > deadline:
                raise
            wait = max(delay, exc.retry_after or 0.0)
            log.info("%s was refused (%s); retrying in %.1fs", what, exc, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, MAX_DELAY_S)
