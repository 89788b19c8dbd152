"""What replicating container columns will cost, computed before they are built.

Resource and scope values are stored on every record (`column.take(index)`), so a request's
decoded size is not bounded by its wire size: a 200 kB resource attribute shared by 2,000 spans
becomes 400 MB of Arrow. The decoders ask `DecodeLimits.reserve` for these bytes first, from the
columns' offsets (no copy), so that the memory limiter can refuse before the memory is taken.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.pdata.decoded import DecodeLimits

_OFFSET = 4  # bytes of an int32 offset


def _lengths(array: pa.Array) -> np.ndarray:
    """Byte length of each value of a string array (0 for nulls)."""
    return pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def row_nbytes(array: pa.Array) -> np.ndarray:
    """The bytes each row of `array` takes (values and offsets), for string, map and fixed-width arrays."""
    if pa.types.is_string(array.type) or pa.types.is_binary(array.type):
        return _lengths(array) + _OFFSET
    if pa.types.is_map(array.type):
        entry = _lengths(array.keys) + 2 * _OFFSET + 1  # key offset, value offset, value type byte
        items = array.items
        if pa.types.is_struct(items.type):
            for i in range(items.type.num_fields):
                if pa.types.is_string(items.type.field(i).type):
                    entry += _lengths(items.field(i))
        cumulative = np.concatenate(([0], np.cumsum(entry)))
        offsets = array.offsets.to_numpy(zero_copy_only=False)
        return cumulative[offsets[1:]] - cumulative[offsets[:-1]] + _OFFSET
    width = max(1, array.type.bit_width // 8) if pa.types.is_primitive(array.type) else 8
    return np.full(len(array), width, dtype=np.int64)


def replicated_nbytes(columns: Iterable[pa.Array], index: pa.Array) -> int:
    """Bytes `column.take(index)` allocates, summed over `columns` (one row per container each)."""
    columns = list(columns)
    if not columns or len(index) == 0:
        return 0
    containers = len(columns[0])
    counts = np.bincount(index.to_numpy(zero_copy_only=False), minlength=containers)[:containers]
    return int(sum(int(np.dot(row_nbytes(column), counts)) for column in columns))


def replicate(limits: DecodeLimits, *groups: tuple[dict[str, pa.Array], pa.Array]) -> dict[str, pa.Array]:
    """Each group's columns taken by its index (one row per record), once `limits.reserve` (the
    memory limiter's admission) has granted the bytes that will take."""
    if limits.reserve is not None:
        limits.reserve(sum(replicated_nbytes(columns.values(), index) for columns, index in groups))
    return {name: column.take(index) for columns, index in groups for name, column in columns.items()}
