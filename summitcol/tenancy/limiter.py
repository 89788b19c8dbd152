"""Per-tenant token buckets over records and bytes.

A request is admitted before it is decoded, by its size: the bytes bucket must hold its bytes
(or a whole burst, for a request larger than the burst) and the records bucket at least one
record. Once decoded, its records are charged; the records bucket may go into debt, and the
tenant's next requests wait until the debt is paid. So a tenant over its limit is refused before
any decoding is spent on it, and over time it gets exactly its rate (plus one burst).

A refusal says how long to wait: the time until the missing tokens have been refilled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """0 means unlimited. A burst of 0 is one second of the rate."""

    records_per_second: float = 0.0
    records_burst: int = 0
    bytes_per_second: float = 0.0
    bytes_burst: int = 0

    @property
    def unlimited(self) -> bool:
        return not self.records_per_second and not self.bytes_per_second


class RateLimited(Exception):
    """The tenant is over its limit of `what` (records or bytes); retry after `retry_after` s."""

    def __init__(self, tenant: str, what: str, retry_after: float) -> None:
        super().__init__(f"tenant {tenant!r} is over its rate limit of {what}; retry in {retry_after:.3g}s")
        self.tenant = tenant
        self.what = what
        self.retry_after = retry_after


class TokenBucket:
    """`rate` tokens per second up to `burst`; `tokens` may go below zero (debt)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst if burst > 0 else rate
        self.tokens = self.burst
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, needed: float) -> float:
        """Seconds until `needed` tokens are there (0: they are)."""
        missing = min(needed, self.burst) - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate


class TenantLimiter:
    """The buckets of every tenant with limits; thread-safe (workers' hub calls and receivers)."""

    def __init__(self, limits: Mapping[str, Limits], clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        now = clock()
        self._lock = threading.Lock()
        self._records: dict[str, TokenBucket] = {}
        self._bytes: dict[str, TokenBucket] = {}
        for tenant, limit in limits.items():
            if limit.records_per_second:
                self._records[tenant] = TokenBucket(limit.records_per_second, limit.records_burst, now)
            if limit.bytes_per_second:
                self._bytes[tenant] = TokenBucket(limit.bytes_per_second, limit.bytes_burst, now)

    def limited(self, tenant: str) -> bool:
        return tenant in self._records or tenant in self._bytes

    def admit(self, tenant: str, nbytes: int) -> None:
        """Take `nbytes` from the tenant's bytes bucket, or raise RateLimited (nothing taken)."""
        records, size = self._records.get(tenant), self._bytes.get(tenant)
        if records is None and size is None:
            return
        with self._lock:
            now = self.clock()
            waits = []
            if records is not None:
                records.refill(now)
                waits.append(("records", records.wait_for(1.0)))
            if size is not None:
                size.refill(now)
                waits.append(("bytes", size.wait_for(float(nbytes))))
            what, wait = max(waits, key=lambda item: item[1])
            if wait > 0:
                raise RateLimited(tenant, what, wait)
            if size is not None:
                size.tokens -= nbytes
        return

    def charge(self, tenant: str, records: int) -> None:
        """Charge an admitted request's records (the bucket may go into debt)."""
        bucket = self._records.get(tenant)
        if bucket is None or not records:
            return
        with self._lock:
            bucket.refill(self.clock())
            bucket.tokens -= records
