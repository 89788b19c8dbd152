"""X-Sentry-Auth, sentry_key and the envelope dsn → the project, with Relay's 401/403/400."""

from __future__ import annotations

import pytest

from summitcol.sentry.auth import AuthError, KeyRing, Project, dsn_key, parse_auth_header

SHOP, BILLING = Project("1", "shop"), Project("2", "billing")
RING = KeyRing({"k1": SHOP, "k2": BILLING})


def test_the_header_as_the_python_sdk_sends_it() -> None:
    header = "Sentry sentry_key=k1, sentry_version=7, sentry_client=sentry.python/2.75.0"
    assert parse_auth_header(header) == {"sentry_key": "k1", "sentry_version": "7", "sentry_client": "sentry.python/2.75.0"}
    assert RING.credentials({"X-Sentry-Auth": header}, {})[0] == "k1"
    assert RING.project("1", "k1") == SHOP


def test_query_dsn_and_authorization_header() -> None:
    assert RING.credentials({}, {"sentry_key": "k2", "sentry_version": "7"})[0] == "k2"
    assert RING.credentials({"Authorization": "Sentry sentry_key=k2"}, {})[0] == "k2"
    assert dsn_key("https://k1:secret@o1.ingest.example/1") == "k1" and dsn_key("not a dsn") == ""
    assert RING.project("1", "", "https://k1@example.com/1") == SHOP


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (lambda: RING.project("1", ""), 401, "missing authorization information: send X-Sentry-Auth: Sentry sentry_key=<public key>, or ?sentry_key=<public key>"),
        (lambda: RING.project("1", "zz"), 403, "unknown public key 'zz'; add it to the project's keys in the receiver's config"),
        (lambda: RING.project("1", "k2"), 403, "the public key 'k2' belongs to project 2, not 1"),
        (lambda: RING.project("1", "k1", "https://k2@h/1"), 403, "the envelope header's dsn names another key than the request"),
        (lambda: RING.credentials({"X-Sentry-Auth": "Sentry sentry_key=k1"}, {"sentry_key": "k2"}), 403,
         "X-Sentry-Auth and the sentry_key query parameter name different keys"),
        (lambda: RING.credentials({}, {"sentry_version": "8", "sentry_key": "k1"}), 400, "unsupported protocol version 8; Summit speaks version 7"),
        (lambda: RING.credentials({"X-Sentry-Auth": "Sentry sentry_version=x"}, {}), 400, "sentry_version 'x' is not a number"),
    ],
)
def test_refusals(call, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthError) as error:
        call()
    assert (error.value.status, str(error.value)) == (status, message)
