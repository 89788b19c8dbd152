"""Stock levels per SKU."""

from __future__ import annotations

# @release-insert

STOCK = {"SKU-1000": 5, "SKU-1001": 0, "SKU-1002": 12}


def reserve(sku: str, qty: int) -> int:
    available = STOCK[sku]
    if available < qty:
        return 0
    STOCK[sku] = available - qty
    return qty


def release(sku: str, qty: int) -> int:
    current = STOCK[sku]
    STOCK[sku] = current + qty
    return qty


def reserve_for_order(order_id: str, sku: str, qty: int) -> int:
    lines = [(sku, qty)]
    return sum(reserve(s, q) for s, q in lines)


def release_for_order(order_id: str, sku: str, qty: int) -> int:
    released = 0
    for line_sku, line_qty in [(sku, qty)]:
        released += release(line_sku, line_qty)
    return released
