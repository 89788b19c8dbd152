"""The whole collector configuration: components by id and the `service` section.

`load_config` reads, merges, decodes and cross-checks everything and returns every problem it
found at once (each with file and line), like `otelcol validate` should but does not (#4613).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from summitcol.component import ComponentID, Factory, Kind, Signal
from summitcol.config.decode import Decoder
from summitcol.config.registry import Registry
from summitcol.config.source import Problem, load_sources
from summitcol.exceptions import ConfigError

_TYPE_PATTERN = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")
_TOP_LEVEL = ("receivers", "processors", "exporters", "connectors", "extensions", "service")
DEFAULT_METRICS_ADDRESS = "localhost:8888"


@dataclass(frozen=True, kw_only=True, slots=True)
class PipelineConfig:
    receivers: list[str] = field(default_factory=list)
    processors: list[str] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricsTelemetryConfig:
    """`service.telemetry.metrics`: the Prometheus endpoint serving Summit's own metrics."""

    level: Literal["none", "basic", "normal", "detailed"] = "normal"
    address: str = DEFAULT_METRICS_ADDRESS
    readers: list[Any] = field(default_factory=list)

    def pull_address(self) -> str | None:
        """host:port to serve /metrics on, or None when metrics are off."""
        if self.level == "none":
            return None
        for reader in self.readers:
            prom = ((reader or {}).get("pull") or {}).get("exporter", {}).get("prometheus")
            if isinstance(prom, dict):
                return f"{prom.get('host', 'localhost')}:{prom.get('port', 8888)}"
        return self.address

    def validate(self) -> None:
        for reader in self.readers:
            if not isinstance(reader, dict) or "pull" not in reader:
                raise ConfigError(
                    "readers: only 'pull' readers with a prometheus exporter are supported; "
                    "write readers: [{pull: {exporter: {prometheus: {host: localhost, port: 8888}}}}]"
                )


@dataclass(frozen=True, kw_only=True, slots=True)
class LogsTelemetryConfig:
    level: Literal["debug", "info", "warn", "error"] = "info"
    encoding: Literal["console", "json"] = "console"


@dataclass(frozen=True, kw_only=True, slots=True)
class TelemetryConfig:
    metrics: MetricsTelemetryConfig = field(default_factory=MetricsTelemetryConfig)
    logs: LogsTelemetryConfig = field(default_factory=LogsTelemetryConfig)
    resource: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceConfig:
    extensions: list[str] = field(default_factory=list)
    pipelines: dict[str, PipelineConfig] = field(default_factory=dict)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    # Worker processes running the pipelines behind the same ports (a Summit key; otelcol is one
    # process). 0: one per CPU available, or 1 when a component needs a single process.
    workers: int = 0

    def validate(self) -> None:
        if self.workers < 0:
            raise ConfigError("workers must be 0 (one per CPU) or a number of processes, e.g. workers: 2")


@dataclass(slots=True)
class ComponentConfig:
    id: ComponentID
    factory: Factory | None  # None: an unknown type (already reported; kept so references don't cascade)
    config: Any


@dataclass(slots=True)
class Pipeline:
    id: str
    signal: Signal
    receivers: list[ComponentID]
    processors: list[ComponentID]
    exporters: list[ComponentID]


@dataclass(slots=True)
class CollectorConfig:
    components: dict[Kind, dict[ComponentID, ComponentConfig]]
    service: ServiceConfig
    pipelines: list[Pipeline]
    extensions: list[ComponentID]


def load_config(
    files: list[str], registry: Registry, sets: list[str] | None = None
) -> tuple[CollectorConfig | None, list[Problem]]:
    """Load and check the config; the config is None when there is any error. A file that cannot
    be read or parsed is the only problem reported: the checks of the whole would be false alarms."""
    source = load_sources(files, sets)
    if source.unreadable:
        return None, source.problems
    decoder = Decoder(source)
    config = _build(decoder, registry)
    source.warn_empty_env(decoder.env_reported)
    errors = [p for p in source.problems if p.severity == "error"]
    return (None if errors else config), source.problems


def single_process_components(
    components: dict[Kind, dict[ComponentID, ComponentConfig]], pipelines: list[Pipeline]
) -> list[tuple[Kind, ComponentID, str]]:
    """The components in use that cannot be split over several worker processes, and why."""
    found = {}
    for pipeline in pipelines:
        for kind, ids in ((Kind.RECEIVER, pipeline.receivers), (Kind.PROCESSOR, pipeline.processors), (Kind.EXPORTER, pipeline.exporters)):
            for cid in ids:
                spec = components[kind].get(cid)
                if spec is not None and spec.factory is not None and spec.factory.single_process:
                    found[(kind, cid)] = spec.factory.single_process
    return [(kind, cid, why) for (kind, cid), why in found.items()]


def _check_workers(
    decoder: Decoder, components: dict[Kind, dict[ComponentID, ComponentConfig]], service: ServiceConfig, pipelines: list[Pipeline]
) -> None:
    if service.workers <= 1:
        return
    for kind, cid, why in single_process_components(components, pipelines):
        decoder.problem(
            ("service", "workers"),
            f"{kind} '{cid}' cannot run in {service.workers} worker processes: {why}; set service::workers: 1 "
            "(or 0 to let the collector decide)",
        )


