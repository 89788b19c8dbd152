"""The `loadbalancing` exporter: spans of one trace (or one service, resource, metric stream) to
the same backend collector, with a consistent-hash ring so that adding or removing a backend
moves only about 1/N of the keys.

Each backend gets its own `otlp_grpc` exporter built from `protocol.otlp` (with its own sending
queue and retries from the exporter helper): a backend that is down keeps its data queued and
retried until it returns, or until the resolver drops it from the ring. Keys are hashed column-
wise (numpy FNV-1a over hex trace ids; distinct strings hashed once), the ring is looked up with
one `searchsorted`, and a batch is split with one filter per backend.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.component import ComponentID, CreateSettings, Exporter, Factory, Host, Kind, Signal, Stability
from summitcol.config.decode import Decoder
from summitcol.config.source import Source
from summitcol.exceptions import ConfigError, RetryableError
from summitcol.exporters import otlp_grpc
from summitcol.exporters.helper.sender import ExporterHelper
from summitcol.pdata.signal import SignalData
from summitcol.sampling.vectorized import fnv1a32_seeded, id_bytes

log = logging.getLogger("summitcol.exporter.loadbalancing")

VIRTUAL_NODES = 100  # ring positions per backend: keys move ~1/N when a backend comes or goes


@dataclass(frozen=True, kw_only=True, slots=True)
class StaticResolver:
    hostnames: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class DNSResolver:
    hostname: str = ""
    port: int = 4317
    interval: timedelta = timedelta(seconds=5)
    timeout: timedelta = timedelta(seconds=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class ResolverConfig:
    static: StaticResolver | None = None
    dns: DNSResolver | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ProtocolConfig:
    # The otlp_grpc exporter's settings, without `endpoint` (the resolver gives each backend's).
    otlp: dict[str, Any] = field(default_factory=dict)

    def backend(self, endpoint: str) -> otlp_grpc.Config:
        """The otlp_grpc config for one backend; ConfigError names any bad key or value."""
        source = Source()
        config = Decoder(source).decode(otlp_grpc.Config, {**self.otlp, "endpoint": endpoint}, ("protocol", "otlp"))
        if config is None:
            raise ConfigError("; ".join(f"{p.path}: {p.message}" for p in source.problems))
        return config


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    routing_key: Literal["traceID", "service", "resource", "metric", "streamID"] = "traceID"
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    resolver: ResolverConfig = field(default_factory=ResolverConfig)

    def validate(self) -> None:
        static, dns = self.resolver.static, self.resolver.dns
        if (static is None) == (dns is None):
            raise ConfigError("resolver: set exactly one of static {hostnames: [...]} or dns {hostname: ...}")
        if static is not None and not static.hostnames:
            raise ConfigError("resolver::static::hostnames must list at least one backend (host:port)")
        if dns is not None and not dns.hostname:
            raise ConfigError("resolver::dns::hostname must be set")
        if "endpoint" in self.protocol.otlp:
            raise ConfigError("protocol::otlp::endpoint is not used: the resolver gives each backend's endpoint")
        self.protocol.backend("placeholder:4317")


def _ring_hash(text: str) -> int:
    return zlib.crc32(text.encode())


class Ring:
    """A consistent-hash ring of backends, VIRTUAL_NODES positions each."""

    def __init__(self, backends: list[str]) -> None:
        points = sorted((_ring_hash(f"{backend}-{i}"), backend) for backend in backends for i in range(VIRTUAL_NODES))
        self.backends = sorted(set(backends))
        self.positions = np.array([p for p, _ in points], dtype=np.uint64)
        index = {b: i for i, b in enumerate(self.backends)}
        self.owners = np.array([index[b] for _, b in points], dtype=np.int64)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Backend index (into `backends`) for each 32-bit key hash."""
        slots = np.searchsorted(self.positions, hashes.astype(np.uint64), side="left") % len(self.positions)
        return self.owners[slots]



def _resource_keys(batch: pa.RecordBatch) -> pa.Array:
    """A stable text per row naming its resource: the resource's attributes, sorted (computed once
    per resource of the batch, then spread to its rows)."""
    indexes = batch.column("ResourceIndex")
    unique = pc.unique(indexes)
    first_rows = pc.index_in(unique, indexes)
    attributes = pc.take(batch.column("ResourceAttributes"), first_rows).to_pylist()
    texts = pa.array(["|".join(f"{k}={v['value']}" for k, v in sorted(kv)) for kv in attributes], pa.string())
    return pc.take(texts, pc.index_in(indexes, unique))


