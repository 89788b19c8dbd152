"""Which of the collector's processes this is (`service.workers`), and what a component may do
as one of several: call the owner (worker 0) over the hub, and read the whole collector's
memory.

The component side of the worker model, below the service: the chdb extension's writers and
the memory_limiter use it, and `service/workers.py` (which starts and supervises the workers and
serves the owner's end of the hub) builds on it. The hub speaks frames of a 4-byte length and
JSON.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from summitcol.telemetry import process_rss_bytes

FRAME_HEADER = struct.Struct("!I")
MAX_FRAME = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Worker:
    """Which of the collector's worker processes this is (`service.workers`).

    Worker 0 owns what there is one of per collector: the embedded engine, the health check and
    the self-metrics endpoint. Workers 1… run the same pipelines behind the same ports
    (SO_REUSEPORT) and reach the owner through `hub`, a Unix socket.
    """

    index: int = 0
    count: int = 1
    hub: str = ""
    owner_pid: int = 0  # worker 0's pid (0: this process)

    @property
    def owner(self) -> bool:
        return self.index == 0

    @property
    def shared_ports(self) -> bool:
        """Listeners must set SO_REUSEPORT so that every worker can bind the same port."""
        return self.count > 1


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def collector_rss_bytes(worker: Worker) -> int:
    """Resident memory of the whole collector: worker 0 and the workers it started. Limits
    (memory_limiter) are the collector's, and a container's limit counts every process."""
    if worker.count <= 1:
        return process_rss_bytes()
    owner = worker.owner_pid or os.getpid()
    return process_rss_bytes(owner) + sum(process_rss_bytes(child) for child in _children(owner))


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        header = await reader.readexactly(FRAME_HEADER.size)
        (size,) = FRAME_HEADER.unpack(header)
        if size > MAX_FRAME:
            return None
        return orjson.loads(await reader.readexactly(size))
    except (asyncio.IncompleteReadError, ConnectionError, orjson.JSONDecodeError):
        return None


def encode_frame(message: dict[str, Any]) -> bytes:
    body = orjson.dumps(message)
    return FRAME_HEADER.pack(len(body)) + body


class HubError(Exception):
    """The owner refused or could not carry out a call; `code` is ClickHouse's error code if any."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class HubClient:
    """Blocking calls to the owner (from worker threads); one connection, one call at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def call(self, message: dict[str, Any]) -> Any:
        with self._lock:
            try:
                reply = self._exchange(message)
            except OSError:
                # Not retried here: an insert whose reply was lost may have been stored. The
                # exporter retries with backoff (at least once), on a new connection.
                self.close_locked()
                raise
        if not reply.get("ok"):
            raise HubError(str(reply.get("error")), int(reply.get("code") or 0))
        return reply.get("result")

    def _exchange(self, message: dict[str, Any]) -> dict[str, Any]:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.connect(self.path)
        self._sock.sendall(encode_frame(message))
        header = self._recv(FRAME_HEADER.size)
        (size,) = FRAME_HEADER.unpack(header)
        return orjson.loads(self._recv(size))

    def _recv(self, size: int) -> bytes:
        assert self._sock is not None
        chunks, remaining = [], size
        while remaining:
            chunk = self._sock.recv(min(remaining, 1 << 20))
            if not chunk:
                raise ConnectionResetError("the collector's first worker closed the hub connection")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def close_locked(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()
