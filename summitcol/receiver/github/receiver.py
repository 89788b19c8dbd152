"""The `github` receiver: X-Hub-Signature-256, X-GitHub-Delivery dedupe, `cicd.github` mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from summitcol.cicd.github import EVENTS, map_github, root_span_id
from summitcol.cicd.mapped import Mapped
from summitcol.component import Host
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

    def map(self, event: str, payload: dict[str, Any], delivery_id: str, observed: datetime, raw: bytes) -> Mapped:
        hook = self.config.webhook
        mapped = map_github(
            event, payload, delivery_id=delivery_id, observed=observed,
            service_name=hook.service_name, include_span_events=hook.include_span_events, raw=raw,
        )
        if mapped.spans is not None and event == "workflow_run":
            _link_previous_root(mapped, payload)
        return mapped


def _link_previous_root(mapped: Mapped, payload: dict[str, Any]) -> None:
    """Contrib links a re-run's root span to the previous attempt's trace with an empty span id,
    which Summit's OTLP decoder rejects (a link's span_id must be 8 bytes), dropping the span.
    The link gets the previous attempt's root span id instead: the same trace, and the span in it
    the link means (contrib's deterministic sha256("{run_id}{attempt-1}s"))."""
    run = payload.get("workflow_run") or {}
    run_id, attempt = int(run.get("id") or 0), int(run.get("run_attempt") or 0)
    for resource_spans in mapped.spans.resource_spans:  # type: ignore[union-attr]
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                for link in span.links:
                    if not link.span_id and attempt > 1:
                        link.span_id = bytes.fromhex(root_span_id(run_id, attempt - 1))
