"""The `gitlab` receiver: X-Gitlab-Token, Idempotency-Key dedupe, `cicd.gitlab` mapping."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from summitcol.cicd import gitlab
from summitcol.cicd.mapped import Mapped
from summitcol.receiver.webhook.mapping import Mapper
from summitcol.receiver.webhook.receiver import Delivery, Kind, WebhookReceiver
from summitcol.receiver.webhook.signatures import check_gitlab

# X-Gitlab-Event values Summit maps (`Build Hook`: older GitLab's name for the Job Hook).
EVENTS = frozenset({"Pipeline Hook", "Job Hook", "Build Hook", "Deployment Hook", "Push Hook", "Tag Push Hook"})


class GitLabReceiver(WebhookReceiver):
    provider = "gitlab"
    title = "GitLab"

    def authenticate(self, delivery: Delivery) -> str | None:
        if not self.webhook.secret:
            return None
        return check_gitlab(self.webhook.secret, delivery.headers.get("X-Gitlab-Token"))

    def event_name(self, delivery: Delivery) -> str | None:
        return delivery.headers.get("X-Gitlab-Event")

    def classify(self, event: str) -> Kind:
        # GitLab has no ping; its "Test" button sends a sample of the chosen hook
        return "used" if event in EVENTS else "unused"

    def delivery_id(self, delivery: Delivery, payload: dict[str, Any]) -> str:
        """Idempotency-Key repeats across GitLab's retries of one event; X-Gitlab-Event-UUID for
        versions without it."""
        return delivery.headers.get("Idempotency-Key") or delivery.headers.get("X-Gitlab-Event-UUID", "")

    def mapper(self) -> Mapper:
        return partial(_map, self.config.webhook.include_user_attributes)


def _map(include_user_attributes: bool, event: str, payload: dict[str, Any], delivery_id: str, observed: datetime,
         raw: bytes) -> Mapped:
    return gitlab.map_gitlab(event, payload, delivery_id=delivery_id, observed=observed,
                             include_user_attributes=include_user_attributes)
