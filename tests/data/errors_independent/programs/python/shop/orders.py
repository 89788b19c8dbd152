"""Order lines and order submission."""

from __future__ import annotations

from typing import Any

# @release-insert

REQUIRED = ("order_id", "customer", "lines")


def parse_quantity(raw: Any) -> int:
    return int(raw)


def add_line(order_id: str, sku: str, quantity: Any) -> dict[str, Any]:
    qty = parse_quantity(quantity)
    return {"order_id": order_id, "sku": sku, "qty": qty}


def validate(payload: dict[str, Any]) -> None:
    for field in REQUIRED:
        if field not in payload:
            raise ValueError(f"missing required field {field!r}")


def submit(payload: dict[str, Any]) -> str:
    validate(payload)
    return str(payload["order_id"])
