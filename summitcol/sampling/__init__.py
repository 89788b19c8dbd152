"""Consistent probability sampling: W3C tracestate thresholds and contrib's hash_seed hashing."""

from __future__ import annotations
