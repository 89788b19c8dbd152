"""Sending-queue cost: acknowledgement latency and throughput of the in-memory queue versus the
persistent (WAL) queue with fsync off and on, and WAL replay speed.

    .venv/bin/python perf/queue_bench.py [--requests 400] [--spans 1000]

The exporter behind the queue accepts instantly, so what is measured is the queue itself: the
time from `consume` (what the receiver awaits before answering OK) to its return.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

from corpus import trace_request  # noqa: E402

from summitcol.component import ComponentID, CreateSettings, Exporter, Signal  # noqa: E402
from summitcol.exporters.helper.config import HelperConfig, QueueConfig  # noqa: E402
from summitcol.exporters.helper.sender import ExporterHelper  # noqa: E402
from summitcol.extensions.file_storage.extension import Config as StorageConfig  # noqa: E402
from summitcol.extensions.file_storage.extension import FileStorage  # noqa: E402
from summitcol.extensions.file_storage.wal import WriteAheadLog  # noqa: E402
from summitcol.pdata import serialize  # noqa: E402
from summitcol.pdata.codec import decode_request  # noqa: E402
from summitcol.telemetry import Telemetry  # noqa: E402


class Instant(Exporter):
    async def consume(self, data) -> None:  # type: ignore[no-untyped-def]
        return None


class Host:
    def __init__(self, storage: FileStorage) -> None:
        self.storage = storage

    def extension(self, id_: ComponentID) -> FileStorage:
        return self.storage

    def pipelines_ready(self) -> bool:
        return True


async def run(kind: str, data, requests: int, root: str) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()),
                          StorageConfig(directory=os.path.join(root, kind), fsync=kind == "wal-fsync"))
    await storage.start(Host(storage))  # type: ignore[arg-type]
    queue = QueueConfig(queue_size=requests * 2, storage="" if kind == "memory" else "file_storage")
    helper = ExporterHelper(Instant(), ComponentID("bench"), Telemetry(), HelperConfig(sending_queue=queue))
    await helper.start(Host(storage))  # type: ignore[arg-type]
    latencies = []
    began = time.perf_counter()
    for _ in range(requests):
        start = time.perf_counter()
        await helper.consume(data)
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - began
    await helper.shutdown()
    await storage.shutdown()
    latencies.sort()
    return data.item_count() * requests / elapsed, statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--spans", type=int, default=1000)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="summit-queue-bench-")
    data, _ = decode_request(Signal.TRACES, trace_request(args.spans).SerializeToString(), "proto")
    print(f"{args.requests} requests of {args.spans} spans; {len(serialize.dumps(data)) / 1e6:.2f} MB per WAL record")
    print(f"{'queue':<12} {'spans/s':>12} {'ack p50 ms':>11} {'ack p99 ms':>11}")
    for kind in ("memory", "wal", "wal-fsync"):
        rate, p50, p99 = asyncio.run(run(kind, data, args.requests, root))
        print(f"{kind:<12} {rate:>12,.0f} {p50:>11.2f} {p99:>11.2f}", flush=True)

    wal_dir = os.path.join(root, "replay")
    wal = WriteAheadLog(wal_dir)
    blob = serialize.dumps(data)
    for _ in range(args.requests):
        wal.append(blob)
    wal.close()
    start = time.perf_counter()
    reopened = WriteAheadLog(wal_dir)
    pending = reopened.pending()
    spans = sum(serialize.loads(reopened.read(seq)).item_count() for seq in pending)
    elapsed = time.perf_counter() - start
    reopened.close()
    print(f"WAL replay: {len(pending)} requests, {spans:,} spans in {elapsed:.2f}s = {spans / elapsed:,.0f} spans/s "
          f"({len(pending) / elapsed:,.0f} requests/s, scan + read + Arrow IPC decode)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