def _build(decoder: Decoder, registry: Registry) -> CollectorConfig:
    values = decoder.source.values
    for key in values:
        if key not in _TOP_LEVEL:
            decoder.problem((key,), f"unknown top-level key '{key}' (valid: {', '.join(_TOP_LEVEL)})")
    if values.get("connectors"):
        decoder.problem(("connectors",), "connectors are not supported yet; remove the section")

    components: dict[Kind, dict[ComponentID, ComponentConfig]] = {}
    for kind in Kind:
        components[kind] = _components(decoder, registry, kind, values.get(kind.section))

    service = decoder.decode(ServiceConfig, values.get("service"), ("service",)) or ServiceConfig()
    if "service" not in values:
        decoder.problem((), "missing 'service' section; add service::pipelines")

    extensions = _references(decoder, components, Kind.EXTENSION, service.extensions, ("service", "extensions"))
    pipelines = _pipelines(decoder, components, service)

    used = {(Kind.EXTENSION, e) for e in extensions}
    _check_workers(decoder, components, service, pipelines)
    for pipeline in pipelines:
        used.update((Kind.RECEIVER, r) for r in pipeline.receivers)
        used.update((Kind.PROCESSOR, p) for p in pipeline.processors)
        used.update((Kind.EXPORTER, e) for e in pipeline.exporters)
    for kind, by_id in components.items():
        for cid, spec in by_id.items():
            if spec.factory is not None and (kind, cid) not in used:
                decoder.problem(
                    (kind.section, str(cid)),
                    f"{kind} '{cid}' is defined but not used by any pipeline"
                    + (" or service::extensions" if kind is Kind.EXTENSION else ""),
                    severity="warning",
                )
    return CollectorConfig(components=components, service=service, pipelines=pipelines, extensions=extensions)


def _components(
    decoder: Decoder, registry: Registry, kind: Kind, section: Any
) -> dict[ComponentID, ComponentConfig]:
    out: dict[ComponentID, ComponentConfig] = {}
    if section is None:
        return out
    if not isinstance(section, dict):
        decoder.problem((kind.section,), f"expected a mapping of {kind.section} by id, got {section!r}")
        return out
    for raw_id, raw_config in section.items():
        path = (kind.section, raw_id)
        cid = ComponentID.parse(raw_id)
        if not _TYPE_PATTERN.match(cid.type):
            decoder.problem(path, f"'{cid.type}' is not a valid component type (letters, digits, _; start with a letter)")
            continue
        if "/" in raw_id and not cid.name:
            decoder.problem(path, f"'{raw_id}' has an empty name after '/'; write type/name")
            continue
        factory = registry.get(kind, cid.type)
        if factory is None:
            known = ", ".join(registry.names(kind)) or "none"
            decoder.problem(path, f"unknown {kind} type '{cid.type}' (available: {known}; see `summitcol components`)")
            out[cid] = ComponentConfig(cid, None, None)
            continue
        # Kept even when its settings are wrong (config None), so that pipelines referencing it
        # report no second, misleading "not configured" error; the load fails anyway.
        out[cid] = ComponentConfig(cid, factory, decoder.decode(factory.config_type, raw_config, path))
    return out


def _references(
    decoder: Decoder,
    components: dict[Kind, dict[ComponentID, ComponentConfig]],
    kind: Kind,
    names: list[str],
    path: tuple[str, ...],
) -> list[ComponentID]:
    out: list[ComponentID] = []
    for index, name in enumerate(names):
        cid = ComponentID.parse(str(name))
        if cid not in components[kind]:
            decoder.problem((*path, index), f'references {kind} "{cid}" which is not configured; define it under {kind.section}')
            continue
        if cid in out:
            decoder.problem((*path, index), f'references {kind} "{cid}" multiple times')
            continue
        out.append(cid)
    return out


def _pipelines(
    decoder: Decoder, components: dict[Kind, dict[ComponentID, ComponentConfig]], service: ServiceConfig
) -> list[Pipeline]:
    pipelines: list[Pipeline] = []
    if not service.pipelines:
        decoder.problem(("service", "pipelines"), "service must have at least one pipeline")
    for pipeline_id, spec in service.pipelines.items():
        path = ("service", "pipelines", pipeline_id)
        signal_name = pipeline_id.partition("/")[0]
        try:
            signal = Signal(signal_name)
        except ValueError:
            decoder.problem(path, f"pipeline id '{pipeline_id}' must start with traces, metrics or logs (e.g. traces/2)")
            continue
        refs = {}
        for kind, names in ((Kind.RECEIVER, spec.receivers), (Kind.PROCESSOR, spec.processors), (Kind.EXPORTER, spec.exporters)):
            refs[kind] = _references(decoder, components, kind, names, (*path, kind.section))
            for cid in refs[kind]:
                factory = components[kind][cid].factory
                if factory is not None and signal not in factory.signals:
                    decoder.problem((*path, kind.section), f"{kind} '{cid}' does not support {signal} (it supports: {', '.join(sorted(factory.signals))})")
        if not spec.receivers:
            decoder.problem(path, "must have at least one receiver")
        if not spec.exporters:
            decoder.problem(path, "must have at least one exporter")
        pipelines.append(Pipeline(pipeline_id, signal, refs[Kind.RECEIVER], refs[Kind.PROCESSOR], refs[Kind.EXPORTER]))
    return pipelines
