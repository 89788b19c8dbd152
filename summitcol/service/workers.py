"""`service.workers`: the pipelines run in several processes behind the same ports.

Python runs one thread of Python at a time per process, so one process cannot use every core for
the columnar work between the C parts (decode, chDB). Worker 0 (the process the user started)
owns what there is one of per collector: the embedded chDB engine, the health check, the
self-metrics endpoint. It starts workers 1…N-1 as child processes with the same command line;
each runs the same receivers, processors and exporters, and the kernel spreads incoming
connections over them (SO_REUSEPORT). Workers reach the owner over the hub, a Unix socket:

* `ready`: a worker says it listens; the owner reports the collector ready when all have.
  The connection stays open; the owner's end closing tells the worker to stop.
* `command` / `scalar` / `insert`: the clickhouse exporter's calls on the embedded engine. An
  insert's Arrow table is written once, as an Arrow IPC file in shared memory (/dev/shm); the
  owner memory-maps it and hands the buffers to chDB as they are (see `HandoffWriter`).
* Self-metrics: each worker serves its own on a Unix socket; the owner's `/metrics` sums them.

The component side (`Worker`, the frames, `HubClient`, the collector's RSS) is
`summitcol/worker.py`, below the service, so that components never import the service.

A worker that dies is started again (its persistent queue, in `file_storage/worker-N`, is
replayed); when the owner dies the kernel kills the workers (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from summitcol.config.model import CollectorConfig, single_process_components
from summitcol.worker import HubError, Worker, encode_frame, read_frame

log = logging.getLogger("summitcol.workers")

ENV = "SUMMITCOL_WORKER"  # "index:count:owner pid:hub path", set by the owner for its workers
READY_TIMEOUT_S = 120.0
RESTART_DELAY_S = 1.0
STOP_TIMEOUT_S = 120.0  # a worker's drain is bounded well below this (exporters' own timeouts)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve(config: CollectorConfig) -> tuple[int, str]:
    """How many worker processes to run, and (when it is 1 by necessity) why."""
    if config.service.workers:
        return config.service.workers, ""
    blockers = single_process_components(config.components, config.pipelines)
    if blockers:
        kind, cid, why = blockers[0]
        return 1, f"{kind} '{cid}' needs a single process ({why})"
    return available_cpus(), ""


def from_env() -> Worker | None:
    """The worker this process is, when the owner started it."""
    value = os.environ.get(ENV)
    if not value:
        return None
    index, count, owner, hub = value.split(":", 3)
    return Worker(index=int(index), count=int(count), hub=hub, owner_pid=int(owner))


def die_with_owner(owner_pid: int) -> None:
    """Have the kernel kill this worker when its owner dies (a killed owner cannot stop it)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != owner_pid:  # the owner died before prctl took effect
        os._exit(1)


def metrics_socket(hub: str, index: int) -> str:
    """Where worker `index` serves its own metrics: beside the hub socket."""
    return os.path.join(os.path.dirname(hub), f"metrics-{index}.sock")


