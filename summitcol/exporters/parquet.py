"""The `parquet` exporter: Summit's Arrow tables as Parquet files in Hive-style partitions.

    <path>/signal=traces/date=2026-11-27/hour=05[/service=checkout]/part-<time>-<id>.parquet

Files keep Summit's schema (typed attributes, everything OTLP needs), so pyarrow, DuckDB or
Spark read back the same rows. A file is rolled after `max_rows` rows, `max_bytes` bytes or
`max_age`; a file is complete (readable) once rolled or at shutdown.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from summitcol.component import CreateSettings, Exporter, Factory, Host, Kind, Signal, Stability
from summitcol.exceptions import ConfigError, RetryableError
from summitcol.pdata.signal import LOGS, SPANS, SignalData

ROLL_CHECK_INTERVAL_S = 1.0


@dataclass(frozen=True, kw_only=True, slots=True)
class RollConfig:
    max_rows: int = 1_000_000
    max_bytes: int = 128 * 1024 * 1024
    max_age: timedelta = timedelta(minutes=5)

    def validate(self) -> None:
        if self.max_rows <= 0 or self.max_bytes <= 0 or self.max_age <= timedelta(0):
            raise ConfigError("roll: max_rows, max_bytes and max_age must be greater than 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: str = ""
    compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = "zstd"
    partition_by_service: bool = False
    roll: RollConfig = field(default_factory=RollConfig)

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path must be set: the directory the partitions go under, e.g. ./data/parquet")


def signal_directory(kind: str) -> str:
    """`traces`, `logs`, or `metrics_<type>`: the `signal=` partition value of one of Summit's tables."""
    if kind == SPANS:
        return "traces"
    if kind == LOGS:
        return "logs"
    return f"metrics_{kind}"


def _time_column(batch: pa.RecordBatch) -> pa.Array:
    return batch.column("Timestamp" if "Timestamp" in batch.schema.names else "TimeUnix")


@dataclass
class _OpenFile:
    path: str
    writer: pq.ParquetWriter
    opened: float
    rows: int = 0
    bytes: int = 0


class ParquetExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self._files: dict[tuple[str, ...], _OpenFile] = {}
        self._lock = asyncio.Lock()
        self._roller: asyncio.Task[None] | None = None
        self._running = False

    async def start(self, host: Host) -> None:
        os.makedirs(self.config.path, exist_ok=True)
        self._running = True
        self._roller = asyncio.get_running_loop().create_task(self._roll_old_files())

    def _partitions(self, kind: str, batch: pa.RecordBatch) -> list[tuple[tuple[str, ...], pa.RecordBatch]]:
        """Split a batch by date/hour (and service), all column-wise."""
        times = _time_column(batch)
        key = pc.strftime(times, format="date=%Y-%m-%d/hour=%H")
        if self.config.partition_by_service:
            key = pc.binary_join_element_wise(key, batch.column("ServiceName"), "/service=")
        uniques = pc.unique(key).to_pylist()
        if len(uniques) == 1:
            return [((signal_directory(kind), uniques[0]), batch)]
        return [((signal_directory(kind), value), batch.filter(pc.equal(key, value))) for value in uniques]

    def _open(self, partition: tuple[str, ...], schema: pa.Schema) -> _OpenFile:
        directory = os.path.join(self.config.path, f"signal={partition[0]}", *partition[1].split("/"))
        os.makedirs(directory, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = os.path.join(directory, f"part-{stamp}-{uuid.uuid4().hex[:12]}.parquet")
        compression = None if self.config.compression == "none" else self.config.compression
        return _OpenFile(path, pq.ParquetWriter(path + ".inprogress", schema, compression=compression), time.monotonic())

    def _close(self, partition: tuple[str, ...]) -> None:
        handle = self._files.pop(partition)
        handle.writer.close()
        os.replace(handle.path + ".inprogress", handle.path)

    def _write(self, data: SignalData) -> None:
        roll = self.config.roll
        for kind, batch in data.tables.items():
            for partition, part in self._partitions(kind, batch):
                handle = self._files.get(partition)
                if handle is not None and handle.writer.schema != part.schema:
                    self._close(partition)
                    handle = None
                if handle is None:
                    handle = self._files[partition] = self._open(partition, part.schema)
                handle.writer.write_batch(part)
                handle.rows += part.num_rows
                handle.bytes += part.nbytes
                if handle.rows >= roll.max_rows or handle.bytes >= roll.max_bytes:
                    self._close(partition)

    def _close_older_than(self, age_s: float) -> None:
        now = time.monotonic()
        for partition in [p for p, f in self._files.items() if now - f.opened >= age_s]:
            self._close(partition)

    async def _roll_old_files(self) -> None:
        while self._running:
            await asyncio.sleep(ROLL_CHECK_INTERVAL_S)
            async with self._lock:
                await asyncio.to_thread(self._close_older_than, self.config.roll.max_age.total_seconds())

    async def consume(self, data: SignalData) -> None:
        if not self._running:
            raise RetryableError("parquet exporter is not running")
        async with self._lock:
            try:
                await asyncio.to_thread(self._write, data)
            except OSError as exc:
                raise RetryableError(f"cannot write Parquet under {self.config.path}: {exc.strerror}") from None

    async def shutdown(self) -> None:
        self._running = False
        if self._roller is not None:
            self._roller.cancel()
            self._roller = None
        async with self._lock:
            await asyncio.to_thread(self._close_older_than, -1.0)


def _create(settings: CreateSettings, config: Config) -> ParquetExporter:
    return ParquetExporter(settings, config)


FACTORY = Factory(
    type="parquet",
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.ALPHA,
    description="Parquet files in Hive-style partitions (signal/date/hour[/service]), zstd by default",
)
