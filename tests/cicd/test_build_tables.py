"""BuildEvents → build table rows → the clickhouse exporter → real ClickHouse (the chdb
extension's HTTP interface of a running collector): the DDL is accepted, the values stored are the
events' exact values, a job seen queued then finished is one row after FINAL, a redelivered event
does not count twice, and unset times are NULL (not 1970)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import clickhouse_connect
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.cicd.model import build_pb2 as pb
from summitcol.cicd.rows import build_tables
from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exporters.clickhouse.config import Config
from summitcol.exporters.clickhouse.exporter import ClickHouseExporter
from summitcol.pdata.signal import SignalData
from summitcol.telemetry import Telemetry
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def envelope(event_id: str, observed: datetime) -> pb.BuildEvent:
    event = pb.BuildEvent(event_id=event_id, provider=pb.PROVIDER_GITHUB, provider_name="github")
    event.observed_time.FromDatetime(observed)
    event.repository.url, event.repository.name, event.repository.owner = "https://github.com/acme/shop", "shop", "acme"
    event.head.name, event.head.type, event.head.revision = "main", pb.REF_TYPE_BRANCH, "a" * 40
    return event


def job(event_id: str, observed: datetime, *, finished: bool) -> pb.BuildEvent:
    event = envelope(event_id, observed)
    j = event.job
    j.run_id, j.attempt, j.job_id, j.name, j.kind = "1001", 2, "77", "test", pb.JOB_KIND_JOB
    j.queued_time.FromDatetime(T0)
    j.started_time.FromDatetime(T0 + timedelta(seconds=42, milliseconds=500))
    j.runner.name, j.runner.labels[:] = "runner-3", ["ubuntu-latest"]
    if finished:
        j.state, j.result, j.result_detail = pb.STATE_COMPLETED, pb.RESULT_FAILURE, "failure"
        j.finished_time.FromDatetime(T0 + timedelta(minutes=3))
    else:
        j.state = pb.STATE_EXECUTING
    return event


def others() -> list[pb.BuildEvent]:
    test = envelope("junit:1", T0)
    t = test.test_case
    t.run_id, t.attempt, t.suite, t.class_name, t.name = "1001", 2, "pytest", "tests.test_api", "test_login[bad]"
    t.result, t.failure_message, t.failure_type = pb.TEST_RESULT_FAIL, "assert 401 == 200", "AssertionError"
    t.duration.FromTimedelta(timedelta(milliseconds=1234))
    deploy = envelope("github:dep:0", T0 + timedelta(minutes=5))
    d = deploy.deployment
    d.deployment_id, d.service, d.environment, d.version = "555", "shop", "production", "v1.2.3"
    d.status, d.status_detail = pb.DEPLOYMENT_STATUS_SUCCEEDED, "success"
    d.started_time.FromDatetime(T0 + timedelta(minutes=4))
    d.finished_time.FromDatetime(T0 + timedelta(minutes=5))
    change = envelope("github:push:0", T0)
    c = change.change
    c.author_name, c.title = "Ada", "fix login"
    c.authored_time.FromDatetime(T0 - timedelta(hours=2))
    c.pushed_time.FromDatetime(T0 - timedelta(minutes=1))
    return [test, deploy, change]


@pytest.fixture(scope="module")
def clickhouse(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp: Path = tmp_path_factory.mktemp("builds")
    ch_port, http_port = free_port(), free_port()
    config = f"""
receivers:
{receiver_yaml(None, http_port)}
exporters:
  clickhouse:
    storage: chdb
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "", "clickhouse")}
  extensions: [chdb]
