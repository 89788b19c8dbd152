"""Release health and client reports from the real Python `sentry-sdk` → a real collector (sentry
receiver → clickhouse on chDB): application-mode sessions (healthy, errored, crashed) and
request-mode aggregates land as exact `sentry.sessions` counts in otel_metrics_sum, from which the
crash-free rate is one SQL expression; an event the SDK drops in `before_send` arrives as a client
report and is counted by reason and category."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sentry_sdk
from sentry_sdk.sessions import track_session

from tests.helpers import Collector, free_port, wait_for

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    tmp = tmp_path_factory.mktemp("sentry-sessions")
    ports = {name: free_port() for name in ("sentry", "chdb", "metrics")}
    config = f"""
receivers:
  sentry:
    endpoint: 127.0.0.1:{ports['sentry']}
    projects:
      - {{id: 7, keys: [{KEY}], service_name: shop}}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{enabled: false}}
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ports['chdb']}"}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:{ports['metrics']}"}}}}
  extensions: [chdb]
  pipelines:
    logs: {{receivers: [sentry], exporters: [clickhouse]}}
    metrics: {{receivers: [sentry], exporters: [clickhouse]}}
"""
    running = Collector(tmp, config).start()
    try:
        yield ports
    finally:
        assert running.stop() == 0, running.log()


def rows(ports: dict[str, int], sql: str) -> list[list[str]]:
    reply = requests.post(f"http://127.0.0.1:{ports['chdb']}/", data=sql + " FORMAT TSV", timeout=30)
    assert reply.status_code == 200, reply.text
    return [line.split("\t") for line in reply.text.splitlines()]


def client(ports: dict[str, int], **options: Any) -> sentry_sdk.Client:
    return sentry_sdk.Client(dsn=f"http://{KEY}@127.0.0.1:{ports['sentry']}/7", release="shop@2.0.0",
                             environment="staging", default_integrations=False, **options)


def test_sessions_become_release_health_counts(collector: dict[str, int]) -> None:
    sdk = client(collector)
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(sdk)
        scope.start_session(session_mode="application")  # 1: ends cleanly
        scope.end_session()
        scope.start_session(session_mode="application")  # 2: a handled error
        try:
            raise ValueError("handled")
        except ValueError:
            sentry_sdk.capture_exception()
        scope.end_session()
        scope.start_session(session_mode="application")  # 3: crashes
        scope._session.update(status="crashed")  # noqa: SLF001 - what an unhandled error does to it
        scope.end_session()
        for _ in range(2):  # request mode: aggregated per minute into one `sessions` item
            with track_session(scope, session_mode="request"):
                pass
    sdk.flush(timeout=10)
    query = ("SELECT Attributes['session.status'], toInt64(sum(Value)) FROM otel.otel_metrics_sum "
             "WHERE MetricName = 'sentry.sessions' AND ResourceAttributes['service.version'] = 'shop@2.0.0' "
             "AND ResourceAttributes['deployment.environment.name'] = 'staging' GROUP BY 1 ORDER BY 1")
    expected = [["crashed", "1"], ["errored", "1"], ["healthy", "3"], ["started", "5"]]
    assert wait_for(lambda: rows(collector, query) == expected, timeout=30), rows(collector, query)
    crash_free = ("SELECT 1 - sumIf(Value, Attributes['session.status'] = 'crashed') / "
                  "sumIf(Value, Attributes['session.status'] = 'started') FROM otel.otel_metrics_sum "
                  "WHERE MetricName = 'sentry.sessions' AND ResourceAttributes['service.version'] = 'shop@2.0.0'")
    assert rows(collector, crash_free) == [["0.8"]]
    assert rows(collector, "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'shop'") == [["1"]]


def test_events_an_sdk_drops_are_counted_from_its_client_reports(collector: dict[str, int]) -> None:
    sdk = client(collector, before_send=lambda event, hint: None if event.get("message") == "drop me" else event)
    for _ in range(3):
        sdk.capture_event({"message": "drop me", "level": "error"})
    sdk.capture_event({"message": "keep me", "level": "error"})  # an envelope for the report to ride along
    sdk.flush(timeout=10)

    def discarded() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{collector['metrics']}/metrics", timeout=10) as response:
            text = response.read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("summitcol_receiver_sentry_client_discarded_total{")
                   and 'reason="before_send"' in line and 'category="error"' in line)

    assert wait_for(lambda: discarded() == 3, timeout=30), discarded()
