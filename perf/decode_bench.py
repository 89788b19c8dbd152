"""Decode throughput on one core: OTLP bytes → Arrow (protobuf and JSON), and Arrow → OTLP.

    .venv/bin/python perf/decode_bench.py [--spans 2000] [--seconds 5]

Prints spans/s (or log records/s) for each path, per core (one thread), and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from corpus import logs_request, trace_request  # noqa: E402

from summitcol.component import Signal  # noqa: E402
from summitcol.pdata import otlp_json  # noqa: E402
from summitcol.pdata.codec import decode_request, encode_request  # noqa: E402
from summitcol.pdata.logs import logs_from_otlp  # noqa: E402
from summitcol.pdata.traces import traces_from_otlp  # noqa: E402


def rate(label: str, items: int, fn, seconds: float) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        done += items
    per_s = done / (time.perf_counter() - start)
    print(f"{label:<44} {per_s:>12,.0f} /s per core", flush=True)
    return per_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=2000, help="records per request")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    args = parser.parse_args()
    n = args.spans

    traces = trace_request(n)
    proto = traces.SerializeToString()
    json_body = otlp_json.dumps(traces)
    data, _ = decode_request(Signal.TRACES, proto, "proto")
    logs_message = logs_request(n)
    logs_type = type(logs_message)
    logs = logs_message.SerializeToString()
    print(f"request: {n} spans, {len(proto) / n:.0f} B/span protobuf, {len(json_body) / n:.0f} B/span JSON")
    print(f"{'path':<44} {'throughput':>12}")
    rate("upb parse only (protobuf, no Arrow)", n, lambda: type(traces).FromString(proto), args.seconds)
    rate("traces: protobuf → Arrow (C decoder)", n, lambda: decode_request(Signal.TRACES, proto, "proto"), args.seconds)
    rate("traces: protobuf → Arrow (Python decoder)", n, lambda: traces_from_otlp(type(traces).FromString(proto)), args.seconds)
    rate("traces: OTLP/JSON → Arrow", n, lambda: decode_request(Signal.TRACES, json_body, "json"), args.seconds)
    rate("traces: Arrow → protobuf (OTLP exporters)", n, lambda: encode_request(data, "proto"), args.seconds)
    rate("logs: protobuf → Arrow (C decoder)", n, lambda: decode_request(Signal.LOGS, logs, "proto"), args.seconds)
    rate("logs: protobuf → Arrow (Python decoder)", n, lambda: logs_from_otlp(logs_type.FromString(logs)), args.seconds)
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