def key_hashes(batch: pa.RecordBatch, routing_key: str) -> np.ndarray:
    """A 32-bit hash per row of the routing key, computed on whole columns."""
    if routing_key == "traceID" and "TraceId" in batch.schema.names:
        ids, _ = id_bytes(batch.column("TraceId"), 16)
        return fnv1a32_seeded(ids, 0)
    if routing_key == "resource":
        keys = _resource_keys(batch)
    elif routing_key in ("metric", "streamID") and "MetricName" in batch.schema.names:
        keys = batch.column("MetricName")
        if routing_key == "streamID":  # one metric of one resource
            keys = pc.binary_join_element_wise(_resource_keys(batch), keys, "|")
    else:
        keys = batch.column("ServiceName")
    unique = pc.unique(keys)
    hashed = np.array([_ring_hash(v or "") for v in unique.to_pylist()], dtype=np.uint32)
    return hashed[pc.index_in(keys, unique).to_numpy(zero_copy_only=False)]


class LoadBalancingExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.settings = settings
        self.config = config
        self.label = str(settings.id)
        self.backends: dict[str, ExporterHelper] = {}
        self.ring: Ring | None = None
        self._host: Host | None = None
        self._resolver: asyncio.Task[None] | None = None

    async def start(self, host: Host) -> None:
        self._host = host
        await self._set_backends(await self._resolve())
        if self.config.resolver.dns is not None:
            self._resolver = asyncio.get_running_loop().create_task(self._watch_dns())

    async def _resolve(self) -> list[str]:
        static = self.config.resolver.static
        if static is not None:
            return list(static.hostnames)
        dns = self.config.resolver.dns
        assert dns is not None
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(dns.hostname, dns.port, type=socket.SOCK_STREAM), dns.timeout.total_seconds()
            )
        except (OSError, TimeoutError) as exc:
            log.warning("%s: cannot resolve %s: %s; keeping the current backends", self.label, dns.hostname, exc)
            return list(self.backends)
        return sorted({f"[{info[4][0]}]:{dns.port}" if ":" in info[4][0] else f"{info[4][0]}:{dns.port}" for info in infos})

    async def _watch_dns(self) -> None:
        interval = self.config.resolver.dns.interval.total_seconds()  # type: ignore[union-attr]
        while True:
            await asyncio.sleep(interval)
            endpoints = await self._resolve()
            if endpoints and set(endpoints) != set(self.backends):
                await self._set_backends(endpoints)

    async def _set_backends(self, endpoints: list[str]) -> None:
        for endpoint in endpoints:
            if endpoint not in self.backends:
                config = self.config.protocol.backend(endpoint)
                backend_id = ComponentID(self.settings.id.type, f"{self.settings.id.name or 'default'}:{endpoint}")
                settings = CreateSettings(id=backend_id, telemetry=self.settings.telemetry, signals=self.settings.signals)
                helper = ExporterHelper(
                    otlp_grpc.OtlpGrpcExporter(settings, config), backend_id, self.settings.telemetry, config, self.settings.worker.count
                )
                await helper.start(self._host)  # type: ignore[arg-type]
                self.backends[endpoint] = helper
        removed = [e for e in self.backends if e not in endpoints]
        self.ring = Ring(list(endpoints))
        log.info("%s: backends %s", self.label, ", ".join(self.ring.backends))
        for endpoint in removed:  # drains its queue to it (bounded) before it goes
            await self.backends.pop(endpoint).shutdown()

    async def consume(self, data: SignalData) -> None:
        ring = self.ring
        if ring is None or not ring.backends:
            raise RetryableError(f"{self.label}: no backends resolved yet")
        sends = []
        for table, batch in data.tables.items():
            owners = ring.lookup(key_hashes(batch, self.config.routing_key))
            for index in np.unique(owners):
                part = batch.filter(pa.array(owners == index))
                sends.append((ring.backends[int(index)], SignalData(data.signal, {table: part})))
        results = await asyncio.gather(*(self.backends[b].consume(d) for b, d in sends), return_exceptions=True)
        errors: list[Any] = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    async def shutdown(self) -> None:
        if self._resolver is not None:
            self._resolver.cancel()
            self._resolver = None
        for helper in self.backends.values():
            await helper.shutdown()
        self.backends.clear()


def _create(settings: CreateSettings, config: Config) -> LoadBalancingExporter:
    return LoadBalancingExporter(settings, config)


FACTORY = Factory(
    type="loadbalancing",
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.ALPHA,
    description="routes by trace id (or service, resource, metric) to backend collectors over a consistent-hash ring",
)
