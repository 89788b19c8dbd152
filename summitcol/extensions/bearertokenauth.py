"""The `bearertokenauth` extension (contrib's config): receivers that name it in
`auth: {authenticator: bearertokenauth}` accept only requests whose `header` (default
Authorization) is `"<scheme> <token>"` for one of the tokens. The checking is summitcol.auth's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from summitcol.auth import Principal
from summitcol.auth.bearer import BearerTokens
from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.exceptions import ConfigError


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    scheme: str = "Bearer"
    token: str = ""
    tokens: list[str] = field(default_factory=list)
    filename: str = ""
    header: str = "Authorization"

    def validate(self) -> None:
        if not self.token and not self.tokens and not self.filename:
            raise ConfigError("no bearer token provided: set token, tokens or filename")
        if self.token and self.tokens:
            raise ConfigError("either tokens or token should be provided, not both")
        if any(not t for t in self.tokens):
            raise ConfigError("tokens: an empty token would match a bare scheme; remove it")
        if not self.header:
            raise ConfigError("header must not be empty")


class BearerTokenAuth(Extension):
    def __init__(self, config: Config) -> None:
        self.config = config
        self._tokens: BearerTokens | None = None

    async def start(self, host: Host) -> None:
        tokens = self.config.tokens or ([self.config.token] if self.config.token else [])
        try:
            self._tokens = BearerTokens(tokens, self.config.scheme, self.config.header, self.config.filename)
        except Exception as exc:  # the token file: name it
            raise OSError(f"bearertokenauth: cannot read {self.config.filename}: {exc}") from None

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if self._tokens is None:
            raise RuntimeError("bearertokenauth is not started")
        return self._tokens.authenticate(headers)

    async def shutdown(self) -> None:
        self._tokens = None


def _create(settings: CreateSettings, config: Config) -> BearerTokenAuth:
    return BearerTokenAuth(config)


FACTORY = Factory(
    type="bearertokenauth",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.BETA,
    description="server authenticator: a bearer token (or one of several, or a token file) in a header",
)
