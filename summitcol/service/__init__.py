"""The running collector: pipeline graph, lifecycle, self-telemetry."""

from __future__ import annotations
