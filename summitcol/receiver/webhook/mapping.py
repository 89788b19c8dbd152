"""Webhook payloads mapped in a child process.

Mapping a delivery (a workflow run, a pipeline with its jobs) into spans and build rows is a few
milliseconds of pure Python. Done in the collector's own process it holds the GIL that the OTLP
receivers' event loop and decoders need, so a burst of deliveries stretched OTLP latency
(perf/README.md, "CI webhooks"). One child process, shared by every webhook receiver of this
process, does the mapping; the collector gets back serialized spans and Arrow build rows, which
its C decoder and the exporter take as they are.

The child is started lazily (spawn: no copy of chDB's threads) and kept for the life of the
process; if it dies, the delivery in hand is answered 503 and the next one starts a new child.
"""

from __future__ import annotations

import atexit
import multiprocessing
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from summitcol.cicd.mapped import Mapped
from summitcol.cicd.rows import build_tables

Mapper = Callable[[str, dict[str, Any], str, datetime, bytes], Mapped]


class MappingError(Exception):
    """The payload cannot be mapped (the provider's mapper raised ValueError/TypeError/KeyError)."""


@dataclass(frozen=True, slots=True)
class MappedDelivery:
    spans: bytes  # an ExportTraceServiceRequest, empty when the delivery has no spans
    side: dict[str, pa.RecordBatch]  # build-table rows by table
    events: int


def map_delivery(mapper: Mapper, event: str, payload: dict[str, Any], delivery_id: str, observed: datetime,
                 raw: bytes) -> MappedDelivery:
    """In the child: the provider's mapping, serialized for the trip back."""
    try:
        mapped = mapper(event, payload, delivery_id, observed, raw)
    except (ValueError, TypeError, KeyError) as exc:
        raise MappingError(f"the {event} payload cannot be read: {exc}") from None
    spans = mapped.spans.SerializeToString() if mapped.spans is not None and mapped.spans.resource_spans else b""
    return MappedDelivery(spans, build_tables(mapped.events) if mapped.events else {}, len(mapped.events))


def _child_start() -> None:
    """Ctrl-C in a terminal reaches the whole process group: the collector stops its child itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_child_start)
        return _pool


def reset(broken: ProcessPoolExecutor) -> None:
    """Forget a pool whose child died, so that the next delivery starts a new one."""
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


@atexit.register
def _shutdown() -> None:
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
