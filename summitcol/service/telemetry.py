"""Summit's own metrics served as Prometheus text: the service's side of self-telemetry.

The counters themselves (`summitcol.telemetry.Telemetry`) belong to the component API; this
module serves them on `service.telemetry.metrics.address` and sums the worker processes'.
Counters are exposed with the `_total` suffix, as the collector's Prometheus endpoint does
(`otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"}`).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from summitcol.netaddr import split_host_port
from summitcol.service.ports import METRICS_ADDRESS_KEY, port_taken
from summitcol.telemetry import Telemetry

log = logging.getLogger("summitcol.telemetry")

# Summed over worker processes, except these, of which the collector has one value.
_NOT_SUMMED = {"otelcol_process_uptime": max}


def merge_expositions(texts: list[bytes]) -> bytes:
    """One Prometheus exposition from several processes' (`service.workers`): samples with the
    same name and labels are added up (counters, queue sizes, RSS), uptime is the longest."""
    from prometheus_client.parser import text_string_to_metric_families
    from prometheus_client.utils import floatToGoString

    families: dict[str, tuple[str, str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text.decode()):
            _, _, samples = families.setdefault(family.name, (family.type, family.documentation, {}))
            combine = _NOT_SUMMED.get(family.name)
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                old = samples.get(key)
                samples[key] = sample.value if old is None else (combine(old, sample.value) if combine else old + sample.value)
    lines = []
    for name, (kind, help_text, samples) in families.items():
        header = f"{name}_total" if kind == "counter" else name  # as generate_latest writes it
        help_text = help_text.replace("\\", "\\\\").replace("\n", "\\n")
        lines += [f"# HELP {header} {help_text}", f"# TYPE {header} {kind}"]
        for (sample_name, labels), value in samples.items():
            rendered = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
            lines.append(f"{sample_name}{{{rendered}}} {floatToGoString(value)}" if rendered else f"{sample_name} {floatToGoString(value)}")
    return ("\n".join(lines) + "\n").encode()


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class MetricsServer:
    """Serves `GET /metrics` on `service.telemetry.metrics.address` (a TCP `host:port`, or a Unix
    socket path for a worker's own metrics). `workers` lists the Unix sockets of the other worker
    processes, whose metrics are summed into this one's."""

    def __init__(self, telemetry: Telemetry, address: str, workers: list[str] | None = None) -> None:
        self.telemetry = telemetry
        self.address = address
        self.workers = workers or []
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        if self.address.startswith("/"):
            await web.UnixSite(self._runner, self.address).start()
            return
        host, port = split_host_port(self.address, METRICS_ADDRESS_KEY)
        try:
            await web.TCPSite(self._runner, host, port, reuse_address=True).start()
        except OSError as exc:  # checked before start (ports.py); this is a port taken since
            await self._runner.cleanup()
            raise OSError(port_taken(self.address, METRICS_ADDRESS_KEY, exc)) from None
        log.info("self-metrics on http://%s/metrics", self.address)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.telemetry.exposition()
        if self.workers:
            body = merge_expositions([body, *await asyncio.gather(*(_scrape(path) for path in self.workers))])
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _scrape(path: str) -> bytes:
    """A worker's exposition; empty while it is (re)starting."""
    try:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=path)) as session:
            async with session.get("http://worker/metrics", timeout=aiohttp.ClientTimeout(total=5)) as response:
                return await response.read()
    except (TimeoutError, aiohttp.ClientError, OSError):
        return b""
