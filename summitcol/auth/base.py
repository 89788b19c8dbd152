"""The authenticator interface the receivers call, and its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class AuthFailure(Exception):
    """The request does not authenticate; the message is contrib's error text, safe to send back
    (it never repeats what the client sent)."""

    def __init__(self, message: str, reason: str = "invalid_credentials") -> None:
        super().__init__(message)
        self.reason = reason  # missing, invalid_credentials: the label on the refusal counter


@dataclass(frozen=True, slots=True)
class Principal:
    """Who the request is from: contrib's client.Info.Auth attributes (`username`, `raw`, …)."""

    attributes: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Authenticator(Protocol):
    """A server authenticator extension. `headers` has lower-case names (HTTP headers or gRPC
    metadata, plus any `auth.request_params` query parameters). Blocking work (a bcrypt check)
    happens in `authenticate`, which the caller runs off the event loop."""

    def authenticate(self, headers: Mapping[str, str]) -> Principal: ...
