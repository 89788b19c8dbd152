"""A real collector (`summitcol`, github receiver → clickhouse exporter → embedded chDB): a
workflow run with three jobs, a queued-then-started-then-finished job, a cancelled job, a skipped
step, a re-run, a deployment and a push, posted as GitHub would, land as exact rows."""

from __future__ import annotations

import hashlib
import hmac
import urllib.request
from pathlib import Path

import clickhouse_connect
import pytest

from tests.helpers import Collector, free_port, wait_for

DATA = Path(__file__).resolve().parent.parent / "data" / "cicd" / "github"
SECRET = "e2e-secret"
DELIVERIES = [  # (event, fixture), in the order GitHub would send them
    ("workflow_run", "run-attempt1-in_progress.json"),
    ("workflow_job", "job-build-completed.json"),
    ("workflow_job", "job-test-queued.json"),
    ("workflow_job", "job-test-in_progress.json"),
    ("workflow_job", "job-lint-cancelled.json"),
    ("workflow_job", "job-test-completed.json"),
    ("workflow_run", "run-attempt1-completed.json"),
    ("workflow_run", "run-attempt2-completed.json"),
    ("workflow_job", "job-test-attempt2-completed.json"),
    ("deployment", "deployment.json"),
    ("deployment_status", "deployment_status-success.json"),
]
LAST = ("push", "push.json")  # waited for: it lands after everything before it


def deliver(url: str, event: str, body: bytes, delivery: str) -> int:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature,
        "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("webhook-e2e")
    hook_port, ch_port = free_port(), free_port()
    config = f"""
receivers:
  github:
    webhook:
      endpoint: 127.0.0.1:{hook_port}
      secret: {SECRET}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{num_consumers: 1}}  # in order, so rows before the last delivery are in when it is
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
service:
  telemetry: {{metrics: {{level: none}}}}
  extensions: [chdb]
  pipelines:
    traces: {{receivers: [github], exporters: [clickhouse]}}
"""
    running = Collector(tmp, config).start()
    try:
        yield f"http://127.0.0.1:{hook_port}/events", clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
    finally:
        assert running.stop() == 0, running.log()


def test_a_run_with_three_jobs_a_re_run_a_deployment_and_a_push(collector) -> None:  # type: ignore[no-untyped-def]
    url, client = collector
    for index, (event, name) in enumerate(DELIVERIES):
        assert deliver(url, event, (DATA / name).read_bytes(), f"guid-{index}") == 200
    assert deliver(url, "workflow_job", (DATA / "job-test-completed.json").read_bytes(), "guid-5") == 200  # a redelivery
    # old deliveries replayed after newer ones, under ids Summit no longer remembers (GitHub's
    # "Redeliver" after a restart): the finished job and run stay finished
    assert deliver(url, "workflow_job", (DATA / "job-test-in_progress.json").read_bytes(), "guid-replay-1") == 200
    assert deliver(url, "workflow_job", (DATA / "job-test-queued.json").read_bytes(), "guid-replay-2") == 200
    assert deliver(url, "workflow_run", (DATA / "run-attempt1-in_progress.json").read_bytes(), "guid-replay-3") == 200
    assert deliver(url, LAST[0], (DATA / LAST[1]).read_bytes(), "guid-last") == 200
    assert wait_for(lambda: client.command("SELECT count() FROM otel.changes_v1") == 2, timeout=60)
    jobs = client.query(
        "SELECT Attempt, JobName, State, Result, QueueDuration, Duration, Runner FROM otel.metrics_build_v1 FINAL"
        " WHERE Level = 'job' ORDER BY Attempt, JobName").result_rows
    assert jobs == [
        (1, "build", "completed", "success", 30 * 10**9, 120 * 10**9, "GitHub Actions 77"),
        (1, "lint", "completed", "cancellation", 10 * 10**9, 70 * 10**9, "GitHub Actions 77"),
        (1, "test", "completed", "failure", 60 * 10**9, 160 * 10**9, "GitHub Actions 77"),
        (2, "test", "completed", "success", 10 * 10**9, 218 * 10**9, "GitHub Actions 77"),
    ]
    runs = client.query(
        "SELECT Attempt, State, Result, QueueDuration, Duration FROM otel.metrics_build_v1 FINAL"
        " WHERE Level = 'run' ORDER BY Attempt").result_rows
    assert runs == [(1, "completed", "failure", 0, 390 * 10**9), (2, "completed", "success", 600 * 10**9, 240 * 10**9)]
    skipped = client.query(
        "SELECT Result, Duration FROM otel.metrics_build_v1 FINAL WHERE Level = 'step' AND StepName = 'Upload coverage'").result_rows
    assert skipped == [("skip", 0)]
    assert client.command("SELECT count() FROM otel.metrics_build_v1 FINAL WHERE Level = 'step'") == 4 + 6 + 2 + 2
    assert client.query("SELECT Status, Duration FROM otel.deployments_v1 FINAL").result_rows == [("succeeded", 210 * 10**9)]
    # contrib's trace: attempt 1 is one trace (root + 3 jobs × (job + queue + steps)), linked from attempt 2
    trace = hashlib.sha256(b"91000000011t").hexdigest()[:32]
    assert client.command(f"SELECT count() FROM otel.otel_traces WHERE TraceId = '{trace}'") == 1 + (2 + 4) + (2 + 6) + (2 + 2)
    # the re-run's root links to attempt 1's trace, with an empty span id as contrib's
    assert client.query(f"SELECT Links.TraceId, Links.SpanId FROM otel.otel_traces WHERE SpanName = 'CI' AND TraceId != '{trace}'"
                        ).result_rows == [([trace], [""])]
