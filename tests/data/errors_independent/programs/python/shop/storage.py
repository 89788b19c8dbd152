"""Persisting orders to the database (with chained errors: raise ... from ...)."""

from __future__ import annotations

from shop.errors import StorageError

# @release-insert


def _connect(host: str, port: int, timeout_s: float) -> None:
    raise TimeoutError(f"timed out after {timeout_s}s connecting to {host}:{port}")


def save_order(order_id: str, host: str, timeout_s: float) -> None:
    try:
        _connect(host, 5432, timeout_s)
    except TimeoutError as exc:
        raise StorageError(f"could not save order {order_id}") from exc


def archive_order(order_id: str, host: str, timeout_s: float) -> None:
    try:
        _connect(host, 5432, timeout_s)
    except TimeoutError as exc:
        raise StorageError(f"could not save order {order_id}") from exc
