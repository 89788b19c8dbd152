"""Extensions: capabilities outside pipelines (health checks, storage, …)."""

from __future__ import annotations
