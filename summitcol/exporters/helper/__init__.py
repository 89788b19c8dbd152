"""The exporter helper: timeout, retries, sending queue (memory or persistent) and dead letters."""

from __future__ import annotations
