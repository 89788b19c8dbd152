"""The `audit` extension: installs the process's audit ledger (summitcol.audit), a hash-chained
JSON-lines file every worker appends to, and records the collector's start with the digest of
the config files it loaded. `summitcol audit verify --config …` checks the file."""

from __future__ import annotations

from dataclasses import dataclass

from summitcol import audit
from summitcol.audit import ledger
from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.exceptions import ConfigError

DEFAULT_PATH = "./data/audit/audit.jsonl"


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: str = DEFAULT_PATH

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path must name the ledger file")


class AuditExtension(Extension):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.worker = settings.worker

    async def start(self, host: Host) -> None:
        try:
            ledger.install(audit.Ledger(self.config.path))
        except OSError as exc:
            raise OSError(f"audit: cannot create the ledger's directory for {self.config.path}: {exc.strerror}") from None

    async def shutdown(self) -> None:
        ledger.install(None)


def _create(settings: CreateSettings, config: Config) -> AuditExtension:
    return AuditExtension(settings, config)


FACTORY = Factory(
    type="audit",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.ALPHA,
    description="append-only, hash-chained audit ledger (auth failures, queries, config loads, error-group changes)",
)
