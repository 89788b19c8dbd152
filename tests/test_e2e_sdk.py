"""End to end with the official OpenTelemetry Python SDK exporters against a running summitcol.

The SDK sends 10,000 spans, 10,000 log records and a counter, a histogram and a gauge over
OTLP/gRPC or OTLP/HTTP (protobuf); the `file` exporter's output must hold exactly those records,
field for field: each span and log record is compared with the SDK's own OTLP encoding of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from summitcol.pdata.logs import logs_from_otlp, logs_to_otlp
from summitcol.pdata.metrics import metrics_from_otlp, metrics_to_otlp
from summitcol.pdata.traces import traces_from_otlp, traces_to_otlp
from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml
from tests.sdk_client import assert_stored_exactly, send_with_sdk

N_SPANS = 10_000
N_LOGS = 10_000


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_records_arrive_intact(tmp_path: Path, transport: str) -> None:
    grpc_port, http_port = free_port(), free_port()
    out = tmp_path / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
processors:
  batch:
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "batch", "file")}
"""
    with Collector(tmp_path, config) as collector:
        sent_spans, sent_logs, sent_metrics = send_with_sdk(transport, grpc_port, http_port, N_SPANS, N_LOGS)
        assert collector.stop() == 0

    # The Arrow model is lossless for exactly what the SDK sent.
    assert traces_to_otlp(traces_from_otlp(sent_spans)[0]) == sent_spans
    assert logs_to_otlp(logs_from_otlp(sent_logs)[0]) == sent_logs
    assert metrics_to_otlp(metrics_from_otlp(sent_metrics)[0]) == sent_metrics

    assert_stored_exactly(read_file_export(out), sent_spans, sent_logs, N_SPANS, N_LOGS)
