"""Config of the `circleci` receiver. Contrib has no CircleCI receiver: the block has the shape of
the github and gitlab receivers' (`webhook: {endpoint, path, health_path, secret, …}`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from summitcol.receiver.webhook.config import WebhookConfig


@dataclass(frozen=True, kw_only=True, slots=True)
class CircleCIWebhookConfig(WebhookConfig):
    FIXED_HEADERS: ClassVar[tuple[str, ...]] = ("circleci-event-type", "circleci-signature")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    webhook: CircleCIWebhookConfig = field(default_factory=CircleCIWebhookConfig)

    def validate(self) -> None:
        self.webhook.validate()
