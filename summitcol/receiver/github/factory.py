"""Factory of the `github` receiver."""

from __future__ import annotations

from typing import Any

from summitcol.component import Factory, Kind, Signal, Stability
from summitcol.receiver.github.config import Config
from summitcol.receiver.github.receiver import GitHubReceiver


def _create(settings: Any, config: Config, *, consumers: Any) -> GitHubReceiver:
    return GitHubReceiver(settings, config, consumers=consumers)


FACTORY = Factory(
    type="github",
    kind=Kind.RECEIVER,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES}),
    stability=Stability.DEVELOPMENT,
    description="GitHub webhooks: workflow runs and jobs as contrib-identical traces, plus build, deployment and change rows",
)
