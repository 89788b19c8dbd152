"""The registry type: factories by kind and type name.

Which factories a distribution has is listed in `summitcol.components` (otelcol's
`components.go`), never here: the config package must not depend on the components it configures.
"""

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

