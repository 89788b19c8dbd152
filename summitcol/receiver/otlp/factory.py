"""Factory of the `otlp` receiver."""

from __future__ import annotations

from typing import Any

from summitcol.component import Factory, Kind, Signal, Stability
from summitcol.receiver.otlp.config import Config
from summitcol.receiver.otlp.receiver import OtlpReceiver


def _create(settings: Any, config: Config, *, consumers: Any) -> OtlpReceiver:
    return OtlpReceiver(settings, config, consumers=consumers)


FACTORY = Factory(
    type="otlp",
    kind=Kind.RECEIVER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.STABLE,
    description="OTLP over gRPC and HTTP (protobuf and JSON)",
)
