"""A real collector (gitlab and circleci receivers → clickhouse exporter → embedded chDB), fed the
committed fixtures the way GitLab and CircleCI send them, and JUnit reports uploaded to the
receivers' `/junit` endpoint (written by real pytest, jest-junit and Maven Surefire runs): exact rows in metrics_build_v1, deployments_v1, changes_v1 and
tests_v1, the codes for bad and oversize uploads.

The expected values are read off the fixtures (tests/data/cicd/*/README.md says where they come
from): a queue duration is `started_at - queued_at` of that payload, a duration
`finished_at - started_at`.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from pathlib import Path

import clickhouse_connect
import pytest

from tests.cicd.test_junit import run_jest, run_pytest, run_surefire
from tests.helpers import Collector, free_port, wait_for

DATA = Path(__file__).resolve().parent.parent / "data" / "cicd"
TOKEN = "glpat-e2e-token"
CCI_SECRET = "cci-e2e-secret"
UPLOAD_LIMIT = 1024 * 1024
S = 10**9


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("providers-e2e")
    gitlab_port, circleci_port, ch_port = free_port(), free_port(), free_port()
    config = f"""
receivers:
  gitlab:
    webhook:
      endpoint: 127.0.0.1:{gitlab_port}
      secret: {TOKEN}
      max_request_body_size: {UPLOAD_LIMIT}
  circleci:
    webhook:
      endpoint: 127.0.0.1:{circleci_port}
      secret: {CCI_SECRET}
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
    traces: {{receivers: [gitlab, circleci], exporters: [clickhouse]}}
