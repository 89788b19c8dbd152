"""Resident memory of the collector `make run` starts (config/default.yaml, default workers): idle
after start, at its peak under a burst of traffic, and idle again after it (issue #12 item 16).

    .venv/bin/python perf/idle_rss.py [--requests 400] [--settle 15] [--pool mimalloc]

Ports and the data directory are private to the run. `--pool` sets ARROW_DEFAULT_MEMORY_POOL for
the collector (to compare with the allocator it used before). Prints one line per phase: the
collector's total and each process's RSS (anonymous memory in brackets) in MiB.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc

from perf.corpus import logs_request, trace_request

ROOT = Path(__file__).resolve().parent.parent
TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            children = [int(p) for p in fh.read().split()]
    except OSError:
        return [pid]
    return [pid, *(q for child in children for q in _tree(child))]


def _rss(pid: int) -> tuple[int, int]:
    """(RSS, anonymous) of one process in MiB."""
    values = {"Rss": 0, "Anonymous": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                key = line.split(":")[0]
                if key in values:
                    values[key] = int(line.split()[1]) // 1024
    except OSError:
        pass
    return values["Rss"], values["Anonymous"]


def snapshot(pid: int) -> str:
    parts = [_rss(p) for p in _tree(pid)]
    each = " + ".join(f"{rss} ({anon})" for rss, anon in parts)
    return f"{sum(r for r, _ in parts)} MiB = {each}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="500-record requests per signal in the burst")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to wait after start and after the burst")
    parser.add_argument("--pool", default="", help="ARROW_DEFAULT_MEMORY_POOL for the collector")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="idle-rss-"))
    grpc_port = _free_port()
    env = {
        **os.environ,
        "SUMMIT_DATA_DIR": str(tmp),
        "SUMMIT_GRPC_ENDPOINT": f"127.0.0.1:{grpc_port}",
        "SUMMIT_HTTP_ENDPOINT": f"127.0.0.1:{_free_port()}",
        "SUMMIT_CLICKHOUSE_HTTP": f"127.0.0.1:{_free_port()}",
        "PYTHONUNBUFFERED": "1",
    }
    if args.pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = args.pool
    config = (ROOT / "config" / "default.yaml").read_text()
    config = config.replace("localhost:13133", f"127.0.0.1:{_free_port()}").replace("localhost:8888", f"127.0.0.1:{_free_port()}")
    (tmp / "config.yaml").write_text(config)
    log_path = tmp / "collector.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "summitcol", "--config", str(tmp / "config.yaml")], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
    try:
        while "Everything is ready" not in log_path.read_text(errors="replace"):
            if proc.poll() is not None:
                raise SystemExit(log_path.read_text(errors="replace"))
            time.sleep(0.2)
        time.sleep(args.settle)
        print(f"idle after start:  {snapshot(proc.pid)}", flush=True)

        peak = [0, ""]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                line = snapshot(proc.pid)
                total = int(line.split()[0])
                if total > peak[0]:
                    peak[0], peak[1] = total, line
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        bodies = [(TRACES, trace_request(500, seed=i).SerializeToString()) for i in range(8)]
        bodies += [(LOGS, logs_request(500, seed=i).SerializeToString()) for i in range(8)]

        def client(index: int) -> None:  # one connection each: SO_REUSEPORT spreads them over the workers
            channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[("grpc.use_local_subchannel_pool", 1)])
            for n in range(index, args.requests * 2, 4):
                method, body = bodies[n % len(bodies)]
                channel.unary_unary(method)(body, timeout=60)
            channel.close()

        started = time.monotonic()
        clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        print(f"burst: {args.requests * 500:,} spans + {args.requests * 500:,} logs in {time.monotonic() - started:.1f} s", flush=True)
        time.sleep(args.settle)
        done.set()
        sampler.join()
        print(f"peak under load:   {peak[1]}", flush=True)
        print(f"idle after load:   {snapshot(proc.pid)}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)


if __name__ == "__main__":
    main()
