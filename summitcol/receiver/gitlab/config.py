"""Config of the `gitlab` receiver: contrib gitlabreceiver's keys (one `webhook` block)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from summitcol.receiver.webhook.config import WebhookConfig


@dataclass(frozen=True, kw_only=True, slots=True)
class GitLabWebhookConfig(WebhookConfig):
    FIXED_HEADERS: ClassVar[tuple[str, ...]] = ("X-Gitlab-Webhook-UUID", "X-Gitlab-Event", "X-Gitlab-Event-UUID", "Idempotency-Key")

    # add the pipeline user's and commit author's names and e-mails to the spans (contrib's
    # IncludeUserAttributes; off: they are personal data)
    include_user_attributes: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    webhook: GitLabWebhookConfig = field(default_factory=GitLabWebhookConfig)

    def validate(self) -> None:
        self.webhook.validate()
