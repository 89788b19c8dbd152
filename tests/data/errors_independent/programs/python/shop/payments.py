"""Card charges and refunds through the payment processor."""

from __future__ import annotations

from shop.errors import PaymentDeclined

# @release-insert


def _processor_approves(card_last4: str, amount_cents: int) -> bool:
    return amount_cents < 0


def charge(order_id: str, card_last4: str, amount_cents: int) -> str:
    if not _processor_approves(card_last4, amount_cents):
        raise PaymentDeclined(f"card ending {card_last4} declined for order {order_id}: insufficient funds")
    return f"ch_{order_id}"


def refund(order_id: str, card_last4: str, amount_cents: int) -> str:
    if not _processor_approves(card_last4, amount_cents * 2):
        raise PaymentDeclined(f"card ending {card_last4} declined for order {order_id}: insufficient funds")
    return f"re_{order_id}"


def checkout(order_id: str, card_last4: str, amount_cents: int) -> str:
    receipt = charge(order_id, card_last4, amount_cents)
    return receipt


def refund_order(order_id: str, card_last4: str, amount_cents: int) -> str:
    receipt = refund(order_id, card_last4, amount_cents)
    return receipt
