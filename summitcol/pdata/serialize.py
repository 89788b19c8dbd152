"""SignalData ⇄ bytes, for persistent queues: Arrow IPC streams, one per table, lossless and fast.

Buffers are LZ4-compressed (Arrow IPC body compression). Layout: a JSON header line `{"signal": "traces", "tables": [["spans", <bytes>], …]}` then the
IPC streams back to back, in header order.
"""

from __future__ import annotations

import orjson
import pyarrow as pa

from summitcol.pdata.signal import Signal, SignalData

SIDE = "@"  # SignalData.side rows are stored beside the tables as "@<table>" (no table is named with an @)
_LEGACY_SIDE = {"@errors": "events_error_v1"}  # written before side rows had table names
_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")  # ~3x smaller records for a few ms


def dumps(data: SignalData) -> bytes:
    parts: list[bytes] = []
    index: list[tuple[str, int]] = []
    tables = {**data.tables, **{SIDE + name: batch for name, batch in data.side.items()}}
    for name, batch in tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema, options=_OPTIONS) as writer:
            writer.write_batch(batch)
        payload = sink.getvalue().to_pybytes()
        parts.append(payload)
        index.append((name, len(payload)))
    header = orjson.dumps({"signal": data.signal.value, "tables": index}) + b"\n"
    return header + b"".join(parts)


def loads(blob: bytes) -> SignalData:
    end = blob.index(b"\n")
    header = orjson.loads(blob[:end])
    view = memoryview(blob)
    position = end + 1
    tables: dict[str, pa.RecordBatch] = {}
    for name, size in header["tables"]:
        reader = pa.ipc.open_stream(pa.py_buffer(view[position : position + size]))
        table = reader.read_all()
        tables[name] = table.combine_chunks().to_batches()[0] if table.num_rows else pa.RecordBatch.from_pylist([], schema=table.schema)
        position += size
    side = {_LEGACY_SIDE.get(name, name[len(SIDE):]): tables.pop(name) for name in [n for n in tables if n.startswith(SIDE)]}
    return SignalData(Signal(header["signal"]), tables, side=side)
