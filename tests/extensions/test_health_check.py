"""health_check answers 503 until the pipelines run and 200 while they do."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import threading
from pathlib import Path

import aiohttp

from summitcol.component import ComponentID, CreateSettings
from summitcol.extensions.health_check import Config, HealthCheck
from summitcol.telemetry import Telemetry
from tests.helpers import Collector, free_port


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


def listening_processes(root: int, port: int) -> int:
    """How many of `root` and its descendants hold a listening TCP socket on 127.0.0.1:`port`
    (each worker binds its own socket with SO_REUSEPORT, so this counts the workers that listen)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):  # gRPC listens on an IPv6 socket mapping 127.0.0.1
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    pids, found = [root], 0
    while pids:
        pid = pids.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                pids += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            links = []
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
                except OSError:  # closed meanwhile
                    continue
        except (FileNotFoundError, ProcessLookupError):  # the process ended meanwhile
            continue
        found += any(link in inodes for link in links)
    return found


def health(port: int) -> tuple[int, str] | None:
    """(status, JSON status text), or None while nothing listens on the health port (or it is
    closing: a request in flight as the server closes is reset)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        return response.status, json.loads(response.read())["status"]
    except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
        return None
    finally:
        connection.close()


def test_a_real_collector_is_healthy_only_while_every_worker_listens(tmp_path: Path) -> None:
    """Two worker processes: 503 while the first listens and the second starts, 200 only once
    both hold the receivers' ports, 503 again from SIGTERM until the endpoint closes."""
    health_port, grpc_port, http_port = free_port(), free_port(), free_port()
    collector = Collector(
        tmp_path,
        f"""
        receivers:
          otlp:
            protocols:
              grpc: {{endpoint: 127.0.0.1:{grpc_port}}}
              http: {{endpoint: 127.0.0.1:{http_port}}}
        exporters:
          debug:
        extensions:
          health_check: {{endpoint: 127.0.0.1:{health_port}}}
        service:
          workers: 2
          extensions: [health_check]
          telemetry:
            metrics: {{level: none}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [debug]}}
        """,
    )
    starting = threading.Thread(target=collector.start)
    starting.start()
    try:
        before: list[tuple[int, str]] = []
        while (answer := health(health_port)) is None or answer[0] != 200:
            assert starting.is_alive() or answer is not None, collector.log()
            if answer is not None:
                before.append(answer)
        assert collector.process is not None
        listening = {port: listening_processes(collector.process.pid, port) for port in (grpc_port, http_port)}
    finally:
        starting.join()
    assert before and set(before) == {(503, "Server not available")}
    assert answer == (200, "Server available")
    assert listening == {grpc_port: 2, http_port: 2}, collector.log()

    collector.process.send_signal(signal.SIGTERM)
    during: list[tuple[int, str]] = []
    while (answer := health(health_port)) is not None:
        during.append(answer)
    assert collector.process.wait(60) == 0, collector.log()
    # Answers from before the signal was handled may still be 200; none after the first 503.
    assert (503, "Server not available") in during, during
    first_503 = during.index((503, "Server not available"))
    assert set(during[first_503:]) == {(503, "Server not available")}
