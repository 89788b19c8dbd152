"""Insert throughput into the embedded ClickHouse (chDB) and through its HTTP interface, and
on-disk bytes per span after compression.

    .venv/bin/python perf/storage_bench.py [--rows 200000]

For spans and logs, batch sizes 1k / 8k / 64k: rows/s inserting Summit's Arrow batches (already
decoded, projected to contrib's columns) directly into the engine; through the hub as another
worker process does (`service.workers`: the Arrow IPC file in /dev/shm, the Unix-socket call, the
owner's memory-mapped insert; here both ends run in this process, on the real code path); and
with clickhouse-connect's `insert_arrow` through the chdb extension's HTTP interface (the remote
exporter's path, the alternative for workers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

from corpus import logs_request, trace_request  # noqa: E402

from summitcol.component import ComponentID, CreateSettings, Signal  # noqa: E402
from summitcol.exporters.clickhouse.config import Config as ExporterConfig  # noqa: E402
from summitcol.exporters.clickhouse.exporter import ClickHouseExporter  # noqa: E402
from summitcol.exporters.clickhouse.projection import project  # noqa: E402
from summitcol.extensions.chdb.config import Config as ChdbConfig  # noqa: E402
from summitcol.extensions.chdb.config import HTTPConfig  # noqa: E402
from summitcol.extensions.chdb.extension import ChdbExtension  # noqa: E402
from summitcol.extensions.chdb.writer import HandoffWriter, write_handoff  # noqa: E402
from summitcol.pdata.codec import decode_request  # noqa: E402
from summitcol.service.workers import Hub  # noqa: E402
from summitcol.telemetry import Telemetry  # noqa: E402
from summitcol.worker import HubClient  # noqa: E402

BATCHES = (1_000, 8_000, 64_000)


class Host:
    def __init__(self, extension: ChdbExtension) -> None:
        self.ext = extension

    def extension(self, id_: ComponentID) -> ChdbExtension:
        return self.ext

    def pipelines_ready(self) -> bool:
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000, help="rows per measurement")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="summit-storage-bench-")
    port = 18900 + os.getpid() % 1000
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    settings = CreateSettings(id=ComponentID("chdb"), telemetry=Telemetry())
    extension = ChdbExtension(settings, ChdbConfig(path=os.path.join(root, "ch"), http=HTTPConfig(endpoint=f"127.0.0.1:{port}")))
    run(extension.start(Host(extension)))  # type: ignore[arg-type]
    exporter = ClickHouseExporter(
        CreateSettings(id=ComponentID("clickhouse"), telemetry=Telemetry(), signals=frozenset(Signal)),
        ExporterConfig(storage="chdb"),
    )
    run(exporter.start(Host(extension)))  # type: ignore[arg-type]
    engine = extension.engine
    assert engine is not None
    hub = Hub(os.path.join(root, "hub.sock"), {"extension": extension.serve_worker})
    run(hub.start())
    handoff = HandoffWriter(HubClient(hub.path), "chdb")

    import clickhouse_connect

    client = clickhouse_connect.get_client(host="127.0.0.1", port=port, compress="lz4", autogenerate_session_id=False)
    print(f"{'signal':<6} {'batch':>6} {'embedded rows/s':>16} {'worker handoff rows/s':>22} {'(its /dev/shm write)':>21} "
          f"{'HTTP insert_arrow rows/s':>25}")
    protobuf_bytes = {}
    for signal, make, kind, table in (
        (Signal.TRACES, trace_request, "spans", "otel_traces"),
        (Signal.LOGS, logs_request, "logs", "otel_logs"),
    ):
        for size in BATCHES:
            body = make(size).SerializeToString()
            protobuf_bytes[signal] = len(body) / size
            data, _ = decode_request(signal, body, "proto")
            projected = project(kind, data.tables[kind])
            batches = max(1, args.rows // size)
            start = time.perf_counter()
            for _ in range(batches):
                engine.insert_arrow(f"`otel`.`{table}`", projected)
            embedded = batches * size / (time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(batches):
                handoff.insert("otel", table, projected)
            handed = batches * size / (time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(batches):
                os.unlink(write_handoff(projected))
            written = batches * size / (time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(batches):
                client.insert_arrow(table, projected, database="otel")
            remote = batches * size / (time.perf_counter() - start)
            print(f"{signal.value:<6} {size:>6} {embedded:>16,.0f} {handed:>22,.0f} {written:>21,.0f} {remote:>25,.0f}", flush=True)
    # On-disk size: distinct data (the throughput runs repeat one batch, which compresses unfairly well).
    for signal, make, kind, table in (
        (Signal.TRACES, trace_request, "spans", "otel_traces"),
        (Signal.LOGS, logs_request, "logs", "otel_logs"),
    ):
        engine.command(f"TRUNCATE TABLE otel.{table}")
        for seed in range(8):
            data, _ = decode_request(signal, make(8_000, seed=seed + 100).SerializeToString(), "proto")
            engine.insert_arrow(f"`otel`.`{table}`", project(kind, data.tables[kind]))
        engine.command(f"OPTIMIZE TABLE otel.{table} FINAL")
    for signal, table in ((Signal.TRACES, "otel_traces"), (Signal.LOGS, "otel_logs")):
        rows, disk = engine.query(
            f"SELECT sum(rows), sum(data_compressed_bytes) FROM system.parts WHERE database = 'otel' AND table = '{table}' AND active",
            "TabSeparated",
        ).decode().split()
        print(f"{table}: {int(disk) / int(rows):.1f} bytes/row on disk vs {protobuf_bytes[signal]:.0f} bytes/row as OTLP protobuf "
              f"({protobuf_bytes[signal] / (int(disk) / int(rows)):.1f}x smaller)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    client.close()
    handoff.close()
    run(hub.stop())
    run(exporter.shutdown())
    run(extension.shutdown())
    loop.call_soon_threadsafe(loop.stop)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
