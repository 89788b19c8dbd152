"""Config of the `sentry` receiver: Sentry's ingestion API (what Relay serves) on `endpoint`,
for the projects listed with their public keys.

    receivers:
      sentry:
        endpoint: 0.0.0.0:3000
        projects:
          - {id: 1, keys: [f3c0a1b2c3d4e5f60718293a4b5c6d7e], service_name: shop, tenant: acme}
        tenants: tenants    # the `tenants` extension: the projects' tenants and their rate limits

`endpoint` defaults to Relay's own default, `localhost:3000` (relay-config `relay.host` 127.0.0.1,
`relay.port` 3000). `max_request_body_size` is the OTLP receiver's (64 MiB, also the cap once
decompressed); `max_event_size` is Relay's `limits.max_event_size` (1 MiB per event or
transaction item).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from summitcol.exceptions import ConfigError
from summitcol.netaddr import validate_endpoint
from summitcol.receiver.otlp.config import DEFAULT_MAX_REQUEST_BODY_SIZE
from summitcol.sentry.auth import Project
from summitcol.sentry.convert import MAX_EVENT_SIZE
from summitcol.tlsconfig import TLSServerConfig

DEFAULT_ENDPOINT = "localhost:3000"


@dataclass(frozen=True, kw_only=True, slots=True)
class ProjectConfig:
    """One Sentry project: the id in its DSN's path, the public keys its DSNs carry, and the
    `service.name` its data gets."""

    id: int | str
    keys: list[str] = field(default_factory=list)
    service_name: str = ""
    tenant: str = ""  # a tenant of the `tenants` extension: its rows and its rate limits
    internal: bool = False  # without a tenant: an internal project (all its replays kept)

    @property
    def project_id(self) -> str:
        return str(self.id)

    def validate(self) -> None:
        if not self.project_id.isdigit():
            raise ConfigError(f"projects: id '{self.id}' must be a number (the last part of the DSN's path)")
        if not self.keys:
            raise ConfigError(f"projects: project {self.id} needs at least one public key in 'keys' (the DSN's user part)")
        for key in self.keys:
            if not key or any(c in key for c in "@:/ "):
                raise ConfigError(f"projects: project {self.id}: key '{key}' is not a DSN public key (no '@', ':', '/' or spaces)")
        if not self.service_name:
            raise ConfigError(f"projects: project {self.id} needs a service_name (the service.name of its errors and spans)")


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplaysConfig:
    """Server-side replay sampling, by replay id (a replay is kept or dropped whole)."""

    sampling_percentage: float = 10.0  # replays kept of projects/tenants that are not internal
    internal_sampling_percentage: float = 100.0  # of internal ones (a tenant's own setting wins)

    def validate(self) -> None:
        for name in ("sampling_percentage", "internal_sampling_percentage"):
            if not 0 <= getattr(self, name) <= 100:
                raise ConfigError(f"replays::{name} must be between 0 and 100")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    endpoint: str = DEFAULT_ENDPOINT
    projects: list[ProjectConfig] = field(default_factory=list)
    max_request_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE
    max_event_size: int = MAX_EVENT_SIZE
    include_metadata: bool = False
    read_timeout: timedelta = timedelta(seconds=30)
    idle_timeout: timedelta = timedelta(minutes=1)
    tls: TLSServerConfig | None = None
    tenants: str = ""  # the `tenants` extension whose tenants the projects name
    replays: ReplaysConfig = field(default_factory=ReplaysConfig)

    def validate(self) -> None:
        validate_endpoint(self.endpoint, "endpoint")
        if any(p.tenant for p in self.projects) and not self.tenants:
            raise ConfigError("projects: a project names a tenant; set tenants to the tenants extension that defines it")
        if not self.projects:
            raise ConfigError("projects: list at least one project ({id, keys, service_name}); without one every request is refused")
        ids: set[str] = set()
        owners: dict[str, str] = {}
        for project in self.projects:
            if project.project_id in ids:
                raise ConfigError(f"projects: project {project.id} is listed twice; merge its keys into one entry")
            ids.add(project.project_id)
            for key in project.keys:
                if key in owners:
                    raise ConfigError(f"projects: key '{key}' is given to projects {owners[key]} and {project.id}; a key belongs to one project")
                owners[key] = project.project_id
        if self.max_request_body_size <= 0:
            raise ConfigError("max_request_body_size must be greater than 0")
        if self.max_event_size <= 0:
            raise ConfigError("max_event_size must be greater than 0")

    def keyring(self) -> dict[str, Project]:
        """Public key → project."""
        return {key: Project(p.project_id, p.service_name, p.tenant, p.internal) for p in self.projects for key in p.keys}
