"""The `file_storage` extension: hands out one write-ahead log per owner (an exporter's queue).

Keys follow contrib's extension/storage/filestorage where they apply (`directory`, `fsync`,
`compaction`); the storage itself is Summit's WAL (see `wal.py`), not bbolt.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field

from summitcol.component import CreateSettings, Extension, Factory, Host, Kind, Stability
from summitcol.exceptions import ConfigError
from summitcol.extensions.file_storage.wal import SEGMENT_BYTES, WriteAheadLog

DEFAULT_DIRECTORY = "./data/file_storage"
log = logging.getLogger("summitcol.extension.file_storage")


@dataclass(frozen=True, kw_only=True, slots=True)
class CompactionConfig:
    on_start: bool = True
    on_rebound: bool = True
    directory: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    directory: str = DEFAULT_DIRECTORY
    fsync: bool = False
    fsync_acks: bool = False
    segment_megabytes: int = SEGMENT_BYTES // (1024 * 1024)
    compaction: CompactionConfig = field(default_factory=CompactionConfig)
    create_directory: bool = True

    def validate(self) -> None:
        if not self.directory:
            raise ConfigError("directory must be set, e.g. directory: ./data/file_storage")
        if self.segment_megabytes <= 0:
            raise ConfigError("segment_megabytes must be greater than 0")


WORKER_DIRECTORY = "worker-{index}"


class FileStorage(Extension):
    """With several worker processes, worker 0 keeps `directory` and worker N uses
    `directory/worker-N`: a WAL has one writer, and a restarted worker replays its own."""

    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.worker = settings.worker
        self.directory = (
            config.directory if self.worker.owner else os.path.join(config.directory, WORKER_DIRECTORY.format(index=self.worker.index))
        )
        self._logs: dict[str, WriteAheadLog] = {}

    async def start(self, host: Host) -> None:
        if self.config.create_directory:
            os.makedirs(self.directory, exist_ok=True)
        elif not os.path.isdir(self.config.directory):
            raise OSError(f"file_storage directory {self.config.directory} does not exist; create it or set create_directory: true")
        else:
            os.makedirs(self.directory, exist_ok=True)
        if self.worker.owner:
            self._warn_orphans()

    def _warn_orphans(self) -> None:
        """Queues left with data by workers this run does not start are kept, and named."""
        for name in sorted(os.listdir(self.config.directory)):
            index = name.removeprefix("worker-")
            if not (name.startswith("worker-") and index.isdigit() and int(index) >= self.worker.count):
                continue
            path = os.path.join(self.config.directory, name)
            pending = 0
            for queue in os.scandir(path):
                if queue.is_dir():
                    wal = WriteAheadLog(queue.path)
                    pending += len(wal.pending())
                    wal.close()
            if pending:
                log.warning(
                    "file_storage: %s holds %d unsent request(s) of worker %s's persistent queue, which this run does "
                    "not start; they are kept: run with service::workers: %d or more to send them",
                    path, pending, index, int(index) + 1,
                )

    def open_log(self, owner: str) -> WriteAheadLog:
        """The WAL of `owner` (e.g. `exporter_otlp_grpc_traces`), created on first use."""
        if owner not in self._logs:
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", owner)
            self._logs[owner] = WriteAheadLog(
                os.path.join(self.directory, safe),
                fsync=self.config.fsync,
                fsync_acks=self.config.fsync_acks,
                segment_bytes=self.config.segment_megabytes * 1024 * 1024,
            )
        return self._logs[owner]

    async def shutdown(self) -> None:
        for wal in self._logs.values():
            wal.close()
        self._logs.clear()


def _create(settings: CreateSettings, config: Config) -> FileStorage:
    return FileStorage(settings, config)


FACTORY = Factory(
    type="file_storage",
    kind=Kind.EXTENSION,
    config_type=Config,
    create=_create,
    stability=Stability.BETA,
    description="crash-safe write-ahead logs (checksummed, torn-write detection) for persistent queues",
)
