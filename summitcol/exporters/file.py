"""The `file` exporter: OTLP requests appended to a file, as otelcol's file exporter writes them.

`format: json` writes one OTLP/JSON `Export*ServiceRequest` per line; `format: proto` writes each
serialized request prefixed by its length (4 bytes, big-endian). `rotation` rolls the file past
`max_megabytes` into `name-<UTC time>.ext` and keeps `max_backups` of them. A batch is written and
flushed to the OS before `consume` returns, so the receiver acknowledges only written data.
"""

from __future__ import annotations

import asyncio
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, Literal

from summitcol.component import CreateSettings, Exporter, Factory, Host, Kind, Signal, Stability
from summitcol.exceptions import ConfigError, RetryableError
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import to_message
from summitcol.pdata.signal import SignalData

DEFAULT_MAX_MEGABYTES = 100  # otelcol exporter/fileexporter rotation defaults
DEFAULT_MAX_BACKUPS = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class RotationConfig:
    max_megabytes: int = DEFAULT_MAX_MEGABYTES
    max_days: int = 0
    max_backups: int = DEFAULT_MAX_BACKUPS
    localtime: bool = False

    def validate(self) -> None:
        if self.max_megabytes <= 0:
            raise ConfigError("rotation::max_megabytes must be greater than 0")
        if self.max_backups < 0 or self.max_days < 0:
            raise ConfigError("rotation::max_backups and max_days must be 0 or more")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: str = ""
    format: Literal["json", "proto"] = "json"
    append: bool = False
    rotation: RotationConfig | None = None
    flush_interval: timedelta = timedelta(seconds=1)

    def validate(self) -> None:
        if not self.path:
            raise ConfigError("path must be non-empty; write e.g. path: ./data/otlp.jsonl")
        if self.append and self.rotation is not None:
            raise ConfigError("append and rotation cannot be used together; remove one")


class FileExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self._file: BinaryIO | None = None
        self._written = 0
        self._lock = asyncio.Lock()

    async def start(self, host: Host) -> None:
        directory = os.path.dirname(os.path.abspath(self.config.path))
        os.makedirs(directory, exist_ok=True)
        self._file = open(self.config.path, "ab" if self.config.append else "wb")  # noqa: SIM115
        self._written = self._file.tell()

    def _serialize(self, data: SignalData) -> bytes:
        message = to_message(data)
        if self.config.format == "json":
            return otlp_json.dumps(message) + b"\n"
        payload = message.SerializeToString()
        return struct.pack(">I", len(payload)) + payload

    def _write(self, data: SignalData) -> None:
        record = self._serialize(data)
        rotation = self.config.rotation
        if rotation is not None and self._written and self._written + len(record) > rotation.max_megabytes * 1024 * 1024:
            self._rotate(rotation)
        assert self._file is not None
        self._file.write(record)
        self._file.flush()
        self._written += len(record)

    def _rotate(self, rotation: RotationConfig) -> None:
        assert self._file is not None
        self._file.close()
        base, ext = os.path.splitext(self.config.path)
        now = datetime.now() if rotation.localtime else datetime.now(UTC)
        os.replace(self.config.path, f"{base}-{now.strftime('%Y-%m-%dT%H-%M-%S.%f')[:-3]}{ext}")
        self._file = open(self.config.path, "wb")  # noqa: SIM115
        self._written = 0
        self._prune(base, ext, rotation)

    def _prune(self, base: str, ext: str, rotation: RotationConfig) -> None:
        directory = os.path.dirname(os.path.abspath(base))
        prefix = os.path.basename(base) + "-"
        backups = sorted(
            os.path.join(directory, name)
            for name in os.listdir(directory)
            if name.startswith(prefix) and name.endswith(ext)
        )
        keep = backups[-rotation.max_backups :] if rotation.max_backups else backups
        cutoff = datetime.now().timestamp() - rotation.max_days * 86400
        for path in backups:
            if path not in keep or (rotation.max_days and os.path.getmtime(path) < cutoff):
                os.remove(path)

    async def consume(self, data: SignalData) -> None:
        if self._file is None:
            raise RetryableError("file exporter is not running")
        async with self._lock:
            try:
                await asyncio.to_thread(self._write, data)
            except OSError as exc:
                raise RetryableError(f"cannot write {self.config.path}: {exc.strerror}") from None

    async def shutdown(self) -> None:
        async with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _create(settings: CreateSettings, config: Config) -> FileExporter:
    return FileExporter(settings, config)


FACTORY = Factory(
    type="file",
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.ALPHA,
    description="writes OTLP/JSON lines or length-prefixed OTLP protobuf to a file, with rotation",
    single_process="it appends to and rotates one file",
)
