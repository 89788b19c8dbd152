"""SignalData.errors (the fingerprint processor's occurrence rows) travels with its batch: through
concat (the batch processor, the exporter's group commit), slice (size-capped batches: the rows go
with the first piece, once) and the persistent queue's serialization; it is never counted as items."""

from __future__ import annotations

import pyarrow as pa

from summitcol.pdata import serialize
from summitcol.pdata.signal import Signal, SignalData, concat

ERRORS = pa.schema([("Fingerprint", pa.string()), ("GroupId", pa.string())])


def data(spans: int, fingerprints: list[str]) -> SignalData:
    batch = pa.RecordBatch.from_pydict({"SpanId": [f"{i:016x}" for i in range(spans)]})
    errors = pa.RecordBatch.from_pydict({"Fingerprint": fingerprints, "GroupId": [f[:4] for f in fingerprints]}, schema=ERRORS)
    return SignalData(Signal.TRACES, {"spans": batch}, errors=errors if fingerprints else None)


def test_errors_are_not_items() -> None:
    assert data(3, ["aaaa1", "bbbb2"]).item_count() == 3


def test_concat_keeps_every_error_row() -> None:
    merged = concat([data(2, ["aaaa1"]), data(3, []), data(1, ["bbbb2", "cccc3"])])
    assert merged.item_count() == 6
    assert merged.errors is not None and merged.errors.column("Fingerprint").to_pylist() == ["aaaa1", "bbbb2", "cccc3"]


def test_slices_carry_the_rows_once() -> None:
    whole = data(10, ["aaaa1", "bbbb2"])
    pieces = [whole.slice(offset, 4) for offset in range(0, 10, 4)]
    assert [p.item_count() for p in pieces] == [4, 4, 2]
    assert [p.errors.num_rows if p.errors is not None else 0 for p in pieces] == [2, 0, 0]


def test_serialization_round_trip() -> None:
    whole = data(5, ["aaaa1", "bbbb2"])
    back = serialize.loads(serialize.dumps(whole))
    assert back.tables["spans"].equals(whole.tables["spans"]) and set(back.tables) == {"spans"}
    assert back.errors is not None and back.errors.equals(whole.errors)
    assert serialize.loads(serialize.dumps(data(2, []))).errors is None
