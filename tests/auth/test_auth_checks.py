"""summitcol.auth on its own: bearer tokens (constant-time over all tokens, the token file re-read
when it changes), htpasswd checks and their cache, the failure throttle's delays."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from passlib.hash import bcrypt

from summitcol.auth import AuthFailure, Principal
from summitcol.auth.basic import BasicAuth, load_htpasswd
from summitcol.auth.bearer import BearerTokens
from summitcol.auth.throttle import FailureThrottle


def basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_bearer_compares_the_whole_value_with_each_token() -> None:
    tokens = BearerTokens(["a1", "b2"], scheme="Bearer", header="X-Token")
    assert tokens.authenticate({"x-token": "Bearer b2"}) == Principal({"raw": "b2"})
    for value, message in [("", "missing or empty authorization header"), ("Bearer b", "scheme or token does not match"),
                           ("bearer b2", "scheme or token does not match"), ("Bearer b2 ", "scheme or token does not match"),
                           ("b2", "scheme or token does not match")]:
        with pytest.raises(AuthFailure) as caught:
            tokens.authenticate({"x-token": value} if value else {})
        assert str(caught.value) == message
    # the default header, and an empty scheme: the token alone
    assert BearerTokens(["k"], scheme="").authenticate({"authorization": "k"}) == Principal({"raw": "k"})


def test_token_file_wins_and_is_reread(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("one\n\ntwo\n")
    tokens = BearerTokens(["inline"], filename=str(path))
    assert tokens.authenticate({"authorization": "Bearer two"}).attributes["raw"] == "two"
    path.write_text("three\n")
    os.utime(path, ns=(1, 2_000_000_000))  # a changed mtime, whatever the file system's resolution
    with pytest.raises(AuthFailure):
        tokens.authenticate({"authorization": "Bearer two"})
    assert tokens.authenticate({"authorization": "Bearer three"}).attributes["raw"] == "three"
    with pytest.raises(AuthFailure):  # an empty line is no token: "Bearer " alone does not pass
        tokens.authenticate({"authorization": "Bearer "})


def test_htpasswd_checks_and_remembers_only_successes(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = BasicAuth(load_htpasswd(inline=f"ada:{bcrypt.using(rounds=4).hash('pw')}\n"))
    checks: list[str] = []
    real = auth._check
    monkeypatch.setattr(auth, "_check", lambda user, password: checks.append(user) or real(user, password))
    assert auth.authenticate(basic("ada", "pw")).attributes["username"] == "ada"
    assert auth.authenticate(basic("ada", "pw")).attributes["username"] == "ada"
    assert checks == ["ada"]  # the second one was remembered
    for _ in range(2):
        with pytest.raises(AuthFailure, match="invalid credentials"):
            auth.authenticate(basic("ada", "nope"))
    assert checks == ["ada", "ada", "ada"]  # failures always pay the full check


def test_htpasswd_file_changes_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    path.write_text("ada:first\n")
    auth = BasicAuth(load_htpasswd(path=str(path)))
    assert auth.authenticate(basic("ada", "first"))
    assert auth.authenticate(basic("ada", "first"))  # remembered
    path.write_text("ada:second\n")
    os.utime(path, ns=(1, 2_000_000_000))
    with pytest.raises(AuthFailure):  # the remembered success went with the old file
        auth.authenticate(basic("ada", "first"))
    assert auth.authenticate(basic("ada", "second"))


def test_throttle_delays_double_after_the_free_failures_and_forget() -> None:
    now = [0.0]
    throttle = FailureThrottle(clock=lambda: now[0], free=3, window_s=60, first_delay_s=0.1, max_delay_s=0.5, max_addresses=2)
    assert [throttle.failed("10.0.0.1") for _ in range(7)] == [0, 0, 0, 0.1, 0.2, 0.4, 0.5]
    assert throttle.failed("10.0.0.2") == 0  # another address is not slowed
    now[0] = 61.0
    assert throttle.failed("10.0.0.1") == 0  # a new window
    throttle.failed("10.0.0.3")
    throttle.failed("10.0.0.4")  # bounded: the oldest address is forgotten
    assert len(throttle._failures) == 2
    throttle.succeeded("10.0.0.4")
    assert "10.0.0.4" not in throttle._failures
    for _ in range(5):
        throttle.failed("10.0.0.5")
    throttle.succeeded("10.0.0.5")  # past its free failures: a good request between guesses resets nothing
    assert throttle.failed("10.0.0.5") == 0.4
