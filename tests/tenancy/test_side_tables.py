"""Summit's own tables carry the tenant too: error occurrences (`events_error_v1`, from the
fingerprint processor, via the rows' resources; each tenant's errors grouped apart), a CI receiver's build rows (`metrics_build_v1`,
from the webhook's credential) and build rows the exporter derives from CI spans, split by tenant
when one batch holds several, and keyed by tenant so one tenant's run never replaces another's."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import partial
from pathlib import Path

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.cicd.test_spans import SEMCONV_RESOURCE, _kv
from tests.helpers import Collector, chdb_rows, free_port, wait_for

DATA = Path(__file__).resolve().parent.parent / "data/cicd/github"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def ci_run(span_id: int) -> bytes:
    """The root span of a CI run (semantic conventions: cicd.pipeline.*), run 120912."""
    now = time.time_ns()
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(_kv(SEMCONV_RESOURCE))
    span = trace_pb2.Span(name="BUILD Build and Test", trace_id=bytes(range(16)), span_id=span_id.to_bytes(8, "big"),
                          kind=trace_pb2.Span.SPAN_KIND_SERVER, start_time_unix_nano=now - 10**9, end_time_unix_nano=now,
                          attributes=_kv({"cicd.pipeline.result": "success", "cicd.pipeline.action.name": "BUILD"}))
    resource_spans.scope_spans.add().spans.append(span)
    return request.SerializeToString()


def failing_span(service: str) -> bytes:
    now = time.time_ns()
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(_kv({"service.name": service, "tenant.id": "globex"}))
    span = trace_pb2.Span(name="checkout", trace_id=bytes(range(1, 17)), span_id=(7).to_bytes(8, "big"),
                          start_time_unix_nano=now - 10**6, end_time_unix_nano=now)
    event = span.events.add(name="exception", time_unix_nano=now)
    event.attributes.extend(_kv({"exception.type": "ValueError", "exception.message": "order 7 has no items",
                                 "exception.stacktrace": 'Traceback (most recent call last):\n  File "shop.py", line 3, '
                                                         'in checkout\nValueError: order 7 has no items'}))
    resource_spans.scope_spans.add().spans.append(span)
    return request.SerializeToString()


def test_error_rows_and_build_rows_carry_their_tenant(tmp_path: Path) -> None:
    http_port, hook_port, ch_port = free_port(), free_port(), free_port()
    config = f"""
extensions:
  tenants:
    tenants:
      acme: {{tokens: [acme-token]}}
      globex: {{tokens: [globex-token]}}
  chdb:
    path: {tmp_path / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{http_port}", auth: {{authenticator: tenants}}}}
  github:
    webhook:
      endpoint: 127.0.0.1:{hook_port}
      secret: hook-secret
      auth: {{authenticator: tenants}}
processors:
  batch: {{timeout: 2s}}
  fingerprint: {{storage: chdb}}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{enabled: false}}
service:
  extensions: [tenants, chdb]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [fingerprint, batch], exporters: [clickhouse]}}
    traces/hooks: {{receivers: [github], exporters: [clickhouse]}}
"""

    def post(token: str, body: bytes) -> int:
        return requests.post(f"http://127.0.0.1:{http_port}/v1/traces", data=body,
                             headers={**PROTOBUF, "Authorization": f"Bearer {token}"}, timeout=30).status_code

    query = partial(chdb_rows, ch_port)

    with Collector(tmp_path, config):
        # two tenants' runs with the same run id, in one batch (the batch processor's 2 s)
        assert [post("acme-token", ci_run(1)), post("globex-token", ci_run(2)), post("acme-token", failing_span("shop")),
                post("globex-token", failing_span("shop"))] == [200, 200, 200, 200]
        body = (DATA / "job-build-completed.json").read_bytes()
        signature = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        reply = requests.post(f"http://127.0.0.1:{hook_port}/events", data=body, timeout=30, headers={
            "X-GitHub-Event": "workflow_job", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": signature,
            "Content-Type": "application/json", "Authorization": "Bearer globex-token"})
        assert reply.status_code == 200

        runs = "SELECT TenantId, RunId, Provider FROM otel.metrics_build_v1 FINAL WHERE Level = 'run' ORDER BY TenantId"
        assert wait_for(lambda: len(query(runs)) == 2, timeout=30), query(runs)
        assert query(runs) == [["acme", "120912", "otel"], ["globex", "120912", "otel"]]
        assert query("SELECT DISTINCT TenantId, Provider FROM otel.metrics_build_v1 FINAL WHERE Provider = 'github'") \
            == [["globex", "github"]]
        errors = ("SELECT TenantId, ServiceName, ExceptionType, count(), any(Fingerprint), any(GroupId) "
                  "FROM otel.events_error_v1 GROUP BY ALL ORDER BY TenantId")
        assert wait_for(lambda: len(query(errors)) == 2, timeout=30)
        (acme, globex) = query(errors)
        assert (acme[:4], globex[:4]) == (["acme", "shop", "ValueError", "1"], ["globex", "shop", "ValueError", "1"])
        # the same bug in two tenants is two issues: their own fingerprints and groups, decided per tenant
        assert acme[4] != globex[4] and acme[5] != globex[5]
        assert query("SELECT TenantId, GroupId FROM otel.error_fingerprints ORDER BY TenantId") == [["acme", acme[5]], ["globex", globex[5]]]
