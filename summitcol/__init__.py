"""Summit Collector: an OpenTelemetry-Collector-compatible telemetry gateway with an Arrow data path."""

from __future__ import annotations

__version__ = "0.1.0"
