"""Receivers: where telemetry enters Summit."""

from __future__ import annotations
