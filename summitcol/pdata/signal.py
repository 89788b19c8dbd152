"""SignalData: what flows through a pipeline — one signal's Arrow record batches.

Traces and logs have one table (`spans`, `logs`); metrics have one per metric type present.
Batches are immutable, so a fan-out hands the same object to every branch.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc


class Signal(enum.StrEnum):
    TRACES = "traces"
    METRICS = "metrics"
    LOGS = "logs"


SPANS, LOGS = "spans", "logs"
INDEX_COLUMNS = ("ResourceIndex", "ScopeIndex", "MetricIndex")


@dataclass(frozen=True, slots=True)
class SignalData:
    signal: Signal
    tables: dict[str, pa.RecordBatch]
    # Who sent it (contrib's client.Info): `client.address`, and `metadata.<header>` when the
    # receiver has `include_metadata`. Kept by processors; a batch of several requests has none.
    client: dict[str, str] = field(default_factory=dict, compare=False)
    # Rows for Summit's own tables that ride with the batch, keyed by table name: the
    # `fingerprint` processor's exception occurrences (`events_error_v1`), the CI receivers' build
    # rows (`metrics_build_v1`, `tests_v1`, ...). Not items of the signal (not counted, not sent on
    # the OTLP wire); the clickhouse exporter stores them.
    side: dict[str, pa.RecordBatch] = field(default_factory=dict, compare=False)

    def with_tables(self, tables: dict[str, pa.RecordBatch]) -> SignalData:
        """The same request's data with other tables (keeps `client` and `side`)."""
        return SignalData(self.signal, tables, self.client, self.side)

    def with_side(self, table: str, rows: pa.RecordBatch) -> SignalData:
        """The same data with `rows` added to the side rows for `table`."""
        existing = self.side.get(table)
        merged = rows if existing is None or not existing.num_rows else pa.concat_batches([existing, rows])
        return SignalData(self.signal, self.tables, self.client, {**self.side, table: merged})

    def side_rows(self) -> int:
        return sum(batch.num_rows for batch in self.side.values())

    def item_count(self) -> int:
        """Spans, log records or metric data points."""
        return sum(batch.num_rows for batch in self.tables.values())

    def empty(self) -> bool:
        """Nothing to pass on: no items and no side rows (a sampler that drops every span of a
        batch still passes its error rows on, so error counts do not depend on trace sampling)."""
        return not self.item_count() and not self.side_rows()

    def nbytes(self) -> int:
        return sum(batch.nbytes for batch in (*self.tables.values(), *self.side.values()))

    def slice(self, offset: int, length: int) -> SignalData:
        """Rows [offset, offset+length) counted across tables in order (for size-capped batches).
        The side rows go with the first piece, so each is delivered once."""
        side = self.side if offset == 0 else {}
        out: dict[str, pa.RecordBatch] = {}
        for name, batch in self.tables.items():
            start = max(0, offset)
            end = min(batch.num_rows, offset + length)
            if end > start:
                out[name] = batch.slice(start, end - start)
            offset -= batch.num_rows
        return SignalData(self.signal, out, self.client, side)


def _max_index(data: SignalData, column: str) -> int:
    top = -1
    for batch in data.tables.values():
        if column in batch.schema.names and batch.num_rows:
            top = max(top, pc.max(batch.column(column)).as_py())
    return top


def concat(items: Sequence[SignalData]) -> SignalData:
    """Concatenate batches of one signal, renumbering container indexes so none collide.

    Mixed signals are refused (ValueError): a merge of spans and logs would be counted, routed
    and replayed as the first item's signal (issue #12); callers batch per signal."""
    signal = items[0].signal
    mixed = {data.signal for data in items} - {signal}
    if mixed:
        raise ValueError(f"concat: cannot merge {signal} with {', '.join(sorted(mixed))}; batch per signal")
    if len(items) == 1:
        return items[0]
    # contrib's batch processor keeps client metadata only when every request carried the same
    client = items[0].client if all(item.client == items[0].client for item in items) else {}
    parts: dict[str, list[pa.RecordBatch]] = {}
    offsets = dict.fromkeys(INDEX_COLUMNS, 0)
    for data in items:
        for name, batch in data.tables.items():
            for column in INDEX_COLUMNS:
                if offsets[column] and column in batch.schema.names:
                    position = batch.schema.get_field_index(column)
                    shifted = pc.add(batch.column(column), pa.scalar(offsets[column], pa.uint32()))
                    batch = batch.set_column(position, batch.schema.field(column), shifted)
            parts.setdefault(name, []).append(batch)
        for column in INDEX_COLUMNS:
            offsets[column] += _max_index(data, column) + 1
    side_parts: dict[str, list[pa.RecordBatch]] = {}
    for data in items:
        for name, batch in data.side.items():
            if batch.num_rows:
                side_parts.setdefault(name, []).append(batch)
    side = {name: batches[0] if len(batches) == 1 else pa.concat_batches(batches) for name, batches in side_parts.items()}
    tables = {name: pa.concat_batches(batches) for name, batches in parts.items()}
    return SignalData(signal, tables, client, side)
