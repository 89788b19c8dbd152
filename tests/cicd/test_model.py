"""The generated build event classes: a BuildEvent of each kind survives the wire and JSON, and
the enums say exactly what OpenTelemetry's CI/CD conventions say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from summitcol.cicd.model import build_pb2 as b


def ts(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(text))
    return stamp


def envelope(**event: object) -> b.BuildEvent:
    return b.BuildEvent(
        event_id="72d3162e-cc78-11e3-81ab-4c9367dc0958:1",
        observed_time=ts("2026-12-03T12:00:05+00:00"),
        provider=b.PROVIDER_GITHUB,
        provider_name="github",
        repository=b.Repository(url="https://github.com/acme/shop", name="shop", owner="acme"),
        head=b.VcsRef(name="main", type=b.REF_TYPE_BRANCH, revision="d6fde92930d4715a2b49857d24b940956b26d2d3"),
        attributes={"github.workflow.path": ".github/workflows/ci.yml"},
        **event,
    )


EVENTS = {
    "pipeline_run": envelope(pipeline_run=b.PipelineRun(
        pipeline_name="CI", run_id="30433642", run_number=562, attempt=2, state=b.STATE_COMPLETED,
        result=b.RESULT_CANCELLATION, result_detail="cancelled", queued_time=ts("2026-12-03T11:59:00+00:00"),
        started_time=ts("2026-12-03T11:59:10+00:00"), finished_time=ts("2026-12-03T12:00:00+00:00"),
        url="https://github.com/acme/shop/actions/runs/30433642", trigger="pull_request", actor="octocat",
        change_id="42", base=b.VcsRef(name="main", type=b.REF_TYPE_BRANCH), pipeline_id="161335",
        trace_id="0af7651916cd43dd8448eb211c80319c", span_id="b7ad6b7169203331")),
    "job": envelope(job=b.Job(
        run_id="30433642", attempt=2, job_id="399444496", name="test (3.11)", kind=b.JOB_KIND_JOB, stage="test",
        task_type=b.TASK_TYPE_TEST, state=b.STATE_PENDING, queued_time=ts("2026-12-03T11:59:10+00:00"),
        runner=b.Runner(id="17", name="runner-17", labels=["ubuntu-latest", "x64"], group="Default"),
        trace_id="0af7651916cd43dd8448eb211c80319c", span_id="00f067aa0ba902b7", parent_span_id="b7ad6b7169203331")),
    "step": envelope(step=b.Step(
        run_id="30433642", attempt=2, job_id="399444496", step_id="3", number=3, name="Run tests",
        state=b.STATE_COMPLETED, result=b.RESULT_SKIP, result_detail="skipped",
        started_time=ts("2026-12-03T11:59:40+00:00"), finished_time=ts("2026-12-03T11:59:40+00:00"))),
    "test_case": envelope(test_case=b.TestCase(
        run_id="30433642", attempt=2, job_id="399444496", suite="pytest", class_name="tests.test_api.TestLogin",
        name="test_login_fails[wrong-password]", file="tests/test_api.py", result=b.TEST_RESULT_FAIL,
        duration=Duration(seconds=1, nanos=250_000_000), failure_message="assert 401 == 403",
        failure_type="AssertionError", failure_detail="Traceback (most recent call last):\n  ...")),
    "deployment": envelope(deployment=b.Deployment(
        deployment_id="145988746", service="shop", environment="production", version="v1.4.2",
        status=b.DEPLOYMENT_STATUS_SUCCEEDED, status_detail="success", started_time=ts("2026-12-03T12:01:00+00:00"),
        finished_time=ts("2026-12-03T12:03:30+00:00"), run_id="30433642")),
    "change": envelope(change=b.Change(
        author_name="Mona Lisa", author_email="mona@example.com", authored_time=ts("2026-12-02T17:00:00+01:00"),
        committed_time=ts("2026-12-03T09:00:00+00:00"), pushed_time=ts("2026-12-03T09:00:02+00:00"),
        title="Fix login redirect", pusher="mona")),
}


@pytest.mark.parametrize("kind", EVENTS)
def test_a_build_event_survives_the_wire_and_json(kind: str) -> None:
    event = EVENTS[kind]
    decoded = b.BuildEvent.FromString(event.SerializeToString())
    assert decoded == event
    assert decoded.WhichOneof("event") == kind
    assert json_format.Parse(json_format.MessageToJson(event), b.BuildEvent()) == event


def test_the_values_read_back_as_written() -> None:
    run = b.BuildEvent.FromString(EVENTS["pipeline_run"].SerializeToString()).pipeline_run
    assert (run.run_id, run.attempt, b.Result.Name(run.result)) == ("30433642", 2, "RESULT_CANCELLATION")
    assert run.started_time.ToDatetime(UTC) - run.queued_time.ToDatetime(UTC) == timedelta(seconds=10)  # queue time
    change = b.BuildEvent.FromString(EVENTS["change"].SerializeToString())
    assert change.change.authored_time.ToDatetime(UTC) == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert change.head.revision == "d6fde92930d4715a2b49857d24b940956b26d2d3"
    job = b.BuildEvent.FromString(EVENTS["job"].SerializeToString()).job
    assert (list(job.runner.labels), job.HasField("finished_time")) == (["ubuntu-latest", "x64"], False)


def test_json_uses_the_field_names_consumers_read() -> None:
    as_json = json_format.MessageToDict(EVENTS["step"], preserving_proto_field_name=True)
    assert as_json["step"] == {
        "run_id": "30433642", "attempt": 2, "job_id": "399444496", "step_id": "3", "number": 3, "name": "Run tests",
        "state": "STATE_COMPLETED", "result": "RESULT_SKIP", "result_detail": "skipped",
        "started_time": "2026-12-03T11:59:40Z", "finished_time": "2026-12-03T11:59:40Z"}


def semconv(enum: object, prefix: str) -> list[str]:
    return [name.removeprefix(prefix).lower() for name in enum.keys()[1:]]  # type: ignore[attr-defined]


def test_the_enums_are_the_conventions_values() -> None:
    # cicd.pipeline.result, cicd.pipeline.run.state (+ completed), vcs.ref.type, cicd.pipeline.task.type
    assert semconv(b.Result, "RESULT_") == ["success", "failure", "error", "timeout", "cancellation", "skip"]
    assert semconv(b.State, "STATE_") == ["pending", "executing", "finalizing", "completed"]
    assert semconv(b.RefType, "REF_TYPE_") == ["branch", "tag"]
    assert semconv(b.TaskType, "TASK_TYPE_") == ["build", "test", "deploy"]
    assert semconv(b.Provider, "PROVIDER_") == ["github", "gitlab", "circleci", "jenkins", "otel"]
    assert [b.Result.Value(name) for name in b.Result.keys()] == [0, 1, 2, 3, 4, 5, 6]
