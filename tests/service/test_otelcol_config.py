"""An otelcol config using only otlp, batch, debug, file and health_check runs unchanged, and the
collector's self-metrics and health endpoint answer like otelcol's."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.helpers import Collector, free_port, read_file_export, spans_by_id, wait_for

# Written the way the OpenTelemetry Collector's docs write it (only the ports are made free ones).
OTELCOL_CONFIG = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}

processors:
  batch:
    send_batch_size: 10000
    timeout: 1s

exporters:
  debug:
    verbosity: detailed
    sampling_initial: 5
    sampling_thereafter: 200
  file:
    path: {out}

extensions:
  health_check:
    endpoint: 127.0.0.1:{health}

service:
  extensions: [health_check]
  telemetry:
    logs:
      level: info
    metrics:
      level: detailed
      address: 127.0.0.1:{metrics}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug, file]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
"""


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_otelcol_config_runs_unchanged(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("grpc", "http", "health", "metrics")}
    out = tmp_path / "traces.json"
    collector = Collector(tmp_path, OTELCOL_CONFIG.format(out=out, **ports)).start()
    try:
        status, body = get(f"http://127.0.0.1:{ports['health']}/")
        assert status == 200 and json.loads(body)["status"] == "Server available"

        provider = TracerProvider(resource=Resource.create({"service.name": "otelcol-compat"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"127.0.0.1:{ports['grpc']}", insecure=True)))
        for i in range(3):
            with provider.get_tracer("compat").start_as_current_span(f"compat-{i}"):
                pass
        provider.shutdown()

        def exported() -> bool:  # the batch processor acknowledges on receipt and flushes after
            text = get(f"http://127.0.0.1:{ports['metrics']}/metrics")[1].decode()
            return 'otelcol_exporter_sent_spans_total{exporter="file"} 3.0' in text and 'otelcol_exporter_sent_spans_total{exporter="debug"} 3.0' in text

        assert wait_for(exported, timeout=20)
        status, body = get(f"http://127.0.0.1:{ports['metrics']}/metrics")
        assert status == 200
        text = body.decode()
        assert 'otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"} 3.0' in text
        assert 'otelcol_exporter_sent_spans_total{exporter="file"} 3.0' in text
        assert 'otelcol_exporter_sent_spans_total{exporter="debug"} 3.0' in text
        assert 'otelcol_receiver_refused_spans_total' in text
        rss = next(line for line in text.splitlines() if line.startswith("otelcol_process_memory_rss "))
        assert float(rss.split()[1]) > 10_000_000
    finally:
        assert collector.stop() == 0
    log = collector.log()
    # one line per batch the debug exporter saw: the three one-span requests arrive within the
    # batch timeout, so usually in one batch (three resources, as three requests carried them)
    assert any(f'"resource spans": {r}, "spans": {r}' in log for r in (1, 2, 3)), log
    assert '"name": "compat-0"' in log  # detailed verbosity prints every field
    assert sorted(s.name for s, _, _ in spans_by_id(read_file_export(out)[ExportTraceServiceRequest]).values()) == [
        "compat-0", "compat-1", "compat-2"
    ]
