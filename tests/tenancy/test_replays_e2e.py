"""Session replays through a running collector (sentry receiver → clickhouse on chDB), sampled
per tenant: every replay of an internal tenant kept, 10% of another's (exactly the ids the
sampling keeps, each whole), a tenant's own percentage winning; a replay's segments come back
complete, in order and byte for byte, under their tenant."""

from __future__ import annotations

import json
import uuid
import zlib
from functools import partial
from pathlib import Path

import requests

from summitcol.sentry.replays import kept
from tests.helpers import Collector, chdb_rows, free_port, wait_for
from tests.sentry.test_replays import envelope

KEYS = {"internal": "a1" * 16, "external": "b2" * 16, "half": "c3" * 16}


def test_replays_are_sampled_per_tenant_and_come_back_in_order(tmp_path: Path) -> None:
    port, ch_port = free_port(), free_port()
    config = f"""
extensions:
  tenants:
    tenants:
      staff: {{tokens: [s], internal: true}}
      customers: {{tokens: [c]}}
      trial: {{tokens: [t], replay_sampling_percentage: 50}}
  chdb:
    path: {tmp_path / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
receivers:
  sentry:
    endpoint: 127.0.0.1:{port}
    tenants: tenants
    projects:
      - {{id: 1, keys: [{KEYS['internal']}], service_name: admin-ui, tenant: staff}}
      - {{id: 2, keys: [{KEYS['external']}], service_name: shop-ui, tenant: customers}}
      - {{id: 3, keys: [{KEYS['half']}], service_name: trial-ui, tenant: trial}}
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
    sent: dict[str, dict[str, list[bytes]]] = {name: {} for name in KEYS}

    query = partial(chdb_rows, ch_port)

    with Collector(tmp_path, config):
        for name, project, count in (("internal", 1, 10), ("external", 2, 40), ("half", 3, 20)):
            for _ in range(count):
                rid = uuid.uuid4().hex
                sent[name][rid] = []
                for segment in range(3):
                    recording = zlib.compress(json.dumps([{"type": 3, "data": {"segment": segment}, "timestamp": segment}]).encode())
                    sent[name][rid].append(recording)
                    reply = requests.post(f"http://127.0.0.1:{port}/api/{project}/envelope/", data=envelope(rid, segment, recording),
                                          headers={"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={KEYS[name]}"}, timeout=30)
                    assert reply.status_code == 200, reply.text
        expected = {("staff", rid) for rid in sent["internal"]} | \
            {("customers", rid) for rid in sent["external"] if kept(rid, 10)} | \
            {("trial", rid) for rid in sent["half"] if kept(rid, 50)}
        segments = "SELECT TenantId, ReplayId, count() FROM otel.replay_segments_v1 FINAL GROUP BY ALL"
        assert wait_for(lambda: len(query(segments)) == len(expected), timeout=30), query(segments)
        assert {(tenant, rid) for tenant, rid, n in query(segments)} == expected
        assert {n for _, _, n in query(segments)} == {"3"}  # never a part of a replay
        assert {(tenant, rid) for tenant, rid, n in query("SELECT TenantId, ReplayId, count() FROM otel.replays_v1 GROUP BY ALL")} \
            == expected
        rid = next(iter(sent["internal"]))
        data = query(f"SELECT SegmentId, hex(Data), Encoding FROM otel.replay_segments_v1 FINAL WHERE ReplayId = '{rid}' ORDER BY SegmentId")
        assert data == [[str(i), recording.hex().upper(), "zlib"] for i, recording in enumerate(sent["internal"][rid])]
