"""The `circleci` receiver: circleci-signature v1, payload `id` dedupe, `cicd.circleci` mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from summitcol.cicd import circleci
from summitcol.cicd.mapped import Mapped
from summitcol.receiver.webhook.mapping import Mapper
from summitcol.receiver.webhook.receiver import Delivery, Kind, WebhookReceiver
from summitcol.receiver.webhook.signatures import check_circleci

EVENTS = frozenset({"workflow-completed", "job-completed"})


class CircleCIReceiver(WebhookReceiver):
    provider = "circleci"
    title = "CircleCI"

    def authenticate(self, delivery: Delivery) -> str | None:
        if not self.webhook.secret:
            return None
        return check_circleci(self.webhook.secret, delivery.headers.get("circleci-signature"), delivery.body)

    def event_name(self, delivery: Delivery) -> str | None:
        return delivery.headers.get("circleci-event-type")

    def classify(self, event: str) -> Kind:
        return "used" if event in EVENTS else "unused"

    def delivery_id(self, delivery: Delivery, payload: dict[str, Any]) -> str:
        """CircleCI may deliver an event twice; its payload `id` is the same both times."""
        value = payload.get("id")
        return value if isinstance(value, str) else ""

    def mapper(self) -> Mapper:
        return _map


def _map(event: str, payload: dict[str, Any], delivery_id: str, observed: datetime, raw: bytes) -> Mapped:
    return circleci.map_circleci(event, payload, observed=observed)
