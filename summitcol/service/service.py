"""Lifecycle of a running collector.

Start: telemetry, extensions, exporters, processors, then receivers (so nothing is accepted
before it can be delivered). Stop (SIGTERM/SIGINT): receivers stop accepting and finish the
requests in flight while processors drain (the batch processor flushes at once), then exporters
stop, then extensions. Every request a receiver acknowledged has reached its exporter.
Processors' `shutdown` may be called more than once and must keep passing data on.

With `service.workers` above 1 the first worker also runs the hub and starts the others once it
listens; it reports ready when they all do, and at stop it keeps the hub and the extensions (the
embedded engine) up until every worker has drained through them (see `workers.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
from pathlib import Path
from typing import Any

from summitcol import audit
from summitcol.component import Component, ComponentID, Worker
from summitcol.config.model import CollectorConfig
from summitcol.service.graph import Graph, build_graph
from summitcol.service.telemetry import MetricsServer
from summitcol.service.workers import Hub, HubSession, WorkerPool, metrics_socket
from summitcol.telemetry import Telemetry
from summitcol.worker import HubError

log = logging.getLogger("summitcol.service")


def audit_config_load(argv: list[str]) -> None:
    """The config files this collector started from, with their SHA-256, in the audit ledger."""
    files = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--config"]
    files += [arg.split("=", 1)[1] for arg in argv if arg.startswith("--config=")]
    digests = {}
    for name in files:
        try:
            digests[name] = hashlib.sha256(Path(name).read_bytes()).hexdigest()
        except OSError as exc:
            digests[name] = f"unreadable: {exc.strerror}"
    sets = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--set"]
    audit.record(audit.current_user(), "config.load", ", ".join(files), f"pid {os.getpid()}", "ok", {"sha256": digests, "set": sets})


class Service:
    def __init__(self, config: CollectorConfig, worker: Worker = Worker(), argv: list[str] | None = None) -> None:  # noqa: B008 - frozen
        """`worker`: which process of `service.workers` this is; `argv`: the command line the
        first worker starts the others with."""
        self.config = config
        self.worker = worker
        self.argv = argv or []
        self.telemetry = Telemetry()
        self.graph: Graph = build_graph(config, self.telemetry, worker)
        address = config.service.telemetry.metrics.pull_address()
        self.metrics_server: MetricsServer | None = None
        if address and worker.owner:
            others = [metrics_socket(worker.hub, i) for i in range(1, worker.count)]
            self.metrics_server = MetricsServer(self.telemetry, address, others)
        elif address:
            self.metrics_server = MetricsServer(self.telemetry, metrics_socket(worker.hub, worker.index))
        self.hub: Hub | None = None
        self.pool: WorkerPool | None = None
        self.session: HubSession | None = None
        self._owner_watch: asyncio.Task[None] | None = None
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
        if self.worker.owner:
            audit_config_load(self.argv)
        if self.worker.owner and self.worker.count > 1:
            self.hub = Hub(self.worker.hub, {"extension": self._serve_extension})
            await self.hub.start()
        for cid, exp in self.graph.exporters.items():
            log.debug("starting exporter %s", cid)
            await exp.start(self)
        for _, cid, proc in self.graph.processors:
            log.debug("starting processor %s", cid)
            await proc.start(self)
        for cid, rcv in self.graph.receivers.items():
            log.debug("starting receiver %s", cid)
            await rcv.start(self)
        if self.hub is not None:
            self.pool = WorkerPool(self.worker.count, self.argv, self.hub)
            await self.pool.start()
        if not self.worker.owner:
            self.session = HubSession(self.worker)
            await self.session.open()
            self._owner_watch = asyncio.get_running_loop().create_task(self._stop_with_owner(self.session))
            self._ready = True
            log.info("Worker %d of %d is ready.", self.worker.index, self.worker.count)
            return
        self._ready = True
        if self.worker.count > 1:
            log.info("%d worker processes share the receivers' ports (hub %s).", self.worker.count, self.worker.hub)
        log.info("Everything is ready. Begin running and processing data.")

    async def _serve_extension(self, message: dict[str, Any]) -> Any:
        """A hub call from another worker for one of this process's extensions (the engine)."""
        extension = self.graph.extensions.get(ComponentID.parse(str(message.get("id", ""))))
        serve = getattr(extension, "serve_worker", None)
        if serve is None:
            raise HubError(f"no extension {message.get('id')!r} serves other workers")
        return await serve(message)

    async def _stop_with_owner(self, session: HubSession) -> None:
        await session.closed.wait()
        if not self._stopping.is_set():
            log.info("the collector's first worker is stopping; worker %d stops too", self.worker.index)
            self.request_stop()

    async def shutdown(self) -> None:
        self._ready = False
        log.info("Shutdown: stopping receivers, draining pipelines")
        if self.pool is not None:
            self.pool.terminate()
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
        # Exporters drain side by side: each is bounded (30 s), so the stop is bounded by one drain.
        await asyncio.gather(*(_quietly(cid, exp.shutdown()) for cid, exp in self.graph.exporters.items()))
        if self.pool is not None:  # the workers drain into this process's engine: keep it up for them
            await self.pool.wait()
        if self.hub is not None:
            await self.hub.stop()
        if self.session is not None:
            self.session.close()
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
