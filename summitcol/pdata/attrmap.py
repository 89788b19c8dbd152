"""Column-wise editing of attribute maps: every entry of a column at once, never row by row.

`MapEntries` is an attribute-map column taken apart into four parallel columns — the row that
owns each entry, its key, its value type and its value text — so processors can select entries
with `pyarrow.compute` masks, rewrite values, drop entries and append new ones, and then put the
map column back together in one step. `edit_map_column` does the take-apart / put-back for both
shapes a batch holds: `map<…>` (span, log, resource … attributes) and `list<map<…>>` (event and
link attributes, where an entry's "row" is one event).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.pdata.values import ATTRIBUTES, STRING, VALUE_TYPE, combined


@dataclass(frozen=True, slots=True)
class MapEntries:
    """All entries of a map column; `rows[i]` is the row (map) that entry i belongs to."""

    num_rows: int
    rows: np.ndarray  # int64, non-decreasing
    keys: pa.Array  # string
    types: pa.Array  # uint8
    values: pa.Array  # string

    @classmethod
    def of(cls, column: pa.Array | pa.ChunkedArray) -> MapEntries:
        column = combined(column)
        offsets = column.offsets.to_numpy()
        start, end = int(offsets[0]), int(offsets[-1])
        items = column.items.slice(start, end - start)
        rows = np.repeat(np.arange(len(column), dtype=np.int64), np.diff(offsets))
        return cls(
            len(column), rows, column.keys.slice(start, end - start), items.field("type"), items.field("value")
        )

    def __len__(self) -> int:
        return len(self.rows)

    def filter(self, keep: pa.Array | np.ndarray) -> MapEntries:
        """Only the entries where `keep` is true."""
        mask = keep if isinstance(keep, np.ndarray) else pc.fill_null(keep, False).to_numpy(zero_copy_only=False)
        if mask.all():
            return self
        arrow_mask = pa.array(mask)
        return MapEntries(
            self.num_rows,
            self.rows[mask],
            self.keys.filter(arrow_mask),
            self.types.filter(arrow_mask),
            self.values.filter(arrow_mask),
        )

    def with_values(self, where: pa.Array, values: pa.Array, type_: int | None = STRING) -> MapEntries:
        """Entries where `where` is true get `values` (a full-length column); their type becomes `type_`."""
        where = pc.fill_null(where, False)
        new_values = pc.if_else(where, values, self.values)
        new_types = self.types if type_ is None else pc.if_else(where, pa.scalar(type_, pa.uint8()), self.types)
        return replace(self, values=new_values, types=new_types)

    def append(self, rows: np.ndarray, keys: pa.Array, types: pa.Array, values: pa.Array) -> MapEntries:
        """New entries, each placed after the existing entries of its row."""
        if len(rows) == 0:
            return self
        all_rows = np.concatenate([self.rows, rows.astype(np.int64)])
        order = pa.array(np.argsort(all_rows, kind="stable"))
        return MapEntries(
            self.num_rows,
            all_rows[order.to_numpy()],
            pc.take(pa.concat_arrays([self.keys, keys.cast(pa.string())]), order),
            pc.take(pa.concat_arrays([self.types, types.cast(pa.uint8())]), order),
            pc.take(pa.concat_arrays([self.values, values.cast(pa.string())]), order),
        )

    def to_map(self) -> pa.MapArray:
        counts = np.bincount(self.rows, minlength=self.num_rows) if len(self.rows) else np.zeros(self.num_rows, np.int64)
        offsets = np.zeros(self.num_rows + 1, dtype=np.int32)
        np.cumsum(counts, out=offsets[1:])
        items = pa.StructArray.from_arrays([self.types, self.values], fields=list(VALUE_TYPE))
        return pa.MapArray.from_arrays(pa.array(offsets), self.keys, items, type=ATTRIBUTES)


def append_attribute(column: pa.Array | pa.ChunkedArray, key: str, values: pa.Array) -> pa.Array:
    """Each row's attribute map with one more string entry `key` = values[row]."""
    entries = MapEntries.of(column)
    n = entries.num_rows
    return entries.append(
        np.arange(n), pa.array([key] * n, pa.string()), pa.array(np.full(n, STRING, np.uint8)), values
    ).to_map()


def edit_map_column(column: pa.Array | pa.ChunkedArray, edit: Callable[[MapEntries], MapEntries]) -> pa.Array:
    """Apply `edit` to a `map` or `list<map>` attribute column and rebuild it in the same shape."""
    column = combined(column)
    if pa.types.is_map(column.type):
        return edit(MapEntries.of(column)).to_map()
    offsets = column.offsets
    start = offsets[0].as_py()
    maps = column.flatten()
    edited = edit(MapEntries.of(maps)).to_map()
    relative = pc.subtract(offsets, start) if start else offsets
    return pa.ListArray.from_arrays(relative, edited, type=column.type)


def parent_rows(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """For a list column, the batch row each list element belongs to."""
    column = combined(column)
    return np.repeat(np.arange(len(column), dtype=np.int64), np.diff(column.offsets.to_numpy()))


def replace_list_maps(column: pa.Array | pa.ChunkedArray, positions: np.ndarray, maps: pa.Array) -> pa.Array:
    """A `list<map>` column (event attributes) with the maps at `positions` of its flattened maps
    replaced by `maps`, in three calls whatever the batch size: for editing a few events without
    taking every entry of the column apart."""
    column = combined(column)
    flat = column.flatten()
    index = np.arange(len(flat), dtype=np.int64)
    index[positions] = len(flat) + np.arange(len(positions), dtype=np.int64)
    spliced = pa.concat_arrays([flat, maps.cast(flat.type)]).take(pa.array(index))
    offsets = column.offsets
    start = offsets[0].as_py()
    relative = pc.subtract(offsets, start) if start else offsets
    return pa.ListArray.from_arrays(relative, spliced, type=column.type)
