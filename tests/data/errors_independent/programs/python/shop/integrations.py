"""Calls into the vendored acmelib library (installed in site-packages)."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from acmelib import codec, http

# @release-insert

_CONVERT = {"decimal": decimal.Decimal, "set": set, "datetime": datetime.date.fromisoformat}


def publish_order(order_id: str, field: str, kind: str, raw: Any) -> str:
    body = {"order_id": order_id, field: _CONVERT[kind](raw)}
    return codec.encode(body)


def _fetch(url: str) -> bytes:
    raise ConnectionResetError(f"connection reset by peer while reading {url}")


def sync_catalog(url: str, attempts: int) -> bytes:
    return http.with_retries(_fetch, url, attempts=attempts)
