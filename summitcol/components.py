"""The distribution: every component factory Summit ships, listed explicitly like otelcol's
`components.go`.

This is the one module that imports the components. The config machinery (`summitcol.config`)
knows only the `Registry` type and is handed a registry by whoever loads a config (the CLI, the
service's workers, tests); nothing registers itself on import. A new component is added here.
"""

from __future__ import annotations

from summitcol.config.registry import Registry
from summitcol.exporters import debug, file, loadbalancing, otlp_grpc, otlp_http, parquet
from summitcol.exporters.clickhouse import exporter as clickhouse
from summitcol.extensions import audit, basicauth, bearertokenauth, health_check, tenants
from summitcol.extensions.chdb import extension as chdb_extension
from summitcol.extensions.file_storage import extension as file_storage
from summitcol.processors import (
    attributes,
    batch,
    filter,
    fingerprint,
    memory_limiter,
    probabilistic_sampler,
    redaction,
    resource,
    tail_sampling,
)
from summitcol.receiver.circleci import factory as circleci_receiver
from summitcol.receiver.github import factory as github_receiver
from summitcol.receiver.gitlab import factory as gitlab_receiver
from summitcol.receiver.otlp import factory as otlp_receiver
from summitcol.receiver.sentry import factory as sentry_receiver


def default_registry() -> Registry:
    """The factories of this distribution (a new Registry each call: it checks for duplicates)."""
    return Registry(
        [
            otlp_receiver.FACTORY,
            github_receiver.FACTORY,
            gitlab_receiver.FACTORY,
            circleci_receiver.FACTORY,
            sentry_receiver.FACTORY,
            batch.FACTORY,
            memory_limiter.FACTORY,
            probabilistic_sampler.FACTORY,
            tail_sampling.FACTORY,
            redaction.FACTORY,
            attributes.FACTORY,
            resource.FACTORY,
            filter.FACTORY,
            fingerprint.FACTORY,
            debug.FACTORY,
            file.FACTORY,
            otlp_grpc.FACTORY,
            otlp_http.FACTORY,
            clickhouse.FACTORY,
            parquet.FACTORY,
            loadbalancing.FACTORY,
            health_check.FACTORY,
            bearertokenauth.FACTORY,
            basicauth.FACTORY,
            tenants.FACTORY,
            audit.FACTORY,
            chdb_extension.FACTORY,
            file_storage.FACTORY,
        ]
    )
