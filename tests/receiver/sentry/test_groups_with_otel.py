"""One bug, reported by both SDKs an application may carry: the same Python exception recorded on
a span by the OpenTelemetry SDK (OTLP) and captured by the Sentry SDK (sentry receiver) lands in
one error group, since the sentry receiver renders Sentry's frames as the traceback Python prints
and the `fingerprint` processor groups both the same way."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import sentry_sdk
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.helpers import Collector, chdb_rows, free_port, wait_for

KEY = "cd" * 16


class PaymentError(Exception):
    pass


def charge(order: int) -> None:
    raise PaymentError(f"card declined for order {order}")


def pay(order: int) -> None:
    charge(order)


def test_the_same_bug_from_both_sdks_is_one_group(tmp_path: Path) -> None:
    http_port, sentry_port, ch_port = free_port(), free_port(), free_port()
    config = f"""
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{http_port}"}}
  sentry:
    endpoint: 127.0.0.1:{sentry_port}
    projects:
      - {{id: 9, keys: [{KEY}], service_name: payments}}
processors:
  fingerprint: {{storage: chdb}}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{enabled: false}}
extensions:
  chdb:
    path: {tmp_path / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
service:
  telemetry: {{metrics: {{level: none}}}}
  extensions: [chdb]
  pipelines:
    traces: {{receivers: [otlp], processors: [fingerprint], exporters: [clickhouse]}}
    logs: {{receivers: [sentry], processors: [fingerprint], exporters: [clickhouse]}}
"""

    rows = partial(chdb_rows, ch_port)

    with Collector(tmp_path, config):
        provider = TracerProvider(resource=Resource.create({"service.name": "payments"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"http://127.0.0.1:{http_port}/v1/traces")))
        with provider.get_tracer("payments").start_as_current_span("pay") as span:
            try:
                pay(41)
            except PaymentError as exc:
                span.record_exception(exc)
        provider.shutdown()
        client = sentry_sdk.Client(dsn=f"http://{KEY}@127.0.0.1:{sentry_port}/9", default_integrations=False)
        with sentry_sdk.isolation_scope() as scope:
            scope.set_client(client)
            try:
                pay(42)
            except PaymentError:
                sentry_sdk.capture_exception()
        client.flush(timeout=10)
        query = "SELECT Source, ExceptionType, Fingerprint, GroupId FROM otel.events_error_v1 WHERE ServiceName = 'payments' ORDER BY Source"
        assert wait_for(lambda: len(rows(query)) == 2, timeout=30), rows(query)
        found = rows(query)
    # the OpenTelemetry SDK names the type with its module, Sentry's event without
    assert [(source, kind) for source, kind, _, _ in found] == [
        ("log", "PaymentError"), ("span_event", "tests.receiver.sentry.test_groups_with_otel.PaymentError")]
    assert found[0][2] == found[1][2] and found[0][3] == found[1][3], found  # one fingerprint, one group
