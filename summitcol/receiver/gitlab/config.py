"""Config of the `gitlab` receiver: contrib gitlabreceiver's keys (one `webhook` block)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from summitcol.receiver.webhook.config import WebhookConfig


@dataclass(frozen=True, kw_only=True, slots=True)
class GitLabWebhookConfig(WebhookConfig):
    FIXED_HEADERS: ClassVar[tuple[str, ...]] = ("X-Gitlab-Webhook-UUID", "X-Gitlab-Event", "X-Gitlab-Event-UUID", "Idempotency-Key")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    webhook: GitLabWebhookConfig = field(default_factory=GitLabWebhookConfig)

    def validate(self) -> None:
        self.webhook.validate()
