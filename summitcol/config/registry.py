"""Every component factory Summit ships, listed explicitly like otelcol's components.go."""

from __future__ import annotations

from collections.abc import Iterable

from summitcol.component import Factory, Kind


class Registry:
    """Factories by kind and type name (aliases included); a duplicate name is an error."""

    def __init__(self, factories: Iterable[Factory]) -> None:
        self._by_name: dict[tuple[Kind, str], Factory] = {}
        self.factories: list[Factory] = []
        for factory in factories:
            self.factories.append(factory)
            for name in (factory.type, *factory.aliases):
                key = (factory.kind, name)
                if key in self._by_name:
                    raise ValueError(f"duplicate component factory '{name}' ({factory.kind})")
                self._by_name[key] = factory

    def get(self, kind: Kind, type_: str) -> Factory | None:
        return self._by_name.get((kind, type_))

    def names(self, kind: Kind) -> list[str]:
        return sorted(name for (k, name) in self._by_name if k == kind)


def default_registry() -> Registry:
    from summitcol.exporters import debug, file, loadbalancing, otlp_grpc, otlp_http, parquet
    from summitcol.exporters.clickhouse import exporter as clickhouse
    from summitcol.extensions import health_check
    from summitcol.extensions.chdb import extension as chdb_extension
    from summitcol.extensions.file_storage import extension as file_storage
    from summitcol.processors import (
        attributes,
        batch,
        filter,
        memory_limiter,
        probabilistic_sampler,
        redaction,
        resource,
        tail_sampling,
    )
    from summitcol.receiver.otlp import factory as otlp_receiver

    return Registry(
        [
            otlp_receiver.FACTORY,
            batch.FACTORY,
            memory_limiter.FACTORY,
            probabilistic_sampler.FACTORY,
            tail_sampling.FACTORY,
            redaction.FACTORY,
            attributes.FACTORY,
            resource.FACTORY,
            filter.FACTORY,
            debug.FACTORY,
            file.FACTORY,
            otlp_grpc.FACTORY,
            otlp_http.FACTORY,
            clickhouse.FACTORY,
            parquet.FACTORY,
            loadbalancing.FACTORY,
            health_check.FACTORY,
            chdb_extension.FACTORY,
            file_storage.FACTORY,
        ]
    )
