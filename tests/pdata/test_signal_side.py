"""SignalData.side (rows for Summit's own tables: the fingerprint processor's occurrences, the CI
receivers' build rows) travels with its batch: through concat (the batch processor, the exporter's
group commit), slice (size-capped batches: the rows go with the first piece, once) and the
persistent queue's serialization; it is never counted as items."""

from __future__ import annotations

import orjson
import pyarrow as pa

from summitcol.pdata import serialize
from summitcol.pdata.signal import Signal, SignalData, concat

ERRORS = pa.schema([("Fingerprint", pa.string()), ("GroupId", pa.string())])
BUILDS = pa.schema([("RunId", pa.string())])


def data(spans: int, fingerprints: list[str], runs: list[str] = ()) -> SignalData:  # type: ignore[assignment]
    batch = pa.RecordBatch.from_pydict({"SpanId": [f"{i:016x}" for i in range(spans)]})
    side = {}
    if fingerprints:
        side["events_error_v1"] = pa.RecordBatch.from_pydict(
            {"Fingerprint": fingerprints, "GroupId": [f[:4] for f in fingerprints]}, schema=ERRORS)
    if runs:
        side["metrics_build_v1"] = pa.RecordBatch.from_pydict({"RunId": list(runs)}, schema=BUILDS)
    return SignalData(Signal.TRACES, {"spans": batch}, side=side)


def test_side_rows_are_not_items() -> None:
    whole = data(3, ["aaaa1", "bbbb2"], ["r1"])
    assert whole.item_count() == 3 and whole.side_rows() == 3
    assert not SignalData(Signal.TRACES, {}, side=whole.side).empty()


def test_concat_keeps_every_side_row_per_table() -> None:
    merged = concat([data(2, ["aaaa1"]), data(3, [], ["r1"]), data(1, ["bbbb2", "cccc3"], ["r2"])])
    assert merged.item_count() == 6
    assert merged.side["events_error_v1"].column("Fingerprint").to_pylist() == ["aaaa1", "bbbb2", "cccc3"]
    assert merged.side["metrics_build_v1"].column("RunId").to_pylist() == ["r1", "r2"]


def test_with_side_appends() -> None:
    whole = data(1, ["aaaa1"]).with_side("events_error_v1", pa.RecordBatch.from_pydict(
        {"Fingerprint": ["dddd4"], "GroupId": ["dddd"]}, schema=ERRORS))
    assert whole.side["events_error_v1"].column("Fingerprint").to_pylist() == ["aaaa1", "dddd4"]


def test_slices_carry_the_rows_once() -> None:
    whole = data(10, ["aaaa1", "bbbb2"], ["r1"])
    pieces = [whole.slice(offset, 4) for offset in range(0, 10, 4)]
    assert [p.item_count() for p in pieces] == [4, 4, 2]
    assert [p.side_rows() for p in pieces] == [3, 0, 0]


def test_serialization_round_trip() -> None:
    whole = data(5, ["aaaa1", "bbbb2"], ["r1"])
    back = serialize.loads(serialize.dumps(whole))
    assert back.tables["spans"].equals(whole.tables["spans"]) and set(back.tables) == {"spans"}
    assert set(back.side) == {"events_error_v1", "metrics_build_v1"}
    assert all(back.side[name].equals(whole.side[name]) for name in whole.side)
    assert serialize.loads(serialize.dumps(data(2, []))).side == {}


def test_a_queue_record_written_before_side_tables_had_names_still_loads() -> None:
    """WAL records from the previous release stored the error rows as "@errors"."""
    rows = pa.RecordBatch.from_pydict({"Fingerprint": ["aaaa1"], "GroupId": ["aaaa"]}, schema=ERRORS)
    blob = serialize.dumps(SignalData(Signal.TRACES, {}, side={"x": rows}))
    end = blob.index(b"\n")
    header = orjson.loads(blob[:end])
    header["tables"] = [["@errors", size] for _, size in header["tables"]]
    back = serialize.loads(orjson.dumps(header) + b"\n" + blob[end + 1:])
    assert back.side["events_error_v1"].equals(rows)