"""
    collector = Collector(tmp, config).start()
    try:
        yield (f"http://127.0.0.1:{ch_port}", clickhouse_connect.get_client(host="127.0.0.1", port=ch_port),
               f"http://127.0.0.1:{http_port}")
    finally:
        assert collector.stop() == 0, collector.log()


def export(endpoint: str, events: list[pb.BuildEvent]) -> None:
    async def run() -> None:
        settings = CreateSettings(id=ComponentID("clickhouse"), telemetry=Telemetry(), signals=frozenset({Signal.TRACES}))
        exporter = ClickHouseExporter(settings, Config(endpoint=endpoint, async_insert=False))
        await exporter.start(None)  # type: ignore[arg-type]
        try:
            await exporter.consume(SignalData(Signal.TRACES, {}, side=build_tables(events)))
        finally:
            await exporter.shutdown()

    asyncio.run(run())


def test_build_rows_land_with_exact_values(clickhouse) -> None:  # type: ignore[no-untyped-def]
    endpoint, client, _ = clickhouse
    export(endpoint, [job("github:d1:0", T0 + timedelta(seconds=43), finished=False)])
    export(endpoint, [job("github:d2:0", T0 + timedelta(minutes=3), finished=True), *others()])
    export(endpoint, [job("github:d2:0", T0 + timedelta(minutes=3), finished=True)])  # a redelivery
    rows = client.query(
        "SELECT Level, RunId, Attempt, JobId, JobName, State, Result, QueueDuration, Duration, Runner, RunnerLabels,"
        " Commit, Branch, RefType, Provider FROM otel.metrics_build_v1 FINAL").result_rows
    assert rows == [("job", "1001", 2, "77", "test", "completed", "failure", 42_500_000_000, 137_500_000_000,
                     "runner-3", ["ubuntu-latest"], "a" * 40, "main", "branch", "github")]
    assert client.command("SELECT count() FROM otel.metrics_build_v1 FINAL") == 1
    assert client.query("SELECT Suite, ClassName, Name, Result, Duration, FailureMessage, FailureType, StepId"
                        " FROM otel.tests_v1 FINAL").result_rows == [
        ("pytest", "tests.test_api", "test_login[bad]", "fail", 1_234_000_000, "assert 401 == 200", "AssertionError", "")]
    assert client.query("SELECT DeploymentId, ServiceName, Environment, Version, Status, Duration, Commit"
                        " FROM otel.deployments_v1 FINAL").result_rows == [
        ("555", "shop", "production", "v1.2.3", "succeeded", 60_000_000_000, "a" * 40)]
    assert client.query("SELECT Commit, AuthorName, Title, CommittedAt IS NULL, dateDiff('second', AuthoredAt, PushedAt)"
                        " FROM otel.changes_v1 FINAL").result_rows == [("a" * 40, "Ada", "fix login", 1, 7140)]


def test_an_event_without_a_body_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'x:1' carries no event"):
        build_tables([pb.BuildEvent(event_id="x:1")])


def test_ci_spans_sent_over_otlp_land_in_the_build_tables(clickhouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`summitcol ci exec|deploy|junit` and the Jenkins plugin's spans, through the otlp receiver
    and the clickhouse exporter's CI span recognition, into metrics_build_v1, deployments_v1 and
    tests_v1 (the other tests of this file wrote rows for repository acme/shop; these are acme/api)."""
    import urllib.request

    from summitcol import cli
    from tests.cicd.test_spans import _jenkins_spans

    _, client, otlp = clickhouse
    for key, value in {"GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "test", "GITHUB_SHA": "c" * 40,
                       "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/api"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TRACEPARENT", raising=False)
    assert cli.main(["ci", "exec", "--name", "unit tests", "--endpoint", otlp, "--", sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert cli.main(["ci", "deploy", "--endpoint", otlp, "--service", "api", "--environment", "production",
                     "--version", "1.4.2", "--revision", "d" * 40, "--id", "dep-9"]) == 0
    assert cli.main(["ci", "junit", "tests/data/cicd/junit/jest-junit.xml", "--endpoint", otlp]) == 0
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "jenkins"
    rs.scope_spans.add().spans.extend(_jenkins_spans("FAILURE"))
    urllib.request.urlopen(urllib.request.Request(f"{otlp}/v1/traces", request.SerializeToString(),
                                                  {"Content-Type": "application/x-protobuf"}), timeout=10).read()

    def rows(sql: str) -> list[tuple]:  # type: ignore[type-arg]
        return client.query(sql).result_rows

    assert wait_for(lambda: client.command("SELECT count() FROM otel.tests_v1 FINAL WHERE Suite = 'cart'") == 4
                    and client.command("SELECT count() FROM otel.metrics_build_v1 FINAL WHERE Provider = 'jenkins'") == 4)
    assert rows("SELECT Provider, RunId, Attempt, JobId, Level, StepName, Result, Commit FROM otel.metrics_build_v1 FINAL"
                " WHERE StepName = 'unit tests'") == [("github", "9001", 2, "test", "step", "unit tests", "failure", "c" * 40)]
    assert rows("SELECT Level, Result, ResultDetail FROM otel.metrics_build_v1 FINAL WHERE Provider = 'jenkins' ORDER BY Level"
                ) == [("job", "success", "SUCCESS"), ("run", "failure", "FAILURE"), ("stage", "failure", "FAILURE"),
                      ("step", "failure", "FAILURE")]
    assert rows("SELECT DeploymentId, ServiceName, Environment, Version, Status, Commit, RunId FROM otel.deployments_v1 FINAL"
                " WHERE ServiceName = 'api'") == [("dep-9", "api", "production", "1.4.2", "succeeded", "d" * 40, "9001")]
    assert rows("SELECT Result, count() FROM otel.tests_v1 FINAL WHERE Suite = 'cart' GROUP BY Result ORDER BY Result"
                ) == [("fail", 1), ("pass", 2), ("skip", 1)]
    assert rows("SELECT DISTINCT RunId, Attempt, JobId FROM otel.tests_v1 FINAL WHERE Suite = 'cart'") == [("9001", 2, "test")]
