"""The write-ahead log: durability of what was written, torn-write detection, compaction, replay."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from summitcol.component import ComponentID, CreateSettings, Worker
from summitcol.exceptions import ConfigError
from summitcol.extensions.file_storage.extension import CompactionConfig, Config, FileStorage
from summitcol.extensions.file_storage.wal import WriteAheadLog
from summitcol.pdata import serialize
from summitcol.telemetry import Telemetry
from tests.exporters.helper.test_queue_batch import Host
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


# Recovery edge cases and the extension's layout (precise checks the mutation run asked for).


def test_an_empty_log_starts_at_seq_1_in_segment_1(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path / "new"))
    assert (wal.fsync, wal.fsync_acks, wal.segment_bytes) == (False, False, 64 * 1024 * 1024)  # the defaults
    assert wal.pending() == [] and wal.next_seq == 1 and wal.torn_records == 0
    assert segments(tmp_path / "new") == ["segment-00000001.wal"]
    assert wal.append(b"a") == 1 and wal.append(b"") == 2
    assert wal.read(2) == b"" and wal.read(1) == b"a"
    wal.close()
    reopened = WriteAheadLog(str(tmp_path / "new"))
    assert reopened.pending() == [1, 2] and [reopened.read(s) for s in (1, 2)] == [b"a", b""]
    assert reopened.torn_records == 0
    reopened.close()


def test_a_tail_shorter_than_a_header_is_cut(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    wal.append(b"whole")
    wal.close()
    path = tmp_path / segments(tmp_path)[-1]
    size = path.stat().st_size
    assert size == 16 + 5  # header (length u32, crc32 u32, seq u64) and payload
    with open(path, "ab") as fh:
        fh.write(b"\x05" * 15)  # one byte short of a header
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.torn_records == 1 and path.stat().st_size == size
    assert [reopened.read(s) for s in reopened.pending()] == [b"whole"]
    reopened.close()


def test_a_corrupt_record_cuts_everything_after_it(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    for payload in (b"first", b"second", b"third"):
        wal.append(payload)
    wal.close()
    path = tmp_path / segments(tmp_path)[-1]
    data = bytearray(path.read_bytes())
    data[21 + 16] ^= 0xFF  # the first payload byte of "second"
    path.write_bytes(bytes(data))
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.pending() == [1] and reopened.torn_records == 1
    assert path.stat().st_size == 21
    assert reopened.append(b"next") == 2  # the seqs of the cut records are handed out again
    reopened.close()


def test_segments_roll_over_at_segment_bytes_and_replay_across_them(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path), segment_bytes=2 * (16 + 4))
    seqs = [wal.append(f"r{i:03d}".encode()) for i in range(5)]  # two 20-byte records per segment
    assert segments(tmp_path) == ["segment-00000001.wal", "segment-00000002.wal", "segment-00000003.wal"]
    assert [os.path.getsize(tmp_path / s) for s in segments(tmp_path)] == [40, 40, 20]
    wal.ack(seqs[2])
    wal.close()
    reopened = WriteAheadLog(str(tmp_path), segment_bytes=40)
    assert reopened.pending() == [1, 2, 4, 5]
    assert [reopened.read(s) for s in reopened.pending()] == [b"r000", b"r001", b"r003", b"r004"]
    assert reopened.append(b"r005") == 6 and segments(tmp_path)[-1] == "segment-00000003.wal"
    assert reopened.append(b"r006") == 7 and segments(tmp_path)[-1] == "segment-00000004.wal"
    reopened.close()


def test_acknowledgements_are_written_once_and_unknown_ones_ignored(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    first, second = wal.append(b"a"), wal.append(b"b")
    wal.ack(first)
    wal.ack(first)
    wal.ack(99)
    assert os.path.getsize(tmp_path / "acks.log") == 12  # one seq u64 | crc32 u32
    assert wal.pending() == [second]
    wal.close()


def test_a_torn_or_corrupt_acknowledgement_is_cut_and_its_record_replayed(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    seqs = [wal.append(b"x") for _ in range(4)]
    for seq in seqs[:3]:
        wal.ack(seq)
    wal.close()
    acks = tmp_path / "acks.log"
    data = bytearray(acks.read_bytes())
    data[12 + 8] ^= 0xFF  # the crc of the second acknowledgement
    acks.write_bytes(bytes(data[:-5]))  # and a torn third one
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.pending() == [2, 3, 4]
    assert acks.stat().st_size == 12  # cut after the last good acknowledgement
    reopened.ack(2)
    reopened.close()
    again = WriteAheadLog(str(tmp_path))
    assert again.pending() == [3, 4]
    again.close()


def test_acknowledgements_of_records_no_segment_holds_are_forgotten(tmp_path: Path) -> None:
    """An ack whose record was cut (torn) must not hide the new record given the same seq."""
    wal = WriteAheadLog(str(tmp_path))
    wal.append(b"kept")
    second = wal.append(b"torn later")
    wal.ack(second)
    wal.close()
    path = tmp_path / segments(tmp_path)[-1]
    path.write_bytes(path.read_bytes()[:-1])
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.pending() == [1]
    assert reopened.append(b"new") == 2 and reopened.pending() == [1, 2]
    reopened.close()


def test_compaction_keeps_the_acknowledgements_of_live_segments(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path), segment_bytes=20)
    seqs = [wal.append(b"abcd") for _ in range(4)]  # one 20-byte record per segment
    wal.ack(seqs[2])  # segment 3: deleted at once (not the active one)
    assert segments(tmp_path) == ["segment-00000001.wal", "segment-00000002.wal", "segment-00000004.wal"]
    assert os.path.getsize(tmp_path / "acks.log") == 0
    wal.ack(seqs[3])  # the active segment is never deleted
    assert segments(tmp_path)[-1] == "segment-00000004.wal"
    wal.ack(seqs[0])  # segment 1 goes; the acknowledgement of 4 (live segment) is kept
    assert segments(tmp_path) == ["segment-00000002.wal", "segment-00000004.wal"]
    assert os.path.getsize(tmp_path / "acks.log") == 12
    assert not (tmp_path / "acks.log.tmp").exists()
    wal.ack(seqs[1])
    wal.close()
    reopened = WriteAheadLog(str(tmp_path), segment_bytes=20)
    assert reopened.pending() == [] and reopened.next_seq == 5
    reopened.close()


def test_storage_config_errors_and_defaults() -> None:

    for bad, message in [({"directory": ""}, "directory must be set, e.g. directory: ./data/file_storage"),
                         ({"segment_megabytes": 0}, "segment_megabytes must be greater than 0")]:
        with pytest.raises(ConfigError) as error:
            Config(**bad).validate()  # type: ignore[arg-type]
        assert str(error.value) == message
    Config(segment_megabytes=1).validate()
    config = Config()
    assert (config.directory, config.fsync, config.fsync_acks, config.segment_megabytes, config.create_directory) == (
        "./data/file_storage", False, False, 64, True)
    assert config.compaction == CompactionConfig(on_start=True, on_rebound=True, directory="")


def test_each_owner_gets_its_own_log_and_worker_n_its_own_directory(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        config = Config(directory=str(tmp_path / "queue"), segment_megabytes=1, fsync=True, fsync_acks=True)
        owner = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), config)
        worker = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry(), worker=Worker(index=2, count=3)), config)
        for storage in (owner, worker):
            await storage.start(Host({}))
        wal = owner.open_log("exporter_otlp/a traces")
        assert owner.open_log("exporter_otlp/a traces") is wal and wal.segment_bytes == 1024 * 1024
        assert wal.fsync and wal.fsync_acks
        wal.ack(wal.append(b"x"))  # fsync'd acknowledgement
        wal.append(b"x")
        owner.open_log("exporter_OTLP-2.b")
        worker.open_log("exporter_otlp/a traces").append(b"y")
        await owner.shutdown()
        await worker.shutdown()
        return sorted(os.listdir(tmp_path / "queue")), sorted(os.listdir(tmp_path / "queue" / "worker-2"))

    top, worker2 = asyncio.run(scenario())
    assert top == ["exporter_OTLP-2.b", "exporter_otlp_a_traces", "worker-2"] and worker2 == ["exporter_otlp_a_traces"]


def test_a_missing_directory_is_an_error_without_create_directory(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()),
                          Config(directory=str(missing), create_directory=False))
    with pytest.raises(OSError) as error:
        asyncio.run(storage.start(Host({})))
    assert str(error.value) == f"file_storage directory {missing} does not exist; create it or set create_directory: true"
    missing.mkdir()
    asyncio.run(storage.start(Host({})))


def test_the_owner_names_queues_left_by_workers_this_run_does_not_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for index, queue, records in [(1, "q", 1), (2, "q", 2), (2, "r", 1), (3, "q", 0)]:
        wal = WriteAheadLog(str(tmp_path / f"worker-{index}" / f"exporter_{queue}"))
        for _ in range(records):
            wal.append(b"left")
        wal.close()
    (tmp_path / "worker-x").mkdir()
    storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry(), worker=Worker(index=0, count=2)),
                          Config(directory=str(tmp_path)))
    with caplog.at_level("WARNING", logger="summitcol.extension.file_storage"):
        asyncio.run(storage.start(Host({})))
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        f"file_storage: {tmp_path / 'worker-2'} holds 3 unsent request(s) of worker 2's persistent queue, which this run does "
        "not start; they are kept: run with service::workers: 3 or more to send them"]


def test_other_files_in_the_directory_are_not_segments(tmp_path: Path) -> None:
    (tmp_path / "notes.wal").write_bytes(b"not a segment")
    (tmp_path / "segment-backup.txt").write_bytes(b"nor this")
    wal = WriteAheadLog(str(tmp_path))
    assert wal.pending() == [] and wal.append(b"a") == 1
    wal.close()
    assert os.path.getsize(tmp_path / "acks.log") == 0
    reopened = WriteAheadLog(str(tmp_path))  # an empty acks.log stays empty
    assert os.path.getsize(tmp_path / "acks.log") == 0 and reopened.pending() == [1]
    reopened.close()


def test_an_acknowledgement_one_byte_short_is_cut(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    seqs = [wal.append(b"x") for _ in range(3)]
    for seq in seqs:
        wal.ack(seq)
    wal.close()
    acks = tmp_path / "acks.log"
    acks.write_bytes(acks.read_bytes()[:-1])
    reopened = WriteAheadLog(str(tmp_path))
    assert reopened.pending() == [3] and acks.stat().st_size == 24
    reopened.close()


def test_replayed_segments_are_deleted_once_delivered_and_every_torn_tail_counted(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path), segment_bytes=20)
    seqs = [wal.append(b"abcd") for _ in range(3)]  # one 20-byte record per segment
    wal.close()
    for name in segments(tmp_path)[:2]:
        with open(tmp_path / name, "ab") as fh:
            fh.write(b"\x01")
    reopened = WriteAheadLog(str(tmp_path), segment_bytes=20)
    assert reopened.torn_records == 2 and reopened.pending() == seqs
    reopened.ack(seqs[0])
    reopened.ack(seqs[1])
    assert segments(tmp_path) == ["segment-00000003.wal"]
    reopened.close()


def test_compaction_rewrites_every_live_acknowledgement(tmp_path: Path) -> None:
    wal = WriteAheadLog(str(tmp_path), segment_bytes=40)
    seqs = [wal.append(b"abcd") for _ in range(6)]  # two 20-byte records per segment
    wal.ack(seqs[2])
    wal.ack(seqs[4])
    wal.ack(seqs[0])
    wal.ack(seqs[1])  # segment 1 goes: the acks of 3 and 5 (live segments) are rewritten
    assert segments(tmp_path) == ["segment-00000002.wal", "segment-00000003.wal"]
    assert os.path.getsize(tmp_path / "acks.log") == 24
    wal.close()
    reopened = WriteAheadLog(str(tmp_path), segment_bytes=40)
    assert reopened.pending() == [4, 6]
    reopened.close()


def test_the_factory_creates_the_extension(tmp_path: Path) -> None:
    from summitcol.extensions.file_storage.extension import FACTORY

    config = Config(directory=str(tmp_path))
    storage = FACTORY.create(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), config)
    assert isinstance(storage, FileStorage) and storage.config is config and storage.directory == str(tmp_path)
