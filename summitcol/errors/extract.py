"""Where OpenTelemetry puts exceptions, found column-wise: span events named `exception` and log
records with `exception.type` / `exception.message` / `exception.stacktrace` attributes
(semantic conventions), with what grouping and storage need from their span or resource.

Nothing here loops over records: attribute values are picked out of the flattened maps with
masks and scattered to their events with one `take`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.pdata.attrmap import MapEntries, parent_rows
from summitcol.pdata.values import combined

TYPE, MESSAGE, STACKTRACE = "exception.type", "exception.message", "exception.stacktrace"
FINGERPRINT, GROUP_ID = "exception.fingerprint", "exception.group_id"
EXCEPTION_EVENT = "exception"
RESOURCE_KEYS = ("service.version", "deployment.environment.name", "deployment.environment", "telemetry.sdk.language", "tenant.id")


@dataclass(frozen=True, slots=True)
class Occurrences:
    """The exceptions of one batch: `rows[i]` is the span or log record of occurrence i; for
    spans `events[i]` is its index among the batch's flattened events."""

    rows: np.ndarray
    events: np.ndarray | None
    timestamp: pa.Array
    type: pa.Array
    message: pa.Array
    stacktrace: pa.Array

    def __len__(self) -> int:
        return len(self.rows)


def pick(entries: MapEntries, key: str, positions: np.ndarray) -> pa.Array:
    """The value of `key` in the maps at `positions` (null where a map lacks it; the last wins)."""
    return pick_many(entries, (key,), positions)[key]


def pick_many(entries: MapEntries, keys: tuple[str, ...], positions: np.ndarray) -> dict[str, pa.Array]:
    """`pick` for several keys with one pass over the entries' keys."""
    codes = pc.fill_null(pc.index_in(entries.keys, value_set=pa.array(keys, pa.string())), -1).to_numpy(zero_copy_only=False)
    out = {}
    for i, key in enumerate(keys):
        hit = np.nonzero(codes == i)[0]
        if not len(hit):
            out[key] = pa.nulls(len(positions), pa.string())
            continue
        where = np.full(entries.num_rows, -1, dtype=np.int64)
        where[entries.rows[hit]] = hit
        chosen = where[positions]
        out[key] = entries.values.take(pa.array(chosen, mask=chosen < 0))
    return out


def from_spans(batch: pa.RecordBatch) -> Occurrences:
    names = combined(batch.column("Events.Name"))
    flat_names = names.flatten()
    is_exception = pc.fill_null(pc.equal(flat_names, EXCEPTION_EVENT), False).to_numpy(zero_copy_only=False)
    events = np.nonzero(is_exception)[0]
    if not len(events):
        return _empty()
    spans = parent_rows(names)[events]
    # only the exception events' maps are taken apart (a batch has many more other events)
    attributes = MapEntries.of(combined(batch.column("Events.Attributes")).flatten().take(pa.array(events)))
    times = combined(batch.column("Events.Timestamp")).flatten().take(pa.array(events))
    found = pick_many(attributes, (TYPE, MESSAGE, STACKTRACE), np.arange(len(events)))
    return Occurrences(spans, events, times, found[TYPE], found[MESSAGE], found[STACKTRACE])


def from_logs(batch: pa.RecordBatch) -> Occurrences:
    attributes = MapEntries.of(batch.column("LogAttributes"))
    keys = pc.fill_null(pc.is_in(attributes.keys, pa.array([TYPE, MESSAGE, STACKTRACE])), False)
    rows = np.unique(attributes.rows[keys.to_numpy(zero_copy_only=False)])
    if not len(rows):
        return _empty()
    times = combined(batch.column("Timestamp")).take(pa.array(rows))
    found = pick_many(attributes, (TYPE, MESSAGE, STACKTRACE), rows)
    return Occurrences(rows, None, times, found[TYPE], found[MESSAGE], found[STACKTRACE])


def resource_values(batch: pa.RecordBatch, rows: np.ndarray) -> dict[str, pa.Array]:
    """RESOURCE_KEYS of each occurrence's resource (null where absent)."""
    entries = MapEntries.of(combined(batch.column("ResourceAttributes")).take(pa.array(rows)))
    return pick_many(entries, RESOURCE_KEYS, np.arange(len(rows)))


def _empty() -> Occurrences:
    none = pa.array([], pa.string())
    return Occurrences(np.zeros(0, np.int64), None, pa.array([], pa.timestamp("ns")), none, none, none)


# -- few exceptions in a batch ----------------------------------------------------------------
FEW = 64  # up to this many exception events a batch is handled per occurrence (see FewSpans)


@dataclass(frozen=True, slots=True)
class FewSpans:
    """The exception events of a batch that has only a few (S1's 5%: 25 in 500 spans), read into
    Python once. Column-wise work pays a fixed price per pyarrow call (10–25 µs each, dozens per
    batch) that only many occurrences amortize; for a few, lists are cheaper, and the result is
    the same (tests/errors/test_tracker.py compares both paths)."""

    events: np.ndarray  # each occurrence's index among the batch's flattened events
    rows: np.ndarray  # each occurrence's span
    attributes: list[list[tuple[str, dict]]]  # each exception event's attribute entries, as stored
    timestamp: pa.Array
    resource: pa.Array  # each occurrence's span's ResourceAttributes (typed)
    resource_attributes: list[dict[str, str]]  # the same, key → value text

    @classmethod
    def of(cls, batch: pa.RecordBatch) -> FewSpans | None:
        """None when the batch has none, or more than FEW (then the column-wise path runs)."""
        names = combined(batch.column("Events.Name"))
        hits = pc.indices_nonzero(pc.fill_null(pc.equal(names.flatten(), EXCEPTION_EVENT), False))
        if not len(hits) or len(hits) > FEW:
            return None
        events = hits.to_numpy()
        rows = parent_rows(names)[events]
        attributes = combined(batch.column("Events.Attributes")).flatten().take(hits).to_pylist()
        times = combined(batch.column("Events.Timestamp")).flatten().take(hits)
        resource = combined(batch.column("ResourceAttributes")).take(pa.array(rows))
        resource_attributes = [{k: v["value"] for k, v in entries} for entries in resource.to_pylist()]
        return cls(events, rows, attributes, times, resource, resource_attributes)

    def __len__(self) -> int:
        return len(self.rows)

    def values(self, i: int) -> dict[str, str | None]:
        """Occurrence i's exception.* attributes (None where absent; the last of a key wins)."""
        found: dict[str, str | None] = dict.fromkeys((TYPE, MESSAGE, STACKTRACE))
        for key, value in self.attributes[i]:
            if key in found:
                found[key] = value["value"]
        return found
