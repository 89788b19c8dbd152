"""The write-ahead log: durability of what was written, torn-write detection, compaction, replay."""

from __future__ import annotations

import os
from pathlib import Path

from summitcol.extensions.file_storage.wal import WriteAheadLog
from summitcol.pdata import serialize
from tests.processors.test_batch import spans


def segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix == ".wal")


def test_unacknowledged_records_are_replayed_in_order(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path), fsync=True)
    seqs = [wal.append(f"record-{i}".encode()) for i in range(5)]
    wal.ack(seqs[1])
    wal.ack(seqs[3])
    wal.close()
    reopened = WriteAheadLog(str(tmp_path))
    assert [reopened.read(s) for s in reopened.pending()] == [b"record-0", b"record-2", b"record-4"]
    assert reopened.next_seq == seqs[-1] + 1
    reopened.close()


def test_a_torn_tail_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    for i in range(3):
        wal.append(f"whole-{i}".encode())
    wal.close()
    path = tmp_path / segments(tmp_path)[-1]
    size = path.stat().st_size
    with open(path, "ab") as fh:  # a crash in the middle of writing a fourth record
        fh.write(b"\x40\x00\x00\x00\x01\x02\x03\x04" + b"partial")
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.torn_records == 1
    assert [reopened.read(s) for s in reopened.pending()] == [b"whole-0", b"whole-1", b"whole-2"]
    assert path.stat().st_size == size
    assert reopened.append(b"after") == 4  # writing goes on after the cut
    reopened.close()


def test_corrupt_record_is_detected_by_its_checksum(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    wal.append(b"good")
    wal.append(b"flipped")
    wal.close()
    path = tmp_path / segments(tmp_path)[-1]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    reopened = WriteAheadLog(str(tmp_path))
    assert [reopened.read(s) for s in reopened.pending()] == [b"good"]
    reopened.close()


def test_delivered_segments_are_deleted(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path), segment_bytes=100)
    seqs = [wal.append(b"x" * 90) for _ in range(6)]  # one record (106 bytes) per segment
    assert len(segments(tmp_path)) == 6
    for seq in seqs[:4]:
        wal.ack(seq)
    assert len(segments(tmp_path)) == 2
    assert os.path.getsize(tmp_path / "acks.log") == 0  # acknowledgements of deleted segments are dropped too
    wal.close()
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.pending() == seqs[4:]
    reopened.close()


def test_signal_data_round_trips_through_serialization() -> None:
    data = spans("wal", 7)
    back = serialize.loads(serialize.dumps(data))
    assert back.signal == data.signal
    assert back.tables["spans"].equals(data.tables["spans"])
