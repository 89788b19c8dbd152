"""The tenant of every row: resource attribute `tenant.id`, set by the receiver from the
request's credential and never from what the client sent.

`stamp_tenant` overwrites (or, without tenants, removes) a client-sent `tenant.id` and
`tenant.internal`, column-wise; `tenant_ids` reads the column the ClickHouse tables store as
`TenantId` (rows without one belong to the `default` tenant).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.pdata.attrmap import MapEntries
from summitcol.pdata.signal import SignalData
from summitcol.pdata.values import STRING, combined, lookup_attribute

TENANT_KEY = "tenant.id"
INTERNAL_KEY = "tenant.internal"
DEFAULT_TENANT = "default"
# The column every table Summit writes has, first in its ordering key (one tenant's queries read
# only its own granules); rows from before tenants existed belong to `default`.
TENANT_COLUMN = "TenantId"
TENANT_DDL = f"{TENANT_COLUMN} LowCardinality(String) DEFAULT '{DEFAULT_TENANT}' CODEC(ZSTD(1))"
_KEYS = pa.array([TENANT_KEY, INTERNAL_KEY])
RESOURCE = "ResourceAttributes"


def _stamp_column(column: pa.Array | pa.ChunkedArray, tenant: str, internal: bool) -> pa.Array | pa.ChunkedArray:
    if not tenant:  # no tenants: the common case costs one scan of the keys, nothing is rebuilt
        keys = combined(column).keys
        if not pc.any(pc.is_in(keys, _KEYS)).as_py():
            return column
    entries = MapEntries.of(column)
    entries = entries.filter(pc.invert(pc.is_in(entries.keys, _KEYS)))
    if tenant:
        keys, values = [TENANT_KEY], [tenant]
        if internal:
            keys.append(INTERNAL_KEY)
            values.append("true")
        n, k = entries.num_rows, len(keys)
        entries = entries.append(
            np.repeat(np.arange(n, dtype=np.int64), k), pa.array(keys * n, pa.string()),
            pa.array(np.full(n * k, STRING, np.uint8)), pa.array(values * n, pa.string()),
        )
    return entries.to_map()


def _stamp_batch(batch: pa.RecordBatch, tenant: str, internal: bool) -> pa.RecordBatch:
    if not batch.num_rows:
        return batch
    if RESOURCE in batch.schema.names:
        position = batch.schema.get_field_index(RESOURCE)
        column = batch.column(position)
        stamped = _stamp_column(column, tenant, internal)
        return batch if stamped is column else batch.set_column(position, batch.schema.field(position), stamped)
    return with_tenant_column(batch, tenant or DEFAULT_TENANT)  # side rows of their own (a CI receiver's build rows)


def with_tenant_column(batch: pa.RecordBatch, tenant: str) -> pa.RecordBatch:
    """`batch` with a TenantId column holding `tenant` on every row (replacing any it had)."""
    column = pa.array([tenant], pa.string()).take(pa.array(np.zeros(batch.num_rows, np.int32)))
    if TENANT_COLUMN in batch.schema.names:
        return batch.set_column(batch.schema.get_field_index(TENANT_COLUMN), TENANT_COLUMN, column)
    return batch.append_column(TENANT_COLUMN, column)


def stamp_tenant(data: SignalData, tenant: str = "", internal: bool = False) -> SignalData:
    """`data` with `tenant.id` = tenant (and `tenant.internal` = true for an internal tenant) on
    every resource, and side rows without resources in `tenant`; with no tenant, any client-sent
    `tenant.id`/`tenant.internal` removed (the rows belong to `default`)."""
    tables = {name: _stamp_batch(batch, tenant, internal) for name, batch in data.tables.items()}
    side = {name: _stamp_batch(batch, tenant, internal) for name, batch in data.side.items()}
    if all(tables[n] is b for n, b in data.tables.items()) and all(side[n] is b for n, b in data.side.items()):
        return data
    return SignalData(data.signal, tables, data.client, side)


def row_tenants(batch: pa.RecordBatch | pa.Table) -> pa.Array:
    """The tenant of each row of one of Summit's tables: from its resource attributes, else its
    TenantId column, else `default`."""
    if RESOURCE in batch.schema.names:
        return tenant_ids(batch.column(RESOURCE))
    if TENANT_COLUMN in batch.schema.names:
        return pc.fill_null(batch.column(TENANT_COLUMN), DEFAULT_TENANT)
    return pa.array([DEFAULT_TENANT], pa.string()).take(pa.array(np.zeros(batch.num_rows, np.int32)))


def tenant_ids(resource_attributes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The tenant of each row (`default` where none was stamped)."""
    types, text = lookup_attribute(resource_attributes, TENANT_KEY)
    is_string = pc.fill_null(pc.equal(types, pa.scalar(STRING, pa.uint8())), False)
    return pc.if_else(is_string, text, DEFAULT_TENANT)
