"""Exporters: where telemetry leaves Summit."""

from __future__ import annotations
