"""Factory of the `sentry` receiver."""

from __future__ import annotations

from typing import Any

from summitcol.component import Factory, Kind, Signal, Stability
from summitcol.receiver.sentry.config import Config
from summitcol.receiver.sentry.receiver import SentryReceiver


def _create(settings: Any, config: Config, *, consumers: Any) -> SentryReceiver:
    return SentryReceiver(settings, config, consumers=consumers)


FACTORY = Factory(
    type="sentry",
    kind=Kind.RECEIVER,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.LOGS, Signal.TRACES, Signal.METRICS}),
    stability=Stability.DEVELOPMENT,
    description="Sentry SDKs' ingestion API (envelope, store): error events as logs, transactions as spans, sessions as metrics",
)
