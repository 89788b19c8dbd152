"""Which tenant a credential belongs to. A bearer token is compared in constant time with every
tenant's tokens (all of them, whichever matches, so the time says nothing about which tenant or
how much of a token was right); a basic-auth user is checked by the given authenticator (the
`basicauth` extension: htpasswd, bcrypt) and then looked up by name."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from summitcol.auth import Authenticator, AuthFailure, Principal
from summitcol.auth.bearer import MISMATCH, MISSING
from summitcol.tenancy.limiter import Limits

NOT_A_MEMBER = "the user belongs to no tenant"


@dataclass(frozen=True, kw_only=True, slots=True)
class Tenant:
    id: str
    internal: bool = False
    tokens: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)


class TenantDirectory:
    """Authenticates a request's headers to a tenant: Principal attributes `tenant` (and
    `username` for a basic-auth user)."""

    def __init__(self, tenants: Sequence[Tenant], *, scheme: str = "Bearer", header: str = "authorization",
                 users: Authenticator | None = None) -> None:
        self.tenants = {tenant.id: tenant for tenant in tenants}
        self.header = header.lower()
        self.prefix = f"{scheme} " if scheme else ""
        self.users = users
        self._tokens = tuple((f"{self.prefix}{token}".encode(), tenant.id) for tenant in tenants for token in tenant.tokens)
        self._members = {user: tenant.id for tenant in tenants for user in tenant.users}

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        value = headers.get(self.header, "")
        if not value:
            raise AuthFailure(MISSING, "missing")
        if self.users is not None and value[:6].lower() == "basic ":
            principal = self.users.authenticate(headers)
            username = principal.attributes.get("username", "")
            tenant = self._members.get(username)
            if tenant is None:
                raise AuthFailure(NOT_A_MEMBER)
            return self._principal(tenant, username=username)
        given = value.encode()
        matched = ""
        for expected, tenant in self._tokens:  # every one compared
            if hmac.compare_digest(given, expected):
                matched = tenant
        if not matched:
            raise AuthFailure(MISMATCH)
        return self._principal(matched)

    def _principal(self, tenant: str, **attributes: str) -> Principal:
        """`tenant`, and `internal` = true for an internal tenant (stamped as `tenant.internal`)."""
        if self.tenants[tenant].internal:
            attributes["internal"] = "true"
        return Principal({**attributes, "tenant": tenant})
