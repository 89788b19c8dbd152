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
from summitcol.pdata.values import STRING, lookup_attribute

TENANT_KEY = "tenant.id"
INTERNAL_KEY = "tenant.internal"
DEFAULT_TENANT = "default"
_KEYS = pa.array([TENANT_KEY, INTERNAL_KEY])
RESOURCE = "ResourceAttributes"


def _stamp_column(column: pa.Array | pa.ChunkedArray, tenant: str, internal: bool) -> pa.Array | pa.ChunkedArray:
    entries = MapEntries.of(column)
    sent = pc.is_in(entries.keys, _KEYS)
    if not tenant and not pc.any(sent).as_py():
        return column  # no tenants and nothing to remove: the common case costs one scan of the keys
    entries = entries.filter(pc.invert(sent))
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


def stamp_tenant(data: SignalData, tenant: str = "", internal: bool = False) -> SignalData:
    """`data` with `tenant.id` = tenant (and `tenant.internal` = true for an internal tenant) on
    every resource; with no tenant, any client-sent `tenant.id`/`tenant.internal` removed."""
    tables = {}
    changed = False
    for name, batch in data.tables.items():
        if batch.num_rows and RESOURCE in batch.schema.names:
            position = batch.schema.get_field_index(RESOURCE)
            column = batch.column(position)
            stamped = _stamp_column(column, tenant, internal)
            if stamped is not column:
                batch = batch.set_column(position, batch.schema.field(position), stamped)
                changed = True
        tables[name] = batch
    return data.with_tables(tables) if changed else data


def tenant_ids(resource_attributes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The tenant of each row (`default` where none was stamped)."""
    types, text = lookup_attribute(resource_attributes, TENANT_KEY)
    is_string = pc.fill_null(pc.equal(types, pa.scalar(STRING, pa.uint8())), False)
    return pc.if_else(is_string, text, DEFAULT_TENANT)
