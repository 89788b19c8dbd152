"""Before anything starts: is every TCP port this collector will listen on free?

Without this check a second collector on the same host gets as far as its first listener (the
self-metrics endpoint, :8888), then fails with a bare `[Errno 98]` after its shutdown lines. Worker
0 checks every listener the config names (self-metrics, the receivers, and the extensions'
`endpoint`s: health_check, the chdb HTTP interface) with a plain bind, before it opens the engine
or starts anything, and names the port and the config key that chose it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from summitcol.component import Kind
from summitcol.config.model import CollectorConfig
from summitcol.netaddr import ensure_port_free, split_host_port

METRICS_ADDRESS_KEY = "service::telemetry::metrics::address"
METRICS_READERS_KEY = "service::telemetry::metrics::readers"


def listeners(config: CollectorConfig) -> list[tuple[str, str]]:
    """(config key, host:port) of every TCP port the collector listens on, in start order."""
    found: list[tuple[str, str]] = []
    metrics = config.service.telemetry.metrics
    address = metrics.pull_address()
    if address is not None:
        found.append((METRICS_READERS_KEY if metrics.readers else METRICS_ADDRESS_KEY, address))
    in_use = [(Kind.EXTENSION, cid) for cid in config.extensions]
    for pipeline in config.pipelines:
        in_use += [(Kind.RECEIVER, cid) for cid in pipeline.receivers if (Kind.RECEIVER, cid) not in in_use]
    for kind, cid in in_use:
        spec = config.components[kind].get(cid)
        if spec is not None:
            found += _endpoints(spec.config, f"{kind.section}::{cid}")
    return found


def _endpoints(settings: Any, key: str) -> Iterator[tuple[str, str]]:
    """Every `endpoint` field in a component's config dataclass, however deep (an exporter's
    `endpoint` is where it connects to, so only receivers and extensions are searched)."""
    if not dataclasses.is_dataclass(settings) or isinstance(settings, type):
        return
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if item.name == "endpoint" and isinstance(value, str):
            yield f"{key}::endpoint", value
        else:
            yield from _endpoints(value, f"{key}::{item.name}")


def check_listeners(config: CollectorConfig) -> None:
    """Raise OSError naming the port and its config key when one is taken (or listed twice)."""
    seen: dict[tuple[str, int], str] = {}
    for key, endpoint in listeners(config):
        address = split_host_port(endpoint, key)
        if address[1] and address in seen:
            raise OSError(f"{seen[address]} and {key} both listen on {endpoint}; give one of them another port")
        seen[address] = key
        try:
            ensure_port_free(endpoint)
        except OSError as exc:
            raise OSError(port_taken(endpoint, key, exc)) from None


def port_taken(endpoint: str, key: str, exc: OSError) -> str:
    """The message for a port this collector cannot listen on."""
    reason = exc.strerror or str(exc)
    return f"cannot listen on {endpoint} ({key}): {reason}; is another collector running? If not, set {key} to a free port"
