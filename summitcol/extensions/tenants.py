"""The `tenants` extension: who may send, as which tenant, and how much.

Receivers name it as their authenticator (`auth: {authenticator: tenants}`). A request's bearer
token (or basic-auth user, checked by the `basicauth` extension named in `authenticator`) picks
its tenant; the receiver stamps that tenant on every row (`tenant.id`, overwriting whatever the
client sent, and the `TenantId` column) and asks this extension to admit the request under the
tenant's rate limits. With several workers (`service.workers`) the buckets live in worker 0 and
the other workers ask it over the hub, so a limit holds for the whole collector.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from summitcol.auth import Authenticator, Principal
from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability, required_extension
from summitcol.exceptions import ConfigError
from summitcol.tenancy import Limits, RateLimited, TenantLimiter
from summitcol.tenancy.directory import Tenant, TenantDirectory
from summitcol.worker import HubClient

TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True, kw_only=True, slots=True)
class LimitsConfig:
    records_per_second: float = 0.0  # spans, log records, metric points; 0: unlimited
    records_burst: int = 0  # 0: one second's worth
    bytes_per_second: float = 0.0  # request bodies as received
    bytes_burst: int = 0

    def validate(self) -> None:
        for name in ("records_per_second", "records_burst", "bytes_per_second", "bytes_burst"):
            if getattr(self, name) < 0:
                raise ConfigError(f"limits::{name} must not be negative")

    def limits(self) -> Limits:
        return Limits(records_per_second=self.records_per_second, records_burst=self.records_burst,
                      bytes_per_second=self.bytes_per_second, bytes_burst=self.bytes_burst)


@dataclass(frozen=True, kw_only=True, slots=True)
class TenantConfig:
    internal: bool = False  # stamped as resource attribute tenant.internal (sampling overrides match it)
    tokens: list[str] = field(default_factory=list)  # bearer tokens of this tenant
    users: list[str] = field(default_factory=list)  # basic-auth users (checked by `authenticator`)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    retention: timedelta | None = None  # how long its rows are kept (0: for ever); unset: the tables' TTL
    replay_sampling_percentage: float | None = None  # its session replays kept; unset: the sentry receiver's default


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    tenants: dict[str, TenantConfig] = field(default_factory=dict)
    authenticator: str = ""  # a basicauth extension, for tenants' `users`
    scheme: str = "Bearer"
    header: str = "Authorization"

    def validate(self) -> None:
        if not self.tenants:
            raise ConfigError("tenants: list at least one tenant (id: {tokens: [...]} or {users: [...]})")
        owners: dict[str, str] = {}
        for tenant_id, tenant in self.tenants.items():
            if not TENANT_ID.fullmatch(tenant_id):
                raise ConfigError(f"tenants::{tenant_id}: a tenant id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
            if not tenant.tokens and not tenant.users:
                raise ConfigError(f"tenants::{tenant_id}: give it tokens or users, or nobody can send as it")
            if tenant.users and not self.authenticator:
                raise ConfigError(f"tenants::{tenant_id}::users: set authenticator to a basicauth extension that checks their passwords")
            for credential in [f"token {t}" for t in tenant.tokens] + [f"user {u}" for u in tenant.users]:
                if credential in ("token ", "user "):
                    raise ConfigError(f"tenants::{tenant_id}: an empty token or user name would match anything; remove it")
                if owners.setdefault(credential, tenant_id) != tenant_id:
                    kind = credential.split(" ", 1)[0]
                    raise ConfigError(f"tenants::{tenant_id}: a {kind} of tenant {owners[credential]!r} is listed again; "
                                      "each credential belongs to one tenant")
            tenant.limits.validate()
            if tenant.replay_sampling_percentage is not None and not 0 <= tenant.replay_sampling_percentage <= 100:
                raise ConfigError(f"tenants::{tenant_id}::replay_sampling_percentage must be between 0 and 100")
            if tenant.retention is not None and (tenant.retention < timedelta(0) or tenant.retention.total_seconds() % 1):
                raise ConfigError(f"tenants::{tenant_id}::retention must be whole seconds, not negative (0 keeps its data for ever)")
        if not self.header:
            raise ConfigError("header must not be empty")


class TenantsExtension(Extension):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.id = str(settings.id)
        self.worker = settings.worker
        self.tenants = tuple(
            Tenant(id=tid, internal=t.internal, tokens=tuple(t.tokens), users=tuple(t.users), limits=t.limits.limits())
            for tid, t in config.tenants.items()
        )
        self.limiter = TenantLimiter({t.id: t.limits for t in self.tenants if not t.limits.unlimited})
        self._directory: TenantDirectory | None = None
        self._hub: HubClient | None = None

    async def start(self, host: Host) -> None:
        users = (required_extension(host, self.config.authenticator, Authenticator, "tenants", "authenticator",
                                    "a server authenticator")
                 if self.config.authenticator else None)
        self._directory = TenantDirectory(self.tenants, scheme=self.config.scheme, header=self.config.header, users=users)
        if not self.worker.owner:
            self._hub = HubClient(self.worker.hub)

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if self._directory is None:
            raise RuntimeError("tenants is not started")
        return self._directory.authenticate(headers)

    def retention(self) -> dict[str, timedelta]:
        return {tid: t.retention for tid, t in self.config.tenants.items() if t.retention is not None}

    def replay_sampling(self, tenant: str) -> float | None:
        config = self.config.tenants.get(tenant)
        return config.replay_sampling_percentage if config is not None else None

    def has(self, tenant: str) -> bool:
        return tenant in self.config.tenants

    def internal(self, tenant: str) -> bool:
        config = self.config.tenants.get(tenant)
        return config is not None and config.internal

    async def admit(self, tenant: str, nbytes: int) -> None:
        """Admit a request of `nbytes` for `tenant`, or raise RateLimited."""
        if not self.limiter.limited(tenant):
            return
        if self._hub is None:
            self.limiter.admit(tenant, nbytes)
            return
        reply = await asyncio.to_thread(self._hub.call, {"op": "extension", "id": self.id, "call": "admit",
                                                          "tenant": tenant, "bytes": nbytes})
        if reply:
            raise RateLimited(tenant, str(reply["what"]), float(reply["retry_after"]))

    async def charge(self, tenant: str, records: int) -> None:
        """Charge an admitted request's records to its tenant."""
        if not records or not self.limiter.limited(tenant):
            return
        if self._hub is None:
            self.limiter.charge(tenant, records)
            return
        await asyncio.to_thread(self._hub.call, {"op": "extension", "id": self.id, "call": "charge",
                                                 "tenant": tenant, "records": records})

    async def serve_worker(self, message: dict[str, Any]) -> Any:
        """Another worker's admit/charge, on the collector's buckets (here, in worker 0)."""
        tenant = str(message.get("tenant", ""))
        if message.get("call") == "admit":
            try:
                self.limiter.admit(tenant, int(message.get("bytes", 0)))
            except RateLimited as exc:
                return {"what": exc.what, "retry_after": exc.retry_after}
            return None
        if message.get("call") == "charge":
            self.limiter.charge(tenant, int(message.get("records", 0)))
            return None
        raise ValueError(f"unknown tenants call {message.get('call')!r}")

    async def shutdown(self) -> None:
        if self._hub is not None:
            self._hub.close()
            self._hub = None


def _create(settings: CreateSettings, config: Config) -> TenantsExtension:
    return TenantsExtension(settings, config)


FACTORY = Factory(
    type="tenants",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.ALPHA,
    description="tenants: credentials to tenant ids, per-tenant rate limits (records, bytes) across workers",
)
