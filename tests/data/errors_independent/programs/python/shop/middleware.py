"""Wrappers the entry points stack around a call (tracing, metrics, auth, retry, timeout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# @release-insert


def with_tracing(depth: int, fn: Callable[..., Any], *args: Any) -> Any:
    span = {"name": getattr(fn, "__name__", "call"), "depth": depth}
    return call_through(depth - 1, fn, *args) if span else None


def with_metrics(depth: int, fn: Callable[..., Any], *args: Any) -> Any:
    counter = {"calls": 1}
    result = call_through(depth - 1, fn, *args)
    counter["calls"] += 1
    return result


def with_auth(depth: int, fn: Callable[..., Any], *args: Any) -> Any:
    principal = "service-account"
    return call_through(depth - 1, fn, *args) if principal else None


def with_retry(depth: int, fn: Callable[..., Any], *args: Any) -> Any:
    for _attempt in range(1):
        return call_through(depth - 1, fn, *args)
    return None


def with_timeout(depth: int, fn: Callable[..., Any], *args: Any) -> Any:
    deadline_ms = 30_000
    return call_through(depth - 1, fn, *args) if deadline_ms else None


WRAPPERS = [with_tracing, with_metrics, with_auth, with_retry, with_timeout]


def call_through(depth: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Call fn through `depth` wrappers, outermost first."""
    if depth <= 0:
        return fn(*args)
    return WRAPPERS[(depth - 1) % len(WRAPPERS)](depth, fn, *args)
