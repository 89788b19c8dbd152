"""An LRU cache of rendered pages."""

from __future__ import annotations

# @release-insert


class PageCache:
    def __init__(self, keys: list[str]) -> None:
        self.order = list(keys)

    def evict_oldest(self) -> str:
        return self.order.pop(0)


def evict(keys: list[str], count: int) -> list[str]:
    cache = PageCache(keys)
    return [cache.evict_oldest() for _ in range(count)]
