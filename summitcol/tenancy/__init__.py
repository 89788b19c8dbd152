"""Tenants: who a request's credential belongs to, and how much that tenant may send.

No pipeline knowledge: the `tenants` extension holds a `TenantLimiter` and maps credentials to
tenant ids; receivers ask it; `pdata.tenant` stamps the id on every row.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol, runtime_checkable

from summitcol.pdata.tenant import DEFAULT_TENANT
from summitcol.tenancy.limiter import Limits, RateLimited, TenantLimiter

__all__ = ["DEFAULT_TENANT", "Limits", "RateLimited", "TenantGate", "TenantLimiter", "TenantRetention"]


@runtime_checkable
class TenantGate(Protocol):
    """What a receiver asks of the `tenants` extension (its authenticator) about a request."""

    def has(self, tenant: str) -> bool: ...

    def internal(self, tenant: str) -> bool: ...

    def replay_sampling(self, tenant: str) -> float | None:
        """The tenant's own replay sampling percentage, None for the receiver's default."""

    async def admit(self, tenant: str, nbytes: int) -> None:
        """Raise RateLimited when the tenant is over its limit."""

    async def charge(self, tenant: str, records: int) -> None: ...


@runtime_checkable
class TenantRetention(Protocol):
    """What the clickhouse exporter asks of the `tenants` extension: each tenant's own retention."""

    def retention(self) -> Mapping[str, timedelta]:
        """Tenant → how long its rows are kept (0: for ever); tenants without one are left out."""
        ...
