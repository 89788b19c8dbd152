"""Collector-style YAML configuration: loading, ${env:} expansion, validation with file:line."""

from __future__ import annotations
