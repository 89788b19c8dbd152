"""Builds the pipeline graph from the config: each component instance is created once.

As in the collector: a receiver used by several pipelines is one instance fanning out to each;
an exporter shared by several pipelines is one instance; processors are created per pipeline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from summitcol.component import (
    Component,
    ComponentID,
    Consumer,
    CreateSettings,
    Kind,
    Processor,
    Receiver,
    Signal,
    Worker,
)
from summitcol.config.model import CollectorConfig
from summitcol.exceptions import PartialRejectionError
from summitcol.exporters.helper.sender import ExporterHelper
from summitcol.pdata.signal import SignalData
from summitcol.pdata.tenant import DEFAULT_TENANT, stamp_tenant
from summitcol.telemetry import ITEM_NAMES, Telemetry


class FanOut:
    """Hands the same (immutable) data to several consumers; any refusal is the caller's refusal."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self.consumers = consumers

    async def consume(self, data: SignalData) -> None:
        if len(self.consumers) == 1:
            await self.consumers[0].consume(data)
            return
        results = await asyncio.gather(*(c.consume(data) for c in self.consumers), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        failures = [e for e in errors if not isinstance(e, PartialRejectionError)]
        if failures:
            raise failures[0]
        if errors:  # the same records went to every branch: the largest rejection stands for all
            raise max(errors, key=lambda e: e.rejected)  # type: ignore[attr-defined]


class TenantEntry:
    """Where a receiver's data enters its pipelines: every row gets the tenant its request's
    credential belongs to (`auth.tenant` in the client info, set by the `tenants` authenticator),
    whatever `tenant.id` the client sent; without one, a client-sent `tenant.id` is removed, so
    that no receiver can be used to write into another tenant's data."""

    def __init__(self, consumer: Consumer, telemetry: Telemetry) -> None:
        self.consumer = consumer
        self.telemetry = telemetry

    async def consume(self, data: SignalData) -> None:
        tenant = data.client.get("auth.tenant", "")
        await self.consumer.consume(stamp_tenant(data, tenant, data.client.get("auth.internal") == "true"))
        # per-tenant intake (`summitcol_tenant_accepted_<items>_total{tenant}`); a partial
        # rejection raises above and is counted by the receiver only
        self.telemetry.count_plain(f"summitcol_tenant_accepted_{ITEM_NAMES[data.signal]}", data.item_count(),
                                   tenant=tenant or DEFAULT_TENANT)


@dataclass
class Graph:
    extensions: dict[ComponentID, Component] = field(default_factory=dict)
    exporters: dict[ComponentID, ExporterHelper] = field(default_factory=dict)
    processors: list[tuple[str, ComponentID, Processor]] = field(default_factory=list)
    receivers: dict[ComponentID, Receiver] = field(default_factory=dict)


def build_graph(config: CollectorConfig, telemetry: Telemetry, worker: Worker = Worker()) -> Graph:  # noqa: B008 - frozen
    graph = Graph()
    comps = config.components

    for cid in config.extensions:
        spec = comps[Kind.EXTENSION][cid]
        graph.extensions[cid] = spec.factory.create(CreateSettings(id=cid, telemetry=telemetry, worker=worker), spec.config)

    exporter_signals: dict[ComponentID, set[Signal]] = {}
    receiver_entries: dict[ComponentID, dict[Signal, list[Consumer]]] = {}
    for pipeline in config.pipelines:
        for cid in pipeline.exporters:
            exporter_signals.setdefault(cid, set()).add(pipeline.signal)
    for cid, signals in exporter_signals.items():
        spec = comps[Kind.EXPORTER][cid]
        exporter = spec.factory.create(CreateSettings(id=cid, telemetry=telemetry, signals=frozenset(signals), worker=worker), spec.config)
        graph.exporters[cid] = ExporterHelper(exporter, cid, telemetry, spec.config, worker.count)
    observed = graph.exporters

    limiters: dict[ComponentID, list[Processor]] = {}
    for pipeline in config.pipelines:
        consumer: Consumer = FanOut([observed[cid] for cid in pipeline.exporters])
        pipeline_limiters: list[Processor] = []
        for cid in reversed(pipeline.processors):
            spec = comps[Kind.PROCESSOR][cid]
            processor = spec.factory.create(
                CreateSettings(id=cid, telemetry=telemetry, signals=frozenset({pipeline.signal}), worker=worker),
                spec.config,
                next_consumer=consumer,
            )
            graph.processors.append((pipeline.id, cid, processor))
            if hasattr(processor, "admit"):
                pipeline_limiters.append(processor)
            consumer = processor
        for cid in pipeline.receivers:
            receiver_entries.setdefault(cid, {}).setdefault(pipeline.signal, []).append(consumer)
            limiters.setdefault(cid, []).extend(pipeline_limiters)

    for cid, entries in receiver_entries.items():
        spec = comps[Kind.RECEIVER][cid]
        consumers = {signal: TenantEntry(FanOut(list(consumers)), telemetry) for signal, consumers in entries.items()}
        receiver = spec.factory.create(
            CreateSettings(id=cid, telemetry=telemetry, signals=frozenset(consumers), worker=worker), spec.config, consumers=consumers
        )
        if hasattr(receiver, "admission"):
            # memory limiters see requests before they are decoded (each limiter once)
            receiver.admission = list({id(p): p for p in limiters.get(cid, [])}.values())
        graph.receivers[cid] = receiver
    return graph
