"""`max_attributes_per_record` for resources and scopes, checked on the decoded Arrow tables.

The decoders check a record's own attributes (and its events' and links'); a resource or scope
with 100,000 attributes went through, repeated on every row of its records. Here every record
whose resource or scope has more attributes than the limit is rejected (a partial success saying
why), with column arithmetic on the map offsets: no per-record Python.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from summitcol.pdata.decoded import MAX_REASONS, DecodeLimits, Rejections
from summitcol.pdata.signal import SignalData

CONTAINER_COLUMNS = (("ResourceAttributes", "a resource"), ("ScopeAttributes", "an instrumentation scope"))


def _sizes(column: pa.Array) -> np.ndarray:
    """Entries per row of a map (or list) column."""
    offsets = column.offsets.to_numpy(zero_copy_only=False)
    return np.diff(offsets)


def reject_oversized_containers(data: SignalData, rejections: Rejections, limits: DecodeLimits) -> SignalData:
    """`data` without the records whose resource or scope is over `limits.max_attributes`;
    they are counted in `rejections`, with one reason per table and container kind (the
    client's error_message then reads "<reason> (and N more)", as for other rejections)."""
    tables: dict[str, pa.RecordBatch] = {}
    changed = False
    for name, batch in data.tables.items():
        over = np.zeros(batch.num_rows, dtype=bool)
        for column_name, what in CONTAINER_COLUMNS:
            if column_name in batch.schema.names:
                sizes = _sizes(batch.column(column_name))
                too_many = sizes > limits.max_attributes
                if too_many.any():
                    _reason(rejections, f"{what} has {int(sizes.max())} attributes, more than {limits.max_attributes} (receiver setting max_attributes_per_record)")
                    over |= too_many
        rejected = int(over.sum())
        if rejected:
            rejections.count += rejected
            batch = batch.filter(pa.array(~over))
            changed = True
        if batch.num_rows:
            tables[name] = batch
    return data.with_tables(tables) if changed else data


def _reason(rejections: Rejections, reason: str) -> None:
    if len(rejections.reasons) < MAX_REASONS:
        rejections.reasons.append(reason)
