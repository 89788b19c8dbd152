"""Lifecycle of a running collector.

Start: telemetry, extensions, exporters, processors, then receivers (so nothing is accepted
before it can be delivered). Stop (SIGTERM/SIGINT): receivers stop accepting and finish the
requests in flight while processors drain (the batch processor flushes at once), then exporters
stop, then extensions. Every request a receiver acknowledged has reached its exporter.
Processors' `shutdown` may be called more than once and must keep passing data on.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from summitcol.component import Component, ComponentID
from summitcol.config.model import CollectorConfig
from summitcol.service.graph import Graph, build_graph
from summitcol.service.telemetry import MetricsServer, Telemetry

log = logging.getLogger("summitcol.service")


class Service:
    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.telemetry = Telemetry()
        self.graph: Graph = build_graph(config, self.telemetry)
        address = config.service.telemetry.metrics.pull_address()
        self.metrics_server = MetricsServer(self.telemetry, address) if address else None
        self._ready = False
        self._stopping = asyncio.Event()

    # Host interface, for components
    def extension(self, id_: ComponentID) -> Component:
        return self.graph.extensions[id_]

    def pipelines_ready(self) -> bool:
        return self._ready

    async def start(self) -> None:
        if self.metrics_server is not None:
            await self.metrics_server.start()
        for cid, ext in self.graph.extensions.items():
            log.debug("starting extension %s", cid)
            await ext.start(self)
        for cid, exp in self.graph.exporters.items():
            log.debug("starting exporter %s", cid)
            await exp.start(self)
        for _, cid, proc in self.graph.processors:
            log.debug("starting processor %s", cid)
            await proc.start(self)
        for cid, rcv in self.graph.receivers.items():
            log.debug("starting receiver %s", cid)
            await rcv.start(self)
        self._ready = True
        log.info("Everything is ready. Begin running and processing data.")

    async def shutdown(self) -> None:
        self._ready = False
        log.info("Shutdown: stopping receivers, draining pipelines")
        # Receivers stop accepting and wait for their requests in flight; those wait on the
        # pipeline, so processors drain at the same time (a processor's shutdown flushes what it
        # holds and passes on anything arriving later at once). Then a second pass catches the rest.
        receivers = asyncio.gather(*(_quietly(cid, r.shutdown()) for cid, r in self.graph.receivers.items()))
        # graph.processors runs from each pipeline's end; flush from the receiver side instead.
        for _, cid, proc in reversed(self.graph.processors):
            await _quietly(cid, proc.shutdown())
        await receivers
        for _, cid, proc in reversed(self.graph.processors):
            await _quietly(cid, proc.shutdown())
        for cid, exp in self.graph.exporters.items():
            await _quietly(cid, exp.shutdown())
        for cid, ext in self.graph.extensions.items():
            await _quietly(cid, ext.shutdown())
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        log.info("Shutdown complete.")

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Start, wait for SIGTERM/SIGINT (or `request_stop`), then shut down cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            await self._stopping.wait()
        finally:
            await self.shutdown()


async def _quietly(cid: ComponentID, stopping: object) -> None:
    try:
        await stopping  # type: ignore[misc]
    except Exception:
        log.exception("error while stopping %s", cid)
