"""What the alternative to SO_REUSEPORT workers would pay: one receive process handing each
request's bytes to decode workers over a pipe.

    .venv/bin/python perf/workers_bench.py [--seconds 4]

Sends pre-serialized 500-span OTLP requests (perf/corpus.py) from this process to a child over a
multiprocessing pipe (what a receive process would do per request, after gRPC gave it the bytes)
and reports requests/s, spans/s, the sender's CPU per request and the copy rate. For comparison it
prints the C decoder's time for the same request: with SO_REUSEPORT the worker that accepted the
connection decodes it, and the bytes cross no process boundary.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from corpus import trace_request  # noqa: E402

from summitcol.component import Signal  # noqa: E402
from summitcol.pdata.codec import decode_request  # noqa: E402

SPANS = 500


def _drain(conn) -> None:  # type: ignore[no-untyped-def]
    received = 0
    while True:
        data = conn.recv_bytes()
        if not data:
            break
        received += 1
    conn.send(received)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    body = trace_request(SPANS).SerializeToString()
    parent, child = multiprocessing.Pipe()
    reader = multiprocessing.get_context("spawn").Process(target=_drain, args=(child,))
    reader.start()
    sent = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < args.seconds:
        parent.send_bytes(body)
        sent += 1
    parent.send_bytes(b"")
    elapsed, cpu_used = time.perf_counter() - wall, time.process_time() - cpu
    assert parent.recv() == sent
    reader.join()
    decode_start = time.perf_counter()
    decodes = 0
    while time.perf_counter() - decode_start < args.seconds / 2:
        decode_request(Signal.TRACES, body, "proto")
        decodes += 1
    decode_ms = (time.perf_counter() - decode_start) / decodes * 1000
    print(f"request: {SPANS} spans, {len(body) / 1024:.0f} KiB of OTLP protobuf")
    print(f"pipe to a decode worker: {sent / elapsed:,.0f} requests/s = {sent * SPANS / elapsed:,.0f} spans/s, "
          f"{len(body) * sent / elapsed / 1e6:,.0f} MB/s, sender CPU {cpu_used / sent * 1000:.3f} ms per request")
    print(f"C decode of the same request: {decode_ms:.2f} ms ({SPANS / decode_ms * 1000:,.0f} spans/s per core)")


if __name__ == "__main__":
    main()
