"""Sales reports."""

from __future__ import annotations

from typing import Any

# @release-insert


def average(values: list[float]) -> float:
    return sum(values) / len(values)


def average_basket(day: str, baskets: list[float]) -> float:
    return round(average(baskets), 2)


def conversion_ratio(day: str, visits: int, orders: int) -> float:
    ratio = orders / visits
    return round(ratio, 4)


def top_products(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    ranked = sorted(rows, key=lambda row: row["price"] * row["sold"], reverse=True)
    return ranked[:limit]
