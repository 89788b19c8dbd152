"""A write-ahead log of opaque records, safe across kill -9.

Records go to numbered segment files as `length u32 | crc32 u32 | seq u64 | payload`; a record is
durable once `append` returns (fsync'd when `fsync` is on). Acknowledgements go to `acks.log` as
`seq u64 | crc32 u32`. On open, every segment is scanned: a torn or corrupt tail (a crash in
the middle of a write) is cut off and counted, and the records without an acknowledgement are
what `pending()` replays. Segments whose records are all acknowledged are deleted (compaction).

At least once: an acknowledgement written just before a crash may be lost (acks are not
fsync'd unless `fsync_acks`), so a replayed record may have been delivered already.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field

log = logging.getLogger("summitcol.extension.file_storage")

_RECORD = struct.Struct("<IIQ")
_ACK = struct.Struct("<QI")
SEGMENT_BYTES = 64 * 1024 * 1024
MAX_RECORD_BYTES = 1 << 31


@dataclass
class _Segment:
    number: int
    path: str
    seqs: set[int] = field(default_factory=set)
    size: int = 0


class WriteAheadLog:
    def __init__(self, directory: str, *, fsync: bool = False, fsync_acks: bool = False, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.fsync = fsync
        self.fsync_acks = fsync_acks
        self.segment_bytes = segment_bytes
        self.torn_records = 0
        self._lock = threading.Lock()
        self._segments: list[_Segment] = []
        self._where: dict[int, tuple[_Segment, int, int]] = {}
        self._acked: set[int] = set()
        os.makedirs(directory, exist_ok=True)
        self._load()
        self.next_seq = max(self._where, default=0) + 1
        last = self._segments[-1] if self._segments else self._new_segment(1)
        self._active = last
        self._file = open(last.path, "ab")  # noqa: SIM115
        self._acks_path = os.path.join(directory, "acks.log")
        self._acks_file = open(self._acks_path, "ab")  # noqa: SIM115

    # -- opening ---------------------------------------------------------------------------
    def _load(self) -> None:
        names = sorted(n for n in os.listdir(self.directory) if n.startswith("segment-") and n.endswith(".wal"))
        for name in names:
            segment = _Segment(int(name[len("segment-") : -len(".wal")]), os.path.join(self.directory, name))
            self._scan(segment)
            self._segments.append(segment)
        acks_path = os.path.join(self.directory, "acks.log")
        if os.path.exists(acks_path):
            with open(acks_path, "rb") as fh:
                data = fh.read()
            good = 0
            for offset in range(0, len(data) - _ACK.size + 1, _ACK.size):
                seq, crc = _ACK.unpack_from(data, offset)
                if zlib.crc32(struct.pack("<Q", seq)) != crc:
                    break
                self._acked.add(seq)
                good = offset + _ACK.size
            if good != len(data):
                with open(acks_path, "r+b") as fh:
                    fh.truncate(good)
        self._acked &= set(self._where)

    def _scan(self, segment: _Segment) -> None:
        with open(segment.path, "rb") as fh:
            data = fh.read()
        offset = 0
        while offset + _RECORD.size <= len(data):
            length, crc, seq = _RECORD.unpack_from(data, offset)
            start = offset + _RECORD.size
            end = start + length
            if length > MAX_RECORD_BYTES or end > len(data) or zlib.crc32(data[start:end]) != crc:
                break
            self._where[seq] = (segment, start, length)
            segment.seqs.add(seq)
            offset = end
        if offset != len(data):
            self.torn_records += 1
            log.warning("%s: cut a torn or corrupt record at byte %d (a crash during a write)", segment.path, offset)
            with open(segment.path, "r+b") as fh:
                fh.truncate(offset)
        segment.size = offset

    def _new_segment(self, number: int) -> _Segment:
        segment = _Segment(number, os.path.join(self.directory, f"segment-{number:08d}.wal"))
        open(segment.path, "ab").close()
        self._segments.append(segment)
        return segment

    # -- writing ---------------------------------------------------------------------------
    def append(self, payload: bytes) -> int:
        """Write one record; it is durable (fsync'd when configured) when this returns its seq."""
        with self._lock:
            if self._active.size >= self.segment_bytes:
                self._file.close()
                self._active = self._new_segment(self._active.number + 1)
                self._file = open(self._active.path, "ab")  # noqa: SIM115
            seq = self.next_seq
            self.next_seq += 1
            header = _RECORD.pack(len(payload), zlib.crc32(payload), seq)
            self._file.write(header + payload)
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            start = self._active.size + _RECORD.size
            self._where[seq] = (self._active, start, len(payload))
            self._active.seqs.add(seq)
            self._active.size = start + len(payload)
            return seq

    def read(self, seq: int) -> bytes:
        with self._lock:
            segment, start, length = self._where[seq]
        with open(segment.path, "rb") as fh:
            fh.seek(start)
            return fh.read(length)

    def ack(self, seq: int) -> None:
        """Mark a record delivered; fully delivered segments are deleted."""
        with self._lock:
            if seq not in self._where or seq in self._acked:
                return
            self._acks_file.write(_ACK.pack(seq, zlib.crc32(struct.pack("<Q", seq))))
            self._acks_file.flush()
            if self.fsync_acks:
                os.fsync(self._acks_file.fileno())
            self._acked.add(seq)
            self._compact()

    def _compact(self) -> None:
        removed = False
        for segment in list(self._segments):
            if segment is self._active or not segment.seqs <= self._acked:
                continue
            os.remove(segment.path)
            self._segments.remove(segment)
            for seq in segment.seqs:
                del self._where[seq]
            self._acked -= segment.seqs
            removed = True
        if removed:
            self._rewrite_acks()

    def _rewrite_acks(self) -> None:
        """Keep acks.log to the acknowledgements of live segments (atomic replace)."""
        temporary = self._acks_path + ".tmp"
        with open(temporary, "wb") as fh:
            fh.write(b"".join(_ACK.pack(seq, zlib.crc32(struct.pack("<Q", seq))) for seq in sorted(self._acked)))
            fh.flush()
            os.fsync(fh.fileno())
        self._acks_file.close()
        os.replace(temporary, self._acks_path)
        self._acks_file = open(self._acks_path, "ab")  # noqa: SIM115

    # -- reading back ------------------------------------------------------------------------
    def pending(self) -> list[int]:
        """Sequence numbers written but not acknowledged, oldest first (what a restart replays)."""
        with self._lock:
            return sorted(set(self._where) - self._acked)

    def close(self) -> None:
        with self._lock:
            self._file.close()
            self._acks_file.close()
