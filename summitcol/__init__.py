"""Summit Collector: an OpenTelemetry-Collector-compatible telemetry gateway with an Arrow data path."""

from __future__ import annotations

import os

# Arrow's default allocator (mimalloc) keeps pages freed by another thread in the heap of the
# thread that allocated them: decode threads allocate, the exporter frees, and one large batch
# left 400 MB resident for good (issue #12). jemalloc hands them back within its decay time. Set
# before pyarrow is imported; an ARROW_DEFAULT_MEMORY_POOL from the environment wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")

__version__ = "0.1.0"
