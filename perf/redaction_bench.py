"""Cost of the `redaction` processor on one core, on the perf corpus (spans with 10–20 semconv
attributes, an email in every `url.full`, an IP in every `client.address`, exception events).

    .venv/bin/python perf/redaction_bench.py [--spans 2000] [--seconds 5]

Prints spans/s for decode alone, redaction alone (contrib rules; full PII set), and decode +
redaction, and the cost of the full PII set as a share of the decode → redaction path.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(__file__))

from corpus import logs_request, trace_request  # noqa: E402
from decode_bench import rate  # noqa: E402

from summitcol.component import Signal  # noqa: E402
from summitcol.pdata.codec import decode_request  # noqa: E402
from summitcol.processors.redaction import Config, PIIConfig, Redactor  # noqa: E402

CONTRIB_RULES = Config(allow_all_keys=True, blocked_values=["4[0-9]{12}(?:[0-9]{3})?", "(5[1-5][0-9]{14})"], summary="info")
FULL_PII = Config(allow_all_keys=True, pii=PIIConfig())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=2000, help="records per request")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    args = parser.parse_args()
    n = args.spans
    proto = trace_request(n).SerializeToString()
    data, _ = decode_request(Signal.TRACES, proto, "proto")
    logs = logs_request(n).SerializeToString()
    log_data, _ = decode_request(Signal.LOGS, logs, "proto")
    contrib, pii = Redactor(CONTRIB_RULES), Redactor(FULL_PII)
    print(f"request: {n} spans; {sum(len(v) for v in data.tables['spans'].column('SpanAttributes').to_pylist()) / n:.1f} attributes/span")
    print(f"{'path':<44} {'throughput':>12}")
    decode = rate("traces: protobuf → Arrow", n, lambda: decode_request(Signal.TRACES, proto, "proto"), args.seconds)
    rate("traces: redaction, contrib rules only", n, lambda: contrib.apply(data), args.seconds)
    rate("traces: redaction, full PII set", n, lambda: pii.apply(data), args.seconds)
    both = rate(
        "traces: protobuf → Arrow → redaction (full PII)",
        n,
        lambda: pii.apply(decode_request(Signal.TRACES, proto, "proto")[0]),
        args.seconds,
    )
    print(f"full PII set costs {100 * (1 - both / decode):.1f}% of decode throughput")
    log_decode = rate("logs: protobuf → Arrow", n, lambda: decode_request(Signal.LOGS, logs, "proto"), args.seconds)
    rate("logs: redaction, full PII set", n, lambda: pii.apply(log_data), args.seconds)
    log_both = rate("logs: protobuf → Arrow → redaction (full PII)", n, lambda: pii.apply(decode_request(Signal.LOGS, logs, "proto")[0]), args.seconds)
    print(f"full PII set costs {100 * (1 - log_both / log_decode):.1f}% of log decode throughput")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
