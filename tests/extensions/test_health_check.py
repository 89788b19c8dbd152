"""health_check answers 503 until the pipelines run and 200 while they do."""

from __future__ import annotations

import asyncio

import aiohttp

from summitcol.component import ComponentID, CreateSettings
from summitcol.extensions.health_check import Config, HealthCheck
from summitcol.service.telemetry import Telemetry
from tests.helpers import free_port


class Host:
    def __init__(self) -> None:
        self.ready = False

    def pipelines_ready(self) -> bool:
        return self.ready


def test_status_follows_the_pipelines() -> None:
    port = free_port()
    host = Host()
    extension = HealthCheck(CreateSettings(id=ComponentID("health_check"), telemetry=Telemetry()), Config(endpoint=f"127.0.0.1:{port}", path="/health"))

    async def scenario() -> list[tuple[int, str]]:
        await extension.start(host)  # type: ignore[arg-type]
        seen = []
        async with aiohttp.ClientSession() as session:
            for ready in (False, True, False):
                host.ready = ready
                async with session.get(f"http://127.0.0.1:{port}/health") as response:
                    seen.append((response.status, (await response.json())["status"]))
        await extension.shutdown()
        return seen

    assert asyncio.run(scenario()) == [
        (503, "Server not available"),
        (200, "Server available"),
        (503, "Server not available"),
    ]
