"""Rows grouped by day, for the two things the day of a row decides in contrib's tables: its
partition (`PARTITION BY toDate(…)`) and whether the table's TTL has already expired it.

ClickHouse refuses an INSERT whose block touches more than `max_partitions_per_insert_block`
(100) partitions ("Too many partitions for single INSERT block"), so one valid request with
spans on 150 days would fail every insert it is merged into. An insert is therefore cut into
pieces of at most `DAYS_PER_INSERT` UTC days. The partition key is the day in the *server's*
time zone, and a UTC day overlaps at most two local dates: 50 UTC days stay within 100
partitions whatever the zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NS_PER_DAY = 86_400 * 1_000_000_000
DAYS_PER_INSERT = 50

# The column each of Summit's tables is partitioned (and expired) by, as projected for ClickHouse.
TIME_COLUMN = {"spans": "Timestamp", "logs": "Timestamp"}
METRIC_TIME_COLUMN = "TimeUnix"


def time_column(table_kind: str) -> str:
    return TIME_COLUMN.get(table_kind, METRIC_TIME_COLUMN)


def nanos(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """timestamp[ns] as int64 nanoseconds (zero-copy for one chunk)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.view(pa.int64()).to_numpy(zero_copy_only=False)


def by_day(table: pa.Table, column: str, days_per_piece: int = DAYS_PER_INSERT) -> Iterator[pa.Table]:
    """`table` itself when its rows span fewer than `days_per_piece` days (the usual case: one
    min/max over the column); else its rows sorted by day and cut into pieces of at most
    `days_per_piece` distinct days (one `take`, then zero-copy slices)."""
    if table.num_rows == 0:
        return
    days = nanos(table.column(column)) // NS_PER_DAY
    if int(days.max()) - int(days.min()) < days_per_piece:
        yield table
        return
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    distinct = np.unique(sorted_days)
    cuts = [0, *np.searchsorted(sorted_days, distinct[days_per_piece::days_per_piece]).tolist(), len(sorted_days)]
    ordered = table.take(pa.array(order))
    for start, end in zip(cuts, cuts[1:], strict=False):
        yield ordered.slice(start, end - start)


def expired(table: pa.Table, column: str, ttl_s: int, now_ns: int, tenants: Mapping[str, int] | None = None) -> np.ndarray | None:
    """Which rows are already past a TTL of `ttl_s` seconds (None when there is no TTL or no such
    row): ClickHouse deletes a row once `toDateTime(time) + TTL <= now()`. `tenants`: a tenant's
    own TTL (0 keeps its rows), for the rows of that TenantId; computed per distinct tenant."""
    if table.num_rows == 0 or (ttl_s <= 0 and not tenants):
        return None
    seconds = nanos(table.column(column)) // 1_000_000_000
    if tenants and "TenantId" in table.schema.names:
        encoded = pc.dictionary_encode(table.column("TenantId").combine_chunks())
        per_tenant = np.array([tenants.get(name, ttl_s) for name in encoded.dictionary.to_pylist()], dtype=np.int64)
        row_ttl = per_tenant[encoded.indices.to_numpy(zero_copy_only=False)]
        mask = (row_ttl > 0) & (seconds + row_ttl <= now_ns // 1_000_000_000)
    elif ttl_s > 0:
        mask = seconds + ttl_s <= now_ns // 1_000_000_000
    else:
        return None
    return mask if mask.any() else None
