"""The `github` receiver: X-Hub-Signature-256, X-GitHub-Delivery dedupe, `cicd.github` mapping."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from summitcol.cicd.github import EVENTS, map_github
from summitcol.cicd.mapped import Mapped
from summitcol.component import Host
from summitcol.receiver.webhook.mapping import Mapper
from summitcol.receiver.webhook.receiver import Delivery, Kind, WebhookReceiver, form_payload
from summitcol.receiver.webhook.signatures import check_github


class GitHubReceiver(WebhookReceiver):
    provider = "github"
    title = "GitHub"

    async def start(self, host: Host) -> None:
        if self.config.scrapers:
            self.log.warning(
                "%s: scrapers (%s) are accepted for contrib compatibility and ignored; Summit takes GitHub data from webhooks only",
                self.label, ", ".join(sorted(self.config.scrapers)),
            )
        await super().start(host)

    def authenticate(self, delivery: Delivery) -> str | None:
        if not self.webhook.secret:
            return None
        return check_github(self.webhook.secret, delivery.headers.get("X-Hub-Signature-256"), delivery.body)

    def event_name(self, delivery: Delivery) -> str | None:
        return delivery.headers.get("X-GitHub-Event")

    def classify(self, event: str) -> Kind:
        if event == "ping":
            return "ping"
        return "used" if event in EVENTS else "unused"

    def delivery_id(self, delivery: Delivery, payload: dict[str, Any]) -> str:
        return delivery.headers.get("X-GitHub-Delivery", "")

    def parse(self, delivery: Delivery, body: bytes) -> dict[str, Any]:
        if delivery.content_type == "application/x-www-form-urlencoded":
            body = form_payload(body)
        return super().parse(delivery, body)

    def mapper(self) -> Mapper:
        hook = self.config.webhook
        return partial(_map, hook.service_name, hook.include_span_events)


def _map(service_name: str, include_span_events: bool, event: str, payload: dict[str, Any], delivery_id: str,
         observed: datetime, raw: bytes) -> Mapped:
    return map_github(event, payload, delivery_id=delivery_id, observed=observed, service_name=service_name,
                      include_span_events=include_span_events, raw=raw)
