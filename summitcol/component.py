"""The component model: kinds, signals, factories and the lifecycle every component follows.

It mirrors the OpenTelemetry Collector's: each component type has one factory that knows its
config dataclass (with the collector's defaults) and how to create an instance; the service
creates each configured instance once, starts exporters before receivers and stops in reverse.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

# Signal names the data, so pdata owns it; Worker is worker.py's, with what a component may do
# as one of several processes. Both are part of the component API, hence the re-exports.
# Imports point one way: the component model builds on pdata, the counters (telemetry.py) and
# worker.py, never the other way round.
from summitcol.pdata.signal import Signal as Signal
from summitcol.pdata.signal import SignalData
from summitcol.telemetry import Telemetry
from summitcol.worker import Worker as Worker


class Kind(enum.StrEnum):
    RECEIVER = "receiver"
    PROCESSOR = "processor"
    EXPORTER = "exporter"
    EXTENSION = "extension"

    @property
    def section(self) -> str:
        """The top-level config key holding components of this kind (`receivers`, …)."""
        return f"{self.value}s"


class Stability(enum.StrEnum):
    DEVELOPMENT = "development"
    ALPHA = "alpha"
    BETA = "beta"
    STABLE = "stable"


class Consumer(Protocol):
    """Anything that takes a batch of telemetry: a processor, an exporter, a fan-out.

    `consume` returns once the data is safely handed on; it raises a ConsumerError subclass
    when it refuses the data, and that refusal travels back to the receiver unchanged.
    """

    async def consume(self, data: SignalData) -> None: ...


@dataclass(frozen=True, slots=True)
class ComponentID:
    """`type[/name]`, as in the collector's config."""

    type: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.type}/{self.name}" if self.name else self.type

    @classmethod
    def parse(cls, text: str) -> ComponentID:
        type_, _, name = text.partition("/")
        return cls(type_.strip(), name.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSettings:
    """What a factory gets besides the config: the component's id, the service's telemetry and
    which worker process it runs in."""

    id: ComponentID
    telemetry: Telemetry
    signals: frozenset[Signal] = frozenset()
    worker: Worker = Worker()


T = TypeVar("T")


class Host(Protocol):
    """What a started component may look up: extensions, and whether pipelines are ready."""

    def extension(self, id_: ComponentID) -> Component: ...

    def pipelines_ready(self) -> bool: ...


def required_extension(host: Host, name: str, kind: type[T], owner: str, role: str, description: str) -> T:
    """The extension `name` that `owner` names as its `role` (authenticator, tenants …);
    OSError — the collector does not start — when it is missing or is not `description`, as
    otelcol fails with "failed to resolve authenticator …: authenticator not found"."""
    try:
        extension = host.extension(ComponentID.parse(name))
    except KeyError:
        raise OSError(f"{owner}: failed to resolve {role} '{name}': {role} not found; "
                      "add it under extensions and list it in service::extensions") from None
    if not isinstance(extension, kind):
        raise OSError(f"{owner}: extension '{name}' is not {description}")
    return extension


class Component:
    """Base lifecycle. Components override what they need."""

    async def start(self, host: Host) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class Receiver(Component):
    """Feeds data into pipelines; it is given one consumer per signal it serves."""


class Processor(Component):
    """Takes data, transforms it column by column, hands it to `next_consumer`."""

    next_consumer: Consumer

    async def consume(self, data: SignalData) -> None:
        raise NotImplementedError


class Exporter(Component):
    async def consume(self, data: SignalData) -> None:
        raise NotImplementedError


class Extension(Component):
    pass


CreateFn = Callable[..., Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Factory:
    """Registered under `type`; creates components of one kind from a config dataclass instance.

    `create(settings, config, **kind_specific)`: receivers also get `consumers: dict[Signal,
    Consumer]`, processors `next_consumer: Consumer`.
    """

    type: str
    kind: Kind
    config_type: type
    create: CreateFn
    signals: frozenset[Signal] = frozenset()
    stability: Stability = Stability.BETA
    aliases: tuple[str, ...] = ()
    description: str = ""
    # Why this component cannot be split over several worker processes ("" when it can): the
    # collector then runs one worker, and an explicit `service.workers` above 1 is an error.
    single_process: str = ""

