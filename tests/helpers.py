"""Shared test helpers: free loopback ports, a real `summitcol` process, reading file-exporter output."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import requests
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.pdata import otlp_json

READY_LINE = "Everything is ready"


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as fh:
            low, high = (int(part) for part in fh.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


# Ports below the kernel's ephemeral range: the kernel never hands them to a client socket or to a
# bind to port 0, so a port given out here stays free until the collector binds it (a port from
# bind(0) could be taken by any outgoing connection meanwhile, issue #13 item 12). Each pytest
# process (an xdist worker, a helper's run beside another) takes its own slice by pid.
_SLICE = 1000
_FLOOR = 10_000
_SLICES = max(1, (_ephemeral_range()[0] - _FLOOR) // _SLICE)
_next_port = _FLOOR + (os.getpid() % _SLICES) * _SLICE
_given: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on and this process has not handed out before."""
    global _next_port
    low, _ = _ephemeral_range()
    for _ in range(low - _FLOOR):
        port = _next_port
        _next_port = port + 1 if port + 1 < low else _FLOOR
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


class Collector:
    """A `summitcol` subprocess with a config written to a temp dir; stopped with SIGTERM.

    It runs one worker process unless the config sets `service.workers` itself: starting and
    draining a second process costs every test seconds, and only the workers tests are about it."""

    def __init__(self, tmp_path: Path, config: str, name: str = "collector") -> None:
        self.dir = tmp_path
        self.name = name
        self.config_path = tmp_path / f"{name}.yaml"
        self.config_path.write_text(textwrap.dedent(config))
        self.log_path = tmp_path / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Collector:
        command = [sys.executable, "-m", "summitcol.cli", "--config", str(self.config_path)]
        if "workers:" not in self.config_path.read_text():
            command += ["--set", "service.workers=1"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.log():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def receiver_yaml(grpc_port: int | None, http_port: int | None, extra: str = "") -> str:
    """An `otlp` receiver on loopback ports, indented for a `receivers:` block."""
    lines = ["  otlp:", "    protocols:"]
    if grpc_port is not None:
        lines += ["      grpc:", f"        endpoint: 127.0.0.1:{grpc_port}"]
    if http_port is not None:
        lines += ["      http:", f"        endpoint: 127.0.0.1:{http_port}"]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def pipelines_yaml(receivers: str, processors: str, exporters: str, metrics_port: int | None = None) -> str:
    telemetry = (
        f"  telemetry:\n    metrics:\n      address: 127.0.0.1:{metrics_port}\n"
        if metrics_port
        else "  telemetry:\n    metrics:\n      level: none\n"
    )
    body = "".join(
        f"    {signal}:\n      receivers: [{receivers}]\n      processors: [{processors}]\n      exporters: [{exporters}]\n"
        for signal in ("traces", "metrics", "logs")
    )
    return f"service:\n{telemetry}  pipelines:\n{body}"


_REQUEST_TYPES: dict[str, type[Message]] = {
    "resourceSpans": ExportTraceServiceRequest,
    "resourceLogs": ExportLogsServiceRequest,
    "resourceMetrics": ExportMetricsServiceRequest,
}


def read_file_export(path: Path) -> dict[type[Message], list[Message]]:
    """The requests a `file` exporter (format json) wrote, parsed back into messages by type."""
    out: dict[type[Message], list[Message]] = {t: [] for t in _REQUEST_TYPES.values()}
    if not path.exists():
        return out
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]  # a line still being written is not read yet
    for line in complete.splitlines():
        if not line.strip():
            continue
        key = next(k for k in _REQUEST_TYPES if line.startswith(b'{"' + k.encode()))
        out[_REQUEST_TYPES[key]].append(otlp_json.parse(line, _REQUEST_TYPES[key]()))
    return out


def spans_by_id(requests: list[Message]) -> dict[bytes, tuple[Message, Message, Message]]:
    """span_id → (span, resource, scope) across requests."""
    out = {}
    for request in requests:
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out[span.span_id] = (span, rs.resource, ss.scope)
    return out


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    """Poll `predicate` until it holds or `timeout` passes: synchronization on a condition, not a
    fixed sleep. Returns the last result, for the caller to assert."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def spans_of_service(path: Path, service: str) -> int:
    """How many spans of resources with `service.name` = `service` a file exporter wrote to `path`."""
    if not path.exists():
        return 0
    return sum(
        len(ss.spans)
        for request in read_file_export(path).get(ExportTraceServiceRequest, [])
        for rs in request.resource_spans
        if any(a.key == "service.name" and a.value.string_value == service for a in rs.resource.attributes)
        for ss in rs.scope_spans
    )


async def async_wait_for(predicate, timeout: float = 10.0, interval: float = 0.01) -> bool:  # type: ignore[no-untyped-def]
    """`wait_for` inside an event loop: it yields to the tasks that make `predicate` true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return predicate()


def chdb_rows(port: int, sql: str, auth: tuple[str, str] | None = None) -> list[list[str]]:
    """A query's rows from a collector's chdb HTTP interface, as TSV fields (asserts HTTP 200)."""
    reply = requests.post(f"http://127.0.0.1:{port}/", data=sql + " FORMAT TSV", auth=auth, timeout=30)
    assert reply.status_code == 200, reply.text
    return [line.split("\t") for line in reply.text.splitlines()]
