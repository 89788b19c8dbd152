"""Processors: columnar transformations between receivers and exporters."""

from __future__ import annotations
