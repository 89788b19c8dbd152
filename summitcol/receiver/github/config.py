"""Config of the `github` receiver: contrib githubreceiver's keys, where contrib puts them.

The webhook block is contrib's `WebHook` (`service_name` and `include_span_events` in it). The
scraper keys (`scrapers`, `collection_interval`, `initial_delay`, `timeout`, `metrics`) are
accepted so that a contrib config runs unchanged (its version requires a scraper even for the
webhook), and ignored with a warning at start: Summit does not scrape the GitHub API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from summitcol.receiver.webhook.config import WebhookConfig


@dataclass(frozen=True, kw_only=True, slots=True)
class GitHubWebhookConfig(WebhookConfig):
    FIXED_HEADERS: ClassVar[tuple[str, ...]] = ("X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-Hub-Signature-256")

    # service.name of the spans and Deployment.service; default: the repository's `service_name`
    # custom property, else the repository name (lowercased, `_` → `-`), as contrib
    service_name: str = ""
    # attach the raw payload to the run and job spans as a `github.*.event` span event
    include_span_events: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    webhook: GitHubWebhookConfig = field(default_factory=GitHubWebhookConfig)
    scrapers: dict[str, Any] = field(default_factory=dict)
    collection_interval: timedelta = timedelta(seconds=30)
    initial_delay: timedelta = timedelta(seconds=1)
    timeout: timedelta = timedelta(0)
    metrics: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        self.webhook.validate()
