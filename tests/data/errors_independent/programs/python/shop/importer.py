"""Imports order batches from partner JSON files."""

from __future__ import annotations

import json
from typing import Any

# @release-insert

FALLBACKS: dict[str, list[Any]] = {}


def parse(text: str) -> list[Any]:
    return json.loads(text)


def load_batch(batch_id: str, text: str) -> int:
    rows = parse(text)
    return len(rows)


def load_with_fallback(batch_id: str, text: str) -> int:
    try:
        rows = parse(text)
    except json.JSONDecodeError:
        rows = FALLBACKS[batch_id]
    return len(rows)
