"""Factory of the `gitlab` receiver."""

from __future__ import annotations

from typing import Any

from summitcol.component import Factory, Kind, Signal, Stability
from summitcol.receiver.gitlab.config import Config
from summitcol.receiver.gitlab.receiver import GitLabReceiver


def _create(settings: Any, config: Config, *, consumers: Any) -> GitLabReceiver:
    return GitLabReceiver(settings, config, consumers=consumers)


FACTORY = Factory(
    type="gitlab",
    kind=Kind.RECEIVER,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES}),
    stability=Stability.DEVELOPMENT,
    description="GitLab webhooks: pipelines and jobs as traces with contrib's ids, plus build, deployment and change rows",
)
