"""The `basicauth` extension (contrib's config, server side): receivers that name it in
`auth: {authenticator: basicauth}` accept only HTTP Basic credentials found in `htpasswd`
(`inline` wins over `file`). The checking is summitcol.auth's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from summitcol.auth import Principal
from summitcol.auth.basic import BasicAuth, load_htpasswd
from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.exceptions import ConfigError


@dataclass(frozen=True, kw_only=True, slots=True)
class HtpasswdConfig:
    file: str = ""
    inline: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientAuthConfig:
    username: str = ""
    password: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    htpasswd: HtpasswdConfig | None = None
    client_auth: ClientAuthConfig | None = None

    def validate(self) -> None:
        if self.client_auth is not None:
            raise ConfigError("client_auth: Summit's exporters do not take an authenticator yet; "
                              "basicauth works on receivers only (htpasswd)")
        if self.htpasswd is None or not (self.htpasswd.file or self.htpasswd.inline):
            raise ConfigError("htpasswd: set file or inline")


class BasicAuthExtension(Extension):
    def __init__(self, config: Config) -> None:
        self.config = config
        self._auth: BasicAuth | None = None

    async def start(self, host: Host) -> None:
        assert self.config.htpasswd is not None
        try:
            self._auth = BasicAuth(load_htpasswd(self.config.htpasswd.inline, self.config.htpasswd.file))
        except (OSError, ValueError) as exc:
            where = "htpasswd::inline" if self.config.htpasswd.inline else self.config.htpasswd.file
            raise OSError(f"basicauth: cannot read {where}: {exc}") from None

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if self._auth is None:
            raise RuntimeError("basicauth is not started")
        return self._auth.authenticate(headers)

    async def shutdown(self) -> None:
        self._auth = None


def _create(settings: CreateSettings, config: Config) -> BasicAuthExtension:
    return BasicAuthExtension(config)


FACTORY = Factory(
    type="basicauth",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.BETA,
    description="server authenticator: HTTP Basic credentials checked against an htpasswd file or inline text",
)
