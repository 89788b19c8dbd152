"""A tenant's own retention: the clickhouse exporter (with `tenants`) gives each table one TTL
rule per such tenant and the table's TTL for the others, and rows already past their tenant's
TTL are not inserted (counted as expired), while another tenant's rows of the same age are."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.exporters.clickhouse.schema import ttl_clause
from tests.helpers import Collector, free_port

DAY_NS = 86_400 * 10**9


def aged(days: int, service: str) -> bytes:
    at = time.time_ns() - days * DAY_NS
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.add(key="service.name").value.string_value = service
    resource.scope_spans.add().spans.add(trace_id=bytes(range(1, 17)), span_id=b"\x01" * 8, name="old",
                                        start_time_unix_nano=at, end_time_unix_nano=at + 1000)
    return request.SerializeToString()


def test_ttl_rules_per_tenant() -> None:
    assert ttl_clause("toDateTime(Timestamp)", timedelta(days=3), {"acme": timedelta(days=30), "keep": timedelta(0)}) == (
        "TTL toDateTime(Timestamp) + toIntervalDay(3) WHERE TenantId NOT IN ('acme', 'keep'), "
        "toDateTime(Timestamp) + toIntervalDay(30) WHERE TenantId = 'acme'")
    assert ttl_clause("toDateTime(Timestamp)", timedelta(0), {"acme": timedelta(hours=36)}) == \
        "TTL toDateTime(Timestamp) + toIntervalHour(36) WHERE TenantId = 'acme'"
    assert ttl_clause("toDateTime(Timestamp)", timedelta(days=3)) == "TTL toDateTime(Timestamp) + toIntervalDay(3)"


def test_each_tenant_keeps_its_rows_for_its_own_retention(tmp_path: Path) -> None:
    http_port, ch_port = free_port(), free_port()
    config = f"""
extensions:
  tenants:
    tenants:
      acme: {{tokens: [acme-token], retention: 720h}}
      globex: {{tokens: [globex-token]}}
      keep: {{tokens: [keep-token], retention: 0s}}
  chdb:
    path: {tmp_path / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{http_port}", auth: {{authenticator: tenants}}}}
exporters:
  clickhouse:
    storage: chdb
    ttl: 72h
    tenants: tenants
    sending_queue: {{enabled: false}}
service:
  extensions: [tenants, chdb]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [clickhouse]}}
"""

    def query(sql: str) -> str:
        reply = requests.post(f"http://127.0.0.1:{ch_port}/", data=sql + " FORMAT TSVRaw", timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.text.strip()

    with Collector(tmp_path, config):
        for tenant, days in (("acme", 10), ("globex", 10), ("globex", 1), ("keep", 40)):
            reply = requests.post(f"http://127.0.0.1:{http_port}/v1/traces", data=aged(days, f"svc-{tenant}-{days}"),
                                  headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {tenant}-token"},
                                  timeout=30)
            assert reply.status_code == 200
        assert query("SELECT TenantId, ServiceName FROM otel.otel_traces ORDER BY ALL").splitlines() == [
            "acme\tsvc-acme-10", "globex\tsvc-globex-1", "keep\tsvc-keep-40"]  # globex's 10-day-old span: past 72h
        engine = query("SELECT engine_full FROM system.tables WHERE database = 'otel' AND name = 'otel_traces'")
        assert ("TTL toDateTime(Timestamp) + toIntervalDay(3) WHERE TenantId NOT IN ('acme', 'keep'), "
                "toDateTime(Timestamp) + toIntervalDay(30) WHERE TenantId = 'acme' SETTINGS") in engine
