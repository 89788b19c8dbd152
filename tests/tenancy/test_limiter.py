"""The per-tenant token buckets (a fake clock: exact tokens and waits), the credential → tenant
directory, and the `tenants` extension's and sentry receiver's config errors."""

from __future__ import annotations

import base64

import pytest
from passlib.hash import bcrypt

from summitcol.auth import AuthFailure
from summitcol.auth.basic import BasicAuth, load_htpasswd
from summitcol.exceptions import ConfigError
from summitcol.extensions.tenants import Config, LimitsConfig, TenantConfig
from summitcol.receiver.sentry.config import Config as SentryConfig
from summitcol.receiver.sentry.config import ProjectConfig
from summitcol.tenancy import Limits, RateLimited, TenantLimiter
from summitcol.tenancy.directory import Tenant, TenantDirectory


def test_records_admit_while_a_token_is_left_then_debt_waits_exactly() -> None:
    now = [0.0]
    limiter = TenantLimiter({"t": Limits(records_per_second=10, records_burst=20)}, clock=lambda: now[0])
    limiter.admit("t", 1000)
    limiter.charge("t", 15)  # 5 left
    limiter.admit("t", 1000)
    limiter.charge("t", 30)  # -25: in debt
    with pytest.raises(RateLimited) as refused:
        limiter.admit("t", 1)
    assert (refused.value.what, refused.value.retry_after) == ("records", pytest.approx(2.6))  # 26 tokens at 10/s
    now[0] = 2.6
    limiter.admit("t", 1)  # paid back: one token there
    limiter.admit("other", 10**9)  # a tenant without limits is never refused


def test_bytes_take_the_body_or_a_whole_burst_and_refill_at_the_rate() -> None:
    now = [0.0]
    limiter = TenantLimiter({"t": Limits(bytes_per_second=100, bytes_burst=300)}, clock=lambda: now[0])
    limiter.admit("t", 200)
    with pytest.raises(RateLimited) as refused:
        limiter.admit("t", 200)  # 100 left
    assert (refused.value.what, refused.value.retry_after) == ("bytes", pytest.approx(1.0))
    now[0] = 3.0  # full again (300), not more
    limiter.admit("t", 10_000)  # larger than the burst: admitted with a full bucket, then in debt
    with pytest.raises(RateLimited) as refused:
        limiter.admit("t", 1)
    assert refused.value.retry_after == pytest.approx(97.01)  # -9,700 + 1 byte at 100/s


def test_the_directory_maps_tokens_and_users_to_tenants() -> None:
    users = BasicAuth(load_htpasswd(f"ci:{bcrypt.using(rounds=4).hash('pw')}\nstray:plain"))
    directory = TenantDirectory([Tenant(id="acme", tokens=("a1", "a2")), Tenant(id="ops", users=("ci",), internal=True)],
                                users=users)
    assert dict(directory.authenticate({"authorization": "Bearer a2"}).attributes) == {"tenant": "acme"}
    basic = base64.b64encode(b"ci:pw").decode()
    assert dict(directory.authenticate({"authorization": f"Basic {basic}"}).attributes) == \
        {"username": "ci", "internal": "true", "tenant": "ops"}
    for headers, message in (({}, "missing or empty authorization header"),
                             ({"authorization": "Bearer a3"}, "scheme or token does not match"),
                             ({"authorization": "a1"}, "scheme or token does not match"),
                             ({"authorization": "Basic " + base64.b64encode(b"stray:plain").decode()}, "the user belongs to no tenant"),
                             ({"authorization": "Basic " + base64.b64encode(b"ci:nope").decode()}, "invalid credentials")):
        with pytest.raises(AuthFailure) as failure:
            directory.authenticate(headers)
        assert str(failure.value) == message


@pytest.mark.parametrize(("config", "message"), [
    (Config(), "tenants: list at least one tenant (id: {tokens: [...]} or {users: [...]})"),
    (Config(tenants={"a b": TenantConfig(tokens=["x"])}),
     "tenants::a b: a tenant id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"),
    (Config(tenants={"a": TenantConfig()}), "tenants::a: give it tokens or users, or nobody can send as it"),
    (Config(tenants={"a": TenantConfig(users=["u"])}),
     "tenants::a::users: set authenticator to a basicauth extension that checks their passwords"),
    (Config(tenants={"a": TenantConfig(tokens=[""])}), "tenants::a: an empty token or user name would match anything; remove it"),
    (Config(tenants={"a": TenantConfig(tokens=["x"]), "b": TenantConfig(tokens=["x"])}),
     "tenants::b: a token of tenant 'a' is listed again; each credential belongs to one tenant"),
    (Config(tenants={"a": TenantConfig(tokens=["x"], limits=LimitsConfig(records_per_second=-1))}),
     "limits::records_per_second must not be negative"),
])
def test_tenants_config_errors(config: Config, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        config.validate()
    assert str(error.value) == message


def test_a_sentry_project_with_a_tenant_needs_the_tenants_extension() -> None:
    config = SentryConfig(projects=[ProjectConfig(id=1, keys=["k"], service_name="shop", tenant="acme")])
    with pytest.raises(ConfigError) as error:
        config.validate()
    assert str(error.value) == "projects: a project names a tenant; set tenants to the tenants extension that defines it"


def test_the_grouping_model_never_compares_two_tenants_errors() -> None:
    from dataclasses import replace

    from summitcol.errors.features import Profile, comparable

    a = Profile("f1", "python", "shop", "ValueError", "order <int> has no items", "shop.py:checkout", ("shop.py:checkout",), "acme")
    assert comparable(a, replace(a, fingerprint="f2"))
    assert not comparable(a, replace(a, fingerprint="f3", tenant="globex"))
