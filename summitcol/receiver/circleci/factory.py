"""Factory of the `circleci` receiver."""

from __future__ import annotations

from typing import Any

from summitcol.component import Factory, Kind, Signal, Stability
from summitcol.receiver.circleci.config import Config
from summitcol.receiver.circleci.receiver import CircleCIReceiver


def _create(settings: Any, config: Config, *, consumers: Any) -> CircleCIReceiver:
    return CircleCIReceiver(settings, config, consumers=consumers)


FACTORY = Factory(
    type="circleci",
    kind=Kind.RECEIVER,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES}),
    stability=Stability.DEVELOPMENT,
    description="CircleCI webhooks: workflow-completed and job-completed as build rows",
)