"""
    running = Collector(tmp, config).start()
    try:
        yield (f"http://127.0.0.1:{gitlab_port}", f"http://127.0.0.1:{circleci_port}",
               clickhouse_connect.get_client(host="127.0.0.1", port=ch_port))
    finally:
        assert running.stop() == 0, running.log()


def gitlab(url: str, hook: str, body: bytes, uuid: str) -> int:
    return post(url + "/events", body, {"X-Gitlab-Event": hook, "X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": uuid,
                                        "Content-Type": "application/json"})[0]


def circleci(url: str, body: bytes) -> int:
    kind = "workflow-completed" if b'"workflow-completed"' in body else "job-completed"
    signature = "v1=" + hmac.new(CCI_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return post(url + "/events", body, {"circleci-event-type": kind, "circleci-signature": signature,
                                        "Content-Type": "application/json"})[0]


def test_gitlab_pipeline_jobs_deployment_and_push(collector) -> None:  # type: ignore[no-untyped-def]
    url, _, client = collector
    hooks = [  # a job's later hooks first: the pipeline hook (all jobs finished) must not be undone by them
        ("Pipeline Hook", "pipeline_mr_failed.json"),
        ("Job Hook", "job_pending.json"),
        ("Job Hook", "job_running.json"),
        ("Job Hook", "job_failed_timeout.json"),
        ("Job Hook", "job_running.json"),  # an old delivery replayed under a new uuid
        ("Pipeline Hook", "contrib_valid_with_jobs.json"),
        ("Deployment Hook", "deployment_success.json"),
        ("Push Hook", "push.json"),
    ]
    for index, (hook, name) in enumerate(hooks):
        assert gitlab(url, hook, (DATA / "gitlab" / name).read_bytes(), f"uuid-{index}") == 200
    assert wait_for(lambda: client.command("SELECT count() FROM otel.changes_v1 WHERE Provider = 'gitlab'") == 2, timeout=60)
    rows = client.query(
        "SELECT RunId, Level, JobId, JobName, State, Result, QueueDuration, Duration, Runner FROM otel.metrics_build_v1 FINAL"
        " WHERE Provider = 'gitlab' ORDER BY RunId, Level, JobId").result_rows
    assert rows == [
        # contrib's valid_with_jobs.json: two stages of one job each
        ("1", "job", "1", "build-job", "completed", "success", 60_500_000_000, 540 * S, "shared-runner-1"),
        ("1", "job", "2", "test-job", "completed", "success", 30_200_000_000, 480 * S, "project-runner-1"),
        ("1", "run", "", "", "completed", "success", 60 * S, 3540 * S, ""),
        ("1", "stage", "stage:build", "build", "completed", "success", 60_500_000_000, 540 * S, ""),
        ("1", "stage", "stage:test", "test", "completed", "success", 30_200_000_000, 480 * S, ""),
        # the merge-request pipeline: rspec timed out (its job hook's exact duration), lint failed
        # (allowed to), e2e was cancelled before it started
        ("901", "job", "5001", "compile", "completed", "success", 3 * S, 356 * S, "docker-1"),
        ("901", "job", "5002", "rspec", "completed", "timeout", 4_500_000_000, 504_592_000_000, "big-1"),
        ("901", "job", "5003", "lint", "completed", "failure", 9_250_000_000, 50 * S, "docker-1"),
        ("901", "job", "5004", "e2e", "completed", "cancellation", None, None, ""),
        ("901", "run", "", "", "completed", "failure", 4 * S, 866 * S, ""),
        ("901", "stage", "stage:build", "build", "completed", "success", 3 * S, 356 * S, ""),
        ("901", "stage", "stage:test", "test", "completed", "timeout", 4_500_000_000, 505 * S, ""),
    ]
    assert client.query("SELECT ServiceName, Environment, Version, Status, JobId FROM otel.deployments_v1 FINAL"
                        " WHERE Provider = 'gitlab'").result_rows == [
        ("acme/platform/shop", "production", "e2653ebf", "succeeded", "6001")]
    assert client.query("SELECT Commit, toString(AuthoredAt) FROM otel.changes_v1 FINAL WHERE Provider = 'gitlab'"
                        " ORDER BY AuthoredAt").result_rows == [
        ("b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "2026-11-19 15:05:11.000000000"),
        ("e2653ebfb5bbd2d5ccd94231a4fe8bfc308f8982", "2026-11-20 08:58:00.000000000")]
    # contrib's gitlabreceiver trace id for valid_with_jobs.json (its formula, tests/cicd/test_gitlab.py)
    assert client.command("SELECT count() FROM otel.otel_traces WHERE TraceId = '8aaa7646e3131c21dfd76814eec814e9'") == 5


def test_circleci_workflows_and_jobs(collector) -> None:  # type: ignore[no-untyped-def]
    _, url, client = collector
    for name in ("job_completed_github.json", "job_completed_canceled.json", "workflow_completed_gitlab.json",
                 "workflow_completed_github.json"):
        assert circleci(url, (DATA / "circleci" / name).read_bytes()) == 200
    assert circleci(url, (DATA / "circleci" / "job_completed_github.json").read_bytes()) == 200  # delivered twice
    assert wait_for(lambda: client.command(
        "SELECT count() FROM otel.metrics_build_v1 WHERE Provider = 'circleci' AND Level = 'run'") == 2, timeout=60)
    rows = client.query(
        "SELECT Repository, Branch, Level, JobId, JobName, Result, QueueDuration, Duration FROM otel.metrics_build_v1 FINAL"
        " WHERE Provider = 'circleci' ORDER BY Repository, Level, JobId").result_rows
    assert rows == [
        ("https://github.com/acme/webhook-service", "main", "job", "136", "test", "failure", None, 70_995_000_000),
        ("https://github.com/acme/webhook-service", "main", "job", "137", "deploy", "cancellation", None, None),
        ("https://github.com/acme/webhook-service", "main", "run", "", "", "failure", 2_072_000_000, 90_554_000_000),
        ("https://gitlab.example.com/acme/platform/shop", "release", "run", "", "", "success", 2_072_000_000, 90_554_000_000),
    ]
    assert client.command("SELECT count() FROM otel.metrics_build_v1 WHERE Provider = 'circleci' AND JobId = '136'") == 1


def upload(url: str, body: bytes, query: str) -> tuple[int, bytes]:
    return post(url + "/junit?" + query, body, {"X-Gitlab-Token": TOKEN, "Content-Type": "application/xml"})


def results(client, run_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = client.query(f"SELECT Result, count() FROM otel.tests_v1 FINAL WHERE RunId = '{run_id}' GROUP BY Result").result_rows
    return dict(rows)


def test_junit_uploads_from_pytest_jest_surefire_and_ten_thousand_cases(collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, _, client = collector
    reports = {
        "pytest": run_pytest(tmp_path, "xunit2"),  # a real pytest run: pass, fail, error, skip, xfail, 3 params
        "jest": run_jest(tmp_path),  # a real jest run with jest-junit: 2 pass, 2 fail, 1 skip
        "surefire": run_surefire(tmp_path),  # a real Maven Surefire run with rerunFailingTestsCount=2
        "big": ('<?xml version="1.0"?><testsuites><testsuite name="big" tests="10000">' + "".join(
            f'<testcase classname="big.Case{i // 100}" name="test_{i}" time="0.001">'
            + ("<failure message='boom'>trace</failure>" if i % 10 == 0 else "<skipped/>" if i % 25 == 1 else "")
            + "</testcase>" for i in range(10_000)) + "</testsuite></testsuites>").encode(),
    }
    for run_id, body in reports.items():
        status, reply = upload(url, body, f"run_id={run_id}&attempt=1&job=test&revision=e2653ebf")
        assert status == 200, reply
    assert upload(url, reports["jest"], "run_id=jest&attempt=1&job=test&revision=e2653ebf")[0] == 200  # uploaded twice
    assert wait_for(lambda: client.command("SELECT count() FROM otel.tests_v1 WHERE RunId = 'big'") == 10_000, timeout=120)
    assert results(client, "pytest") == {"pass": 3, "fail": 2, "error": 1, "skip": 2}
    assert results(client, "jest") == {"pass": 2, "fail": 2, "skip": 1}
    # Surefire's reruns are executions of their own: total; discount ×3; crashes ×3; flaky fail + pass; pay
    assert results(client, "surefire") == {"pass": 2, "fail": 4, "error": 3, "skip": 1}
    assert results(client, "big") == {"fail": 1000, "skip": 400, "pass": 8600}
    assert client.command("SELECT uniqExact(Provider, Attempt, JobId, Commit) FROM otel.tests_v1 WHERE RunId = 'big'") == 1
    assert client.query("SELECT Provider, Attempt, JobId, Commit FROM otel.tests_v1 WHERE RunId = 'big' LIMIT 1"
                        ).result_rows == [("gitlab", 1, "test", "e2653ebf")]


def test_bad_uploads(collector) -> None:  # type: ignore[no-untyped-def]
    url, _, client = collector
    status, reply = upload(url, b"<testsuites><testsuite name='x'><testcase name='a'></testsuite>", "run_id=bad")
    assert status == 400 and b"the JUnit upload cannot be read" in reply and b"line 1" in reply, reply
    status, reply = upload(url, b"<" * (UPLOAD_LIMIT + 1), "run_id=huge")
    assert status == 413, reply
    status, _ = post(url + "/junit?run_id=anon", b"<testsuites/>", {"Content-Type": "application/xml"})
    assert status == 401
    status, _ = post(url + "/events", b'{"object_kind": "pipeline"', {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": TOKEN})
    assert status == 400
    assert client.command("SELECT count() FROM otel.tests_v1 WHERE RunId IN ('bad', 'huge', 'anon')") == 0