# --- the owner's side ----------------------------------------------------------------------------

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class Hub:
    """The owner's Unix socket. `handlers` maps an op name to a coroutine taking the message."""

    def __init__(self, path: str, handlers: dict[str, Handler]) -> None:
        self.path = path
        self.handlers = handlers
        self.ready: dict[int, asyncio.Event] = {}
        self._server: asyncio.AbstractServer | None = None
        self._sessions: set[asyncio.StreamWriter] = set()

    def ready_event(self, index: int) -> asyncio.Event:
        return self.ready.setdefault(index, asyncio.Event())

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, self.path)
        os.chmod(self.path, 0o600)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = None
        try:
            while (message := await read_frame(reader)) is not None:
                op = message.get("op")
                if op == "ready":
                    index = int(message["index"])
                    self._sessions.add(writer)
                    self.ready_event(index).set()
                    continue  # the session stays open until the worker or the owner ends
                handler = self.handlers.get(str(op))
                try:
                    if handler is None:
                        raise HubError(f"unknown hub call {op!r}")
                    reply: dict[str, Any] = {"ok": True, "result": await handler(message)}
                except Exception as exc:  # the worker's exporter sees it and retries
                    reply = {"ok": False, "error": str(exc), "code": getattr(exc, "code", 0)}
                writer.write(encode_frame(reply))
                await writer.drain()
        except ConnectionError:  # the worker went away mid-reply; its exporter retries elsewhere
            pass
        finally:
            if index is not None:
                self.ready.pop(index, None)
            self._sessions.discard(writer)
            writer.close()

    async def stop(self) -> None:
        for writer in list(self._sessions):
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class WorkerPool:
    """The owner's children: started with this process's command line, restarted if they die,
    stopped with SIGTERM (they drain first, through the hub) when the collector stops."""

    def __init__(self, count: int, argv: list[str], hub: Hub) -> None:
        self.count = count
        self.argv = argv
        self.hub = hub
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False
        self._watchers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start workers 1…N-1 and wait until every one listens (or one fails to start)."""
        for index in range(1, self.count):
            await self._spawn(index)
        waits = {index: asyncio.ensure_future(self.hub.ready_event(index).wait()) for index in self.processes}
        exits = {index: asyncio.ensure_future(proc.wait()) for index, proc in self.processes.items()}
        pending = set(waits.values()) | set(exits.values())
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        try:
            while not all(w.done() for w in waits.values()):
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    raise OSError(f"worker processes did not start within {READY_TIMEOUT_S:.0f} s; see their log lines above")
                done, pending = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for index, task in exits.items():
                    if task in done:
                        raise OSError(f"worker {index} exited with code {task.result()} while starting; see its log lines above")
        finally:
            for task in [*waits.values(), *exits.values()]:
                task.cancel()
        self._watchers = [asyncio.get_running_loop().create_task(self._watch(index)) for index in self.processes]

    async def _spawn(self, index: int) -> None:
        env = {**os.environ, ENV: f"{index}:{self.count}:{os.getpid()}:{self.hub.path}"}
        self.processes[index] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "summitcol", *self.argv, env=env, stdin=asyncio.subprocess.DEVNULL
        )

    async def _watch(self, index: int) -> None:
        while not self._stopping:
            code = await self.processes[index].wait()
            if self._stopping:
                return
            log.error("worker %d exited with code %s; starting it again in %.0f s", index, code, RESTART_DELAY_S)
            await asyncio.sleep(RESTART_DELAY_S)
            if not self._stopping:
                await self._spawn(index)

    def terminate(self) -> None:
        """Ask every worker to stop (each drains what it holds first)."""
        self._stopping = True
        for proc in self.processes.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)

    async def wait(self) -> None:
        """Stop every worker; one that has not drained within STOP_TIMEOUT_S is killed."""
        self.terminate()
        for index, proc in self.processes.items():
            try:
                code = await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("worker %d did not stop within %.0f s; killing it", index, STOP_TIMEOUT_S)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                code = await proc.wait()
            if code not in (0, -signal.SIGTERM):
                log.warning("worker %d stopped with code %s", index, code)
        for task in self._watchers:
            task.cancel()


HUB_DIR_PREFIX = "summitcol-"


def hub_path() -> str:
    """A private directory for the hub's and the workers' sockets, `summitcol-<owner pid>-…` in
    the temp directory. Worker 0 removes it at stop (cli.py); one a killed collector left behind
    is removed by the next collector that starts (`remove_stale_hub_dirs`)."""
    remove_stale_hub_dirs()
    return os.path.join(tempfile.mkdtemp(prefix=f"{HUB_DIR_PREFIX}{os.getpid()}-"), "hub.sock")


def remove_stale_hub_dirs(parent: str | None = None) -> list[str]:
    """Remove this user's hub directories whose collector is gone: its hub socket refuses
    connections, or it has none and the pid in its name is dead. Returns what was removed."""
    parent = parent or tempfile.gettempdir()
    try:
        names = [name for name in os.listdir(parent) if name.startswith(HUB_DIR_PREFIX)]
    except OSError:
        return []
    removed = []
    for name in names:
        path = os.path.join(parent, name)
        try:
            if os.lstat(path).st_uid != os.getuid() or not _hub_dir_is_stale(path, name):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _hub_dir_is_stale(path: str, name: str) -> bool:
    hub = os.path.join(path, "hub.sock")
    if os.path.exists(hub):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)  # a live hub with a full backlog must not stall this start
            try:
                probe.connect(hub)
            except ConnectionRefusedError:
                return True  # nobody listens: the collector that made it was killed
            except OSError:
                return False
        return False
    pid = name[len(HUB_DIR_PREFIX):].partition("-")[0]
    if not pid.isdigit():  # not one of ours, or made before the pid was in the name
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# --- the worker's side ---------------------------------------------------------------------------


class HubSession:
    """A worker's open `ready` session; `closed` is set when the owner goes away."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.closed = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def open(self) -> None:
        reader, self._writer = await asyncio.open_unix_connection(self.worker.hub)
        self._writer.write(encode_frame({"op": "ready", "index": self.worker.index}))
        await self._writer.drain()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(reader))

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        await read_frame(reader)
        self.closed.set()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
