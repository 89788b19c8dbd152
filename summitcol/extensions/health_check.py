"""The `health_check` extension: 200 while every pipeline runs, 503 otherwise (otelcol's shape)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.exceptions import ConfigError
from summitcol.netaddr import split_host_port, validate_endpoint

log = logging.getLogger("summitcol.extension.health_check")

DEFAULT_ENDPOINT = "localhost:13133"


@dataclass(frozen=True, kw_only=True, slots=True)
class ResponseBodyConfig:
    healthy: str = ""
    unhealthy: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckCollectorPipelineConfig:
    enabled: bool = False
    interval: str = "5m"
    exporter_failure_threshold: int = 5


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    endpoint: str = DEFAULT_ENDPOINT
    path: str = "/"
    response_body: ResponseBodyConfig | None = None
    check_collector_pipeline: CheckCollectorPipelineConfig = field(default_factory=CheckCollectorPipelineConfig)

    def validate(self) -> None:
        validate_endpoint(self.endpoint)
        if not self.path.startswith("/"):
            raise ConfigError(f"path '{self.path}' must start with '/'")


class HealthCheck(Extension):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.worker = settings.worker
        self._host: Host | None = None
        self._runner: web.AppRunner | None = None
        self._since = datetime.now(UTC)
        self._started = time.monotonic()

    async def start(self, host: Host) -> None:
        self._host = host
        if not self.worker.owner:  # one endpoint per collector, served by the first worker
            return
        app = web.Application()
        app.router.add_get(self.config.path, self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        hostname, port = split_host_port(self.config.endpoint)
        await web.TCPSite(self._runner, hostname, port, reuse_address=True).start()
        log.info("health check on http://%s%s", self.config.endpoint, self.config.path)

    async def _status(self, request: web.Request) -> web.Response:
        healthy = self._host is not None and self._host.pipelines_ready()
        custom = self.config.response_body
        if custom is not None:
            return web.Response(status=200 if healthy else 503, text=custom.healthy if healthy else custom.unhealthy)
        if healthy:
            uptime = time.monotonic() - self._started
            return web.json_response(
                {"status": "Server available", "upSince": self._since.isoformat(), "uptime": f"{uptime:.3f}s"}
            )
        return web.json_response({"status": "Server not available", "upSince": self._since.isoformat()}, status=503)

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _create(settings: CreateSettings, config: Config) -> HealthCheck:
    return HealthCheck(settings, config)


FACTORY = Factory(
    type="health_check",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.BETA,
    description="HTTP health endpoint: 200 when all pipelines run, 503 otherwise",
)
