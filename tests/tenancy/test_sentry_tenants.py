"""The sentry receiver with tenants: each project belongs to a tenant of the `tenants` extension;
its rows carry that tenant (whatever `tenant.id` tag the SDK sent), and past the tenant's rate
limit the receiver answers as Relay does, 429 with Retry-After and X-Sentry-Rate-Limits, which the
real Python sentry-sdk obeys by pausing every category."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sentry_sdk

from tests.helpers import Collector, free_port, wait_for

ACME_KEY, TINY_KEY = "a" * 32, "b" * 32


def envelope_of(message: str) -> bytes:
    event = {"event_id": "0" * 32, "platform": "python", "level": "error", "message": message,
             "exception": {"values": [{"type": "ValueError", "value": message}]}}
    payload = json.dumps(event).encode()
    return b"\n".join([b"{}", json.dumps({"type": "event", "length": len(payload)}).encode(), payload])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    tmp: Path = tmp_path_factory.mktemp("sentry-tenants")
    port, ch_port = free_port(), free_port()
    config = f"""
extensions:
  tenants:
    tenants:
      acme: {{tokens: [acme-token], internal: true}}
      tiny: {{tokens: [tiny-token], limits: {{records_per_second: 0.001, records_burst: 2}}}}
  chdb:
    path: {tmp / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
receivers:
  sentry:
    endpoint: 127.0.0.1:{port}
    tenants: tenants
    projects:
      - {{id: 1, keys: [{ACME_KEY}], service_name: shop, tenant: acme}}
      - {{id: 2, keys: [{TINY_KEY}], service_name: tiny-shop, tenant: tiny}}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{enabled: false}}
service:
  telemetry: {{metrics: {{level: none}}}}
  extensions: [tenants, chdb]
  pipelines:
    logs: {{receivers: [sentry], exporters: [clickhouse]}}
"""
    with Collector(tmp, config):
        yield port, ch_port


def rows(ch_port: int, sql: str) -> list[list[str]]:
    reply = requests.post(f"http://127.0.0.1:{ch_port}/", data=sql + " FORMAT TSV", timeout=30)
    assert reply.status_code == 200, reply.text
    return [line.split("\t") for line in reply.text.splitlines()]


def test_a_projects_events_carry_its_tenant(gateway: tuple[int, int]) -> None:
    port, ch_port = gateway
    client = sentry_sdk.Client(dsn=f"http://{ACME_KEY}@127.0.0.1:{port}/1", default_integrations=False)
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        scope.set_tag("tenant.id", "tiny")
        try:
            raise ValueError("acme broke")
        except ValueError:
            sentry_sdk.capture_exception()
    client.flush(timeout=10)
    assert wait_for(lambda: rows(ch_port, "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'shop'") == [["1"]])
    assert rows(ch_port, "SELECT TenantId, ResourceAttributes['tenant.id'], ResourceAttributes['tenant.internal'] "
                         "FROM otel.otel_logs WHERE ServiceName = 'shop'") == [["acme", "acme", "true"]]


def test_past_its_limit_a_tenant_gets_relays_429_and_the_sdk_pauses(gateway: tuple[int, int]) -> None:
    port, ch_port = gateway
    url = f"http://127.0.0.1:{port}/api/2/envelope/"
    headers = {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={TINY_KEY}", "Content-Type": "application/x-sentry-envelope"}
    assert [requests.post(url, data=envelope_of(f"tiny {i}"), headers=headers, timeout=30).status_code for i in range(2)] == [200, 200]
    refused = requests.post(url, data=envelope_of("tiny 2"), headers=headers, timeout=30)
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert seconds >= 1
    assert refused.headers["X-Sentry-Rate-Limits"] == f"{seconds}::organization:rate_limited"
    assert "tenant 'tiny' is over its rate limit of records" in refused.json()["detail"]
    assert rows(ch_port, "SELECT TenantId, count() FROM otel.otel_logs WHERE ServiceName = 'tiny-shop' GROUP BY TenantId") \
        == [["tiny", "2"]]
    # the real SDK: its event is answered 429, and it stops sending anything for that long
    client = sentry_sdk.Client(dsn=f"http://{TINY_KEY}@127.0.0.1:{port}/2", default_integrations=False)
    client.capture_event({"message": "one more", "level": "error"})
    client.flush(timeout=10)
    transport = client.transport
    assert transport is not None
    assert transport._check_disabled("error") and transport._check_disabled("transaction")  # every category
