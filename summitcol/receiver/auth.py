"""`auth: {authenticator: <extension id>}` on a receiver's server, as confighttp/configgrpc have
it: the named extension (bearertokenauth, basicauth) checks each request's headers (or gRPC
metadata) before its body is read; a failure is HTTP 401 / gRPC UNAUTHENTICATED with the
authenticator's message, counted as a refusal (reason `unauthenticated`), logged rate-limited,
and answered later and later when one address keeps failing (summitcol.auth.throttle)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from summitcol import audit
from summitcol.auth import Authenticator, AuthFailure, Principal
from summitcol.auth.throttle import FailureThrottle
from summitcol.component import Host, required_extension
from summitcol.exceptions import ConfigError, RateLimitedError
from summitcol.telemetry import Telemetry
from summitcol.tenancy import RateLimited, TenantGate

# requests of a tenant refused before decoding (`reason`: rate_limited), by receiver and transport
TENANT_REFUSED = "summitcol_tenant_refused_requests"


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthConfig:
    authenticator: str = ""
    request_params: list[str] = field(default_factory=list)  # query parameters handed over as headers

    def validate(self) -> None:
        if not self.authenticator:
            raise ConfigError("auth::authenticator must name an authenticator extension (bearertokenauth, basicauth)")


class ServerAuth:
    """One server's authenticator, resolved from the host when the server starts."""

    def __init__(self, authenticator: Authenticator, request_params: Iterable[str] = (), owner: str = "") -> None:
        self.authenticator = authenticator
        self.owner = owner
        self.request_params = tuple(request_params)
        self.throttle = FailureThrottle()
        # the `tenants` extension: the tenant's rate limits, as well as who it is
        self.gate = authenticator if isinstance(authenticator, TenantGate) else None

    @classmethod
    def resolve(cls, config: AuthConfig | None, host: Host, owner: str) -> ServerAuth | None:
        """None without `auth`; OSError (the collector does not start) when the extension is
        missing or is not an authenticator, as otelcol fails with "authenticator not found"."""
        if config is None:
            return None
        extension = required_extension(host, config.authenticator, Authenticator, owner, "authenticator",
                                       "a server authenticator")
        return cls(extension, config.request_params, owner)

    async def check(self, headers: Iterable[tuple[str, str]], query: Mapping[str, str], address: str) -> Principal:
        """The caller's identity, or AuthFailure once the failure's delay has passed. The check
        runs in a thread: a bcrypt comparison takes tens of milliseconds."""
        seen: dict[str, str] = {}
        for key, value in headers:
            seen.setdefault(key.lower(), value)
        for name in self.request_params:
            if name in query:
                seen.setdefault(name.lower(), query[name])
        try:
            principal = await asyncio.to_thread(self.authenticator.authenticate, seen)
        except AuthFailure as exc:
            audit.record(address or "unknown", "auth.failure", self.owner, address, exc.reason, {"message": str(exc)})
            delay = self.throttle.failed(address)
            if delay:
                await asyncio.sleep(delay)
            raise
        self.throttle.succeeded(address)
        return principal


async def admit_tenant(gate: TenantGate, tenant: str, nbytes: int, telemetry: Telemetry, receiver: str, transport: str) -> None:
    """The tenant's rate limit for a request of `nbytes`, for every receiver alike: a refusal is
    counted (`summitcol_tenant_refused_requests_total{reason="rate_limited"}`) and raised as
    RateLimitedError (429 / RESOURCE_EXHAUSTED, or the Sentry receiver's 429)."""
    try:
        await gate.admit(tenant, nbytes)
    except RateLimited as exc:
        telemetry.count_plain(TENANT_REFUSED, 1, tenant=tenant, receiver=receiver, transport=transport, reason="rate_limited")
        raise RateLimitedError(str(exc), retry_after=exc.retry_after) from None


def auth_client_info(principal: Principal) -> dict[str, str]:
    """contrib's client.Info.Auth as `auth.<name>` client attributes (`from_context: auth.username`);
    the raw credential is left out so that it cannot end up in stored data."""
    return {f"auth.{key}": value for key, value in principal.attributes.items() if key != "raw"}
