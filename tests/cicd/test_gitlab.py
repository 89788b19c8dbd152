"""GitLab payloads to build events and to contrib gitlabreceiver's trace: exact events, exact
queue times, and span ids checked against contrib's formula (traces_event_handling.go@e3bd2d1)
computed here independently with hashlib, on contrib's own testdata and on fixtures written from
GitLab's webhook documentation."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from summitcol.cicd.gitlab import GitLabPayloadError, map_gitlab
from summitcol.cicd.model import build_pb2 as b

DATA = Path(__file__).parent.parent / "data" / "cicd" / "gitlab"
OBSERVED = datetime(2026, 11, 20, 9, 15, 0, tzinfo=UTC)
SHA = "e2653ebfb5bbd2d5ccd94231a4fe8bfc308f8982"


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def ts(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(text))
    return stamp


def trace_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def span_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[16:32]


def attrs(kvs: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in kvs:
        kind = kv.value.WhichOneof("value")
        if kind == "array_value":
            out[kv.key] = [v.string_value for v in kv.value.array_value.values]
        else:
            out[kv.key] = getattr(kv.value, kind)
    return out


def spans_of(mapped: Any) -> list[Span]:
    (resource_spans,) = mapped.spans.resource_spans
    # contrib's createSpan appends one scope per span
    assert all(len(scope.spans) == 1 for scope in resource_spans.scope_spans)
    return [scope.spans[0] for scope in resource_spans.scope_spans]


# ---------------------------------------------------------------------------------------------
# contrib's testdata


def test_contrib_valid_with_jobs_trace_ids_follow_contribs_formula() -> None:
    mapped = map_gitlab("Pipeline Hook", load("contrib_valid_with_jobs.json"), delivery_id="d-1", observed=OBSERVED)
    tid = trace_id("1t2022-01-01 13:00:00 UTC")
    assert tid == "8aaa7646e3131c21dfd76814eec814e9"
    root = span_id("12022-01-01 13:00:00 UTC")
    build_stage = span_id("1build2022-01-01 12:01:00 UTC")
    test_stage = span_id("1test2022-01-01 12:12:00 UTC")
    build_job = span_id("12022-01-01 12:01:00 UTC")
    test_job = span_id("22022-01-01 12:12:00 UTC")
    got = [(s.name, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(), s.kind, s.start_time_unix_nano,
            s.end_time_unix_nano, s.status.code) for s in spans_of(mapped)]
    ok, server = Status.STATUS_CODE_OK, Span.SPAN_KIND_SERVER
    assert got == [
        ("Test Pipeline", tid, root, "", server, 1641038400_000000000, 1641042000_000000000, ok),
        ("build", tid, build_stage, root, server, 1641038460_000000000, 1641039000_000000000, ok),
        ("test", tid, test_stage, root, server, 1641039120_000000000, 1641039600_000000000, ok),
        ("build-job", tid, build_job, build_stage, server, 1641038460_000000000, 1641039000_000000000, ok),
        ("test-job", tid, test_job, test_stage, server, 1641039120_000000000, 1641039600_000000000, ok),
    ]
    # the events carry the same ids, as hex
    run, stage_build, stage_test, job1, job2 = mapped.events
    assert (run.pipeline_run.trace_id, run.pipeline_run.span_id) == (tid, root)
    assert (stage_build.job.span_id, stage_build.job.parent_span_id) == (build_stage, root)
    assert (stage_test.job.span_id, job2.job.span_id, job2.job.parent_span_id) == (test_stage, test_job, test_stage)
    assert (job1.job.trace_id, job1.job.span_id, job1.job.parent_span_id) == (tid, build_job, build_stage)


def test_contrib_valid_with_jobs_resource_and_span_attributes() -> None:
    mapped = map_gitlab("Pipeline Hook", load("contrib_valid_with_jobs.json"), delivery_id="d-1", observed=OBSERVED)
    resource = mapped.spans.resource_spans[0].resource
    assert [kv.key for kv in resource.attributes][:3] == ["service.name", "cicd.pipeline.name", "cicd.pipeline.result"]
    assert attrs(resource.attributes) == {
        "service.name": "test/project",
        "cicd.pipeline.name": "Test Pipeline",
        "cicd.pipeline.result": "success",
        "cicd.pipeline.run.id": 1,
        "cicd.pipeline.run.url.full": "",
        "vcs.provider.name": "gitlab",
        "vcs.repository.name": "my-project",
        "vcs.repository.url.full": "https://gitlab.example.com/test/project",
        "vcs.ref.head.name": "main",
        "vcs.ref.head.type": "branch",
        "vcs.ref.head.revision": "abc123def456",
        "vcs.ref.head.revision.timestamp": "2022-01-01 11:50:00 UTC",
        "vcs.repository.visibility": "private",
        "gitlab.project.namespace": "test",
        "vcs.repository.ref.default": "main",
    }
    pipeline, stage, _, job, _ = spans_of(mapped)
    assert attrs(pipeline.attributes) == {"gitlab.pipeline.source": "push"}
    assert list(stage.attributes) == []
    # contrib's TestSetAttributes pins queued 60.5, allow_failure false, instance_type, shared, docker/linux
    assert [(kv.key, kv.value.WhichOneof("value")) for kv in job.attributes] == [
        ("cicd.pipeline.task.name", "string_value"),
        ("cicd.pipeline.task.run.id", "int_value"),
        ("cicd.pipeline.task.run.result", "string_value"),
        ("cicd.pipeline.task.run.url.full", "string_value"),
        ("cicd.worker.id", "int_value"),
        ("cicd.worker.name", "string_value"),
        ("gitlab.job.queued_duration", "double_value"),
        ("gitlab.job.failure_reason", "string_value"),
        ("gitlab.job.allow_failure", "bool_value"),
        ("cicd.pipeline.task.run.environment.name", "string_value"),
        ("gitlab.environment.deployment_tier", "string_value"),
        ("gitlab.environment.action", "string_value"),
        ("cicd.worker.tags", "array_value"),
        ("cicd.worker.type", "string_value"),
        ("cicd.worker.shared", "bool_value"),
    ]
    assert attrs(job.attributes) == {
        "cicd.pipeline.task.name": "build-job",
        "cicd.pipeline.task.run.id": 1,
        "cicd.pipeline.task.run.result": "success",
        "cicd.pipeline.task.run.url.full": "https://gitlab.example.com/test/project/-/jobs/1",
        "cicd.worker.id": 100,
        "cicd.worker.name": "shared-runner-1",
        "gitlab.job.queued_duration": 60.5,
        "gitlab.job.failure_reason": "",
        "gitlab.job.allow_failure": False,
        "cicd.pipeline.task.run.environment.name": "",
        "gitlab.environment.deployment_tier": "",
        "gitlab.environment.action": "",
        "cicd.worker.tags": ["docker", "linux"],
        "cicd.worker.type": "instance_type",
        "cicd.worker.shared": True,
    }


def test_contrib_null_timestamps_skip_the_stage_that_never_started() -> None:
    """contrib PR #47623: a stage whose jobs never started gets no span (earlier contrib answered
    500 "invalid startedAt timestamp: time is empty" for the whole pipeline); its job neither."""
    mapped = map_gitlab("Pipeline Hook", load("contrib_with_null_timestamps_job.json"), delivery_id="d-2",
                        observed=OBSERVED)
    finished = "2026-01-29T17:26:55.735Z"
    tid = trace_id(f"12345t{finished}")
    got = [(s.name, s.span_id.hex(), s.parent_span_id.hex(), s.status.code) for s in spans_of(mapped)]
    build_stage = span_id("12345build2026-01-29T17:25:50.794Z")
    assert got == [
        ("Test commit", span_id(f"12345{finished}"), "", Status.STATUS_CODE_ERROR),
        ("build", build_stage, span_id(f"12345{finished}"), Status.STATUS_CODE_OK),
        ("build_job", span_id("12026-01-29T17:25:50.794Z"), build_stage, Status.STATUS_CODE_OK),
    ]
    assert spans_of(mapped)[0].trace_id.hex() == tid
    # RFC 3339 times with milliseconds, to the nanosecond
    assert spans_of(mapped)[2].start_time_unix_nano == 1769707550_794000000
    kinds = [(e.job.kind, e.job.name, e.job.result, e.job.span_id) for e in mapped.events[1:]]
    assert kinds == [
        (b.JOB_KIND_STAGE, "build", b.RESULT_SUCCESS, build_stage),
        (b.JOB_KIND_STAGE, "deploy", b.RESULT_SKIP, ""),
        (b.JOB_KIND_JOB, "build_job", b.RESULT_SUCCESS, span_id("12026-01-29T17:25:50.794Z")),
        (b.JOB_KIND_JOB, "deploy_prod", b.RESULT_SKIP, ""),
    ]
    deploy_prod = mapped.events[4].job
    assert deploy_prod.queued_time == ts("2026-01-29T17:25:48.891+00:00")
    assert not deploy_prod.HasField("started_time") and not deploy_prod.HasField("finished_time")
    assert mapped.events[0].pipeline_run.pipeline_name == "Test commit"  # no name: the commit title


# ---------------------------------------------------------------------------------------------
# A merge-request pipeline written from GitLab's documented payload


def test_merge_request_pipeline_run_event_exactly() -> None:
    mapped = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="idem-901-4", observed=OBSERVED)
    tid = trace_id("901t2026-11-20 09:14:30 UTC")
    expected = b.BuildEvent(
        event_id="gitlab:idem-901-4:0",
        observed_time=ts("2026-11-20T09:15:00+00:00"),
        provider=b.PROVIDER_GITLAB,
        provider_name="gitlab",
        repository=b.Repository(url="https://gitlab.example.com/acme/platform/shop", name="shop", owner="acme/platform"),
        head=b.VcsRef(name="feature/retry", type=b.REF_TYPE_BRANCH, revision=SHA),
        attributes={"gitlab.pipeline.source": "merge_request_event", "gitlab.pipeline.queued_duration": "4",
                    "gitlab.pipeline.duration": "860"},
        pipeline_run=b.PipelineRun(
            pipeline_name="Add checkout retry", run_id="901", run_number=57, attempt=1, state=b.STATE_COMPLETED,
            result=b.RESULT_FAILURE, result_detail="failed", queued_time=ts("2026-11-20T09:00:00+00:00"),
            started_time=ts("2026-11-20T09:00:04+00:00"), finished_time=ts("2026-11-20T09:14:30+00:00"),
            url="https://gitlab.example.com/acme/platform/shop/-/pipelines/901", trigger="merge_request_event",
            actor="ada", change_id="42", base=b.VcsRef(name="main", type=b.REF_TYPE_BRANCH), pipeline_id="77",
            trace_id=tid, span_id=span_id("9012026-11-20 09:14:30 UTC"),
        ),
    )
    assert mapped.events[0] == expected


def test_merge_request_pipeline_stages_and_jobs() -> None:
    mapped = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="idem-901-4", observed=OBSERVED)
    jobs = [e.job for e in mapped.events[1:]]
    # stages in object_attributes.stages order, then jobs by stage and id
    assert [(j.job_id, j.kind, j.result, j.result_detail) for j in jobs] == [
        ("stage:build", b.JOB_KIND_STAGE, b.RESULT_SUCCESS, "success"),
        ("stage:test", b.JOB_KIND_STAGE, b.RESULT_TIMEOUT, "failed"),  # rspec timed out; lint may fail
        ("5001", b.JOB_KIND_JOB, b.RESULT_SUCCESS, "success"),
        ("5002", b.JOB_KIND_JOB, b.RESULT_TIMEOUT, "failed"),  # failure_reason job_execution_timeout
        ("5003", b.JOB_KIND_JOB, b.RESULT_FAILURE, "failed"),  # script_failure
        ("5004", b.JOB_KIND_JOB, b.RESULT_CANCELLATION, "canceled"),
    ]
    stage_test = jobs[1]
    assert (stage_test.queued_time, stage_test.started_time, stage_test.finished_time) == (
        ts("2026-11-20T09:06:00.500+00:00"), ts("2026-11-20T09:06:05+00:00"), ts("2026-11-20T09:14:30+00:00"))
    root = span_id("9012026-11-20 09:14:30 UTC")
    test_stage_span = span_id("901test2026-11-20 09:06:05 UTC")
    assert (stage_test.span_id, stage_test.parent_span_id) == (test_stage_span, root)
    rspec = mapped.events[4]
    assert rspec == b.BuildEvent(
        event_id="gitlab:idem-901-4:4",
        observed_time=ts("2026-11-20T09:15:00+00:00"),
        provider=b.PROVIDER_GITLAB,
        provider_name="gitlab",
        repository=b.Repository(url="https://gitlab.example.com/acme/platform/shop", name="shop", owner="acme/platform"),
        head=b.VcsRef(name="feature/retry", type=b.REF_TYPE_BRANCH, revision=SHA),
        attributes={"gitlab.job.failure_reason": "job_execution_timeout", "gitlab.job.when": "on_success",
                    "gitlab.job.queued_duration": "4.5", "cicd.worker.type": "group_type"},
        job=b.Job(
            run_id="901", attempt=1, job_id="5002", parent_job_id="stage:test", name="rspec", kind=b.JOB_KIND_JOB,
            stage="test", task_type=b.TASK_TYPE_TEST, state=b.STATE_COMPLETED, result=b.RESULT_TIMEOUT,
            result_detail="failed",
            # queue = started_at - queued_duration (4.5 s), not created_at (the pipeline's creation)
            queued_time=ts("2026-11-20T09:06:00.500+00:00"), started_time=ts("2026-11-20T09:06:05+00:00"),
            finished_time=ts("2026-11-20T09:14:30+00:00"),
            url="https://gitlab.example.com/acme/platform/shop/-/jobs/5002",
            runner=b.Runner(id="13", name="big-1", group="group_type"),
            trace_id=trace_id("901t2026-11-20 09:14:30 UTC"), span_id=span_id("50022026-11-20 09:06:05 UTC"),
            parent_span_id=test_stage_span,
        ),
    )
    compile_job = jobs[2]
    assert compile_job.runner == b.Runner(id="12", name="docker-1", labels=["Docker", "linux"], group="instance_type")
    assert compile_job.task_type == b.TASK_TYPE_BUILD
    e2e = jobs[5]  # cancelled before it started: contrib would fail the delivery; Summit drops its span only
    assert (e2e.span_id, e2e.HasField("started_time"), e2e.finished_time) == ("", False, ts("2026-11-20T09:14:29+00:00"))


def test_merge_request_pipeline_trace() -> None:
    mapped = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="idem-901-4", observed=OBSERVED,
                        include_user_attributes=True)
    spans = spans_of(mapped)
    assert [(s.name, s.status.code) for s in spans] == [
        ("Add checkout retry", Status.STATUS_CODE_ERROR),
        ("build", Status.STATUS_CODE_OK),
        ("test", Status.STATUS_CODE_ERROR),  # contrib: the stage's first job in payload order (lint, failed)
        ("compile", Status.STATUS_CODE_OK),
        ("rspec", Status.STATUS_CODE_ERROR),
        ("lint", Status.STATUS_CODE_ERROR),
    ]
    resource = attrs(mapped.spans.resource_spans[0].resource.attributes)
    assert {k: resource[k] for k in ("vcs.change.id", "vcs.change.state", "vcs.change.title", "vcs.ref.base.name",
                                     "vcs.ref.base.type")} == {
        "vcs.change.id": "7001", "vcs.change.state": "opened", "vcs.change.title": "Add checkout retry",
        "vcs.ref.base.name": "main", "vcs.ref.base.type": "branch"}
    # Go's layout "2006-01-02 15:04:05 UTC" prints the payload's own +02:00 wall clock, "UTC" literally
    assert resource["vcs.ref.head.revision.timestamp"] == "2026-11-20 10:58:00 UTC"
    assert {k: resource[k] for k in ("vcs.ref.head.revision.author.name", "cicd.pipeline.run.actor.id",
                                     "gitlab.pipeline.run.actor.username", "cicd.pipeline.run.actor.name")} == {
        "vcs.ref.head.revision.author.name": "Ada Lovelace", "cicd.pipeline.run.actor.id": 5,
        "gitlab.pipeline.run.actor.username": "ada", "cicd.pipeline.run.actor.name": "Ada Lovelace"}
    lint = attrs(spans[5].attributes)
    assert (lint["cicd.worker.tags"], lint["gitlab.job.allow_failure"], lint["gitlab.job.queued_duration"]) == (
        ["docker", "linux"], True, 9.25)
    without_users = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="x", observed=OBSERVED)
    assert "cicd.pipeline.run.actor.id" not in attrs(without_users.spans.resource_spans[0].resource.attributes)


def test_running_pipeline_gives_an_executing_run_and_no_spans() -> None:
    mapped = map_gitlab("Pipeline Hook", load("pipeline_running.json"), delivery_id="idem-901-2", observed=OBSERVED)
    assert mapped.spans is None
    (event,) = mapped.events
    run = event.pipeline_run
    assert (run.state, run.result, run.result_detail, run.trace_id, run.span_id) == (
        b.STATE_EXECUTING, b.RESULT_UNSPECIFIED, "running", "", "")
    assert (run.queued_time, run.started_time, run.HasField("finished_time")) == (
        ts("2026-11-20T09:00:00+00:00"), ts("2026-11-20T09:00:04+00:00"), False)


@pytest.mark.parametrize(("status", "state"), [
    ("created", b.STATE_PENDING), ("waiting_for_resource", b.STATE_PENDING), ("preparing", b.STATE_PENDING),
    ("pending", b.STATE_PENDING), ("scheduled", b.STATE_PENDING), ("running", b.STATE_EXECUTING),
])
def test_unfinished_statuses_make_no_trace_even_with_finished_at(status: str, state: int) -> None:
    """contrib's *_with_finished_at testdata: a finished_at on an unfinished pipeline is no trace."""
    payload = load("pipeline_mr_failed.json")
    payload["object_attributes"]["status"] = status
    mapped = map_gitlab("Pipeline Hook", payload, delivery_id="d", observed=OBSERVED)
    assert mapped.spans is None
    assert [(e.pipeline_run.state, e.pipeline_run.HasField("finished_time")) for e in mapped.events] == [(state, False)]


def test_finished_pipeline_without_commit_id_gets_events_but_no_trace() -> None:
    """contrib's validatePipelineEvent rejects it (missing_commit_id.json); the run still counts."""
    payload = load("pipeline_mr_failed.json")
    payload["commit"]["id"] = ""
    mapped = map_gitlab("Pipeline Hook", payload, delivery_id="d", observed=OBSERVED)
    assert mapped.spans is None
    assert mapped.events[0].pipeline_run.trace_id == ""
    assert len(mapped.events) == 7


# ---------------------------------------------------------------------------------------------
# Job, Deployment and Push hooks


def test_job_hook_queued_then_started() -> None:
    pending = map_gitlab("Job Hook", load("job_pending.json"), delivery_id="j-1", observed=OBSERVED).events[0]
    assert pending.job.state == b.STATE_PENDING
    # still queued: the queue so far (1.5 s) counted back from the delivery
    assert pending.job.queued_time == ts("2026-11-20T09:14:58.500+00:00")
    assert not pending.job.HasField("started_time") and not pending.job.HasField("runner")
    running = map_gitlab("Job Hook", load("job_running.json"), delivery_id="j-2", observed=OBSERVED)
    assert running.spans is None  # contrib makes metrics, not spans, from job hooks
    assert running.events == [b.BuildEvent(
        event_id="gitlab:j-2:0",
        observed_time=ts("2026-11-20T09:15:00+00:00"),
        provider=b.PROVIDER_GITLAB,
        provider_name="gitlab",
        repository=b.Repository(url="https://gitlab.example.com/acme/platform/shop", name="shop", owner="acme/platform"),
        head=b.VcsRef(name="feature/retry", type=b.REF_TYPE_BRANCH, revision=SHA),
        attributes={"gitlab.job.failure_reason": "unknown_failure", "gitlab.job.retries_count": "0",
                    "gitlab.job.queued_duration": "4.5", "cicd.worker.type": "group_type"},
        job=b.Job(
            run_id="901", attempt=1, job_id="5002", parent_job_id="stage:test", name="rspec", kind=b.JOB_KIND_JOB,
            stage="test", task_type=b.TASK_TYPE_TEST, state=b.STATE_EXECUTING, result_detail="running",
            # the _iso fields' milliseconds win over the whole-second ones; queue = started - 4.5 s
            queued_time=ts("2026-11-20T09:06:00.912+00:00"), started_time=ts("2026-11-20T09:06:05.412+00:00"),
            url="https://gitlab.example.com/acme/platform/shop/-/jobs/5002",
            runner=b.Runner(id="13", name="big-1", group="group_type"),
        ),
    )]


def test_job_hook_timeout() -> None:
    job = map_gitlab("Job Hook", load("job_failed_timeout.json"), delivery_id="j-3", observed=OBSERVED).events[0]
    assert (job.job.state, job.job.result, job.job.result_detail) == (b.STATE_COMPLETED, b.RESULT_TIMEOUT, "failed")
    assert job.job.finished_time == ts("2026-11-20T09:14:30.004+00:00")
    assert job.attributes["gitlab.job.retries_count"] == "1"


def test_deployment_hook() -> None:
    mapped = map_gitlab("Deployment Hook", load("deployment_success.json"), delivery_id="dep-1", observed=OBSERVED)
    assert mapped.spans is None
    assert mapped.events == [b.BuildEvent(
        event_id="gitlab:dep-1:0",
        observed_time=ts("2026-11-20T09:15:00+00:00"),
        provider=b.PROVIDER_GITLAB,
        provider_name="gitlab",
        repository=b.Repository(url="https://gitlab.example.com/acme/platform/shop", name="shop", owner="acme/platform"),
        head=b.VcsRef(name="main", revision=SHA),  # the full SHA from commit_url; the hook has only short_sha
        attributes={"gitlab.environment.deployment_tier": "production", "gitlab.environment.slug": "production",
                    "gitlab.environment.external_url": "https://shop.example.com",
                    "gitlab.deployment.user.username": "ada"},
        deployment=b.Deployment(
            deployment_id="15", service="acme/platform/shop", environment="production", version="e2653ebf",
            status=b.DEPLOYMENT_STATUS_SUCCEEDED, status_detail="success",
            finished_time=ts("2026-11-20T09:20:00+00:00"),  # "2026-11-20 10:20:00 +0100"
            url="https://gitlab.example.com/acme/platform/shop/-/jobs/6001", job_id="6001",
        ),
    )]
    running = load("deployment_success.json") | {"status": "running"}
    dep = map_gitlab("Deployment Hook", running, delivery_id="dep-0", observed=OBSERVED).events[0].deployment
    assert (dep.status, dep.started_time, dep.HasField("finished_time")) == (
        b.DEPLOYMENT_STATUS_IN_PROGRESS, ts("2026-11-20T09:20:00+00:00"), False)


def test_push_hook_one_change_per_commit() -> None:
    mapped = map_gitlab("Push Hook", load("push.json"), delivery_id="push-1", observed=OBSERVED)
    assert [(e.event_id, e.head.name, e.head.type, e.head.revision) for e in mapped.events] == [
        ("gitlab:push-1:0", "main", b.REF_TYPE_BRANCH, "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"),
        ("gitlab:push-1:1", "main", b.REF_TYPE_BRANCH, SHA),
    ]
    assert mapped.events[1].change == b.Change(
        author_name="Ada Lovelace", author_email="ada@example.com",
        authored_time=ts("2026-11-20T08:58:00+00:00"),  # 10:58 +02:00
        pushed_time=ts("2026-11-20T09:15:00+00:00"), title="Add checkout retry",
        url=f"https://gitlab.example.com/acme/platform/shop/-/commit/{SHA}", pusher="ada",
    )
    assert mapped.events[0].change.authored_time == ts("2026-11-19T15:05:11+00:00")


# ---------------------------------------------------------------------------------------------
# Routing and bad input


def test_system_hook_routes_by_object_kind_and_unused_events_are_empty() -> None:
    via_system = map_gitlab("System Hook", load("push.json"), delivery_id="push-1", observed=OBSERVED)
    assert via_system.events == map_gitlab("Push Hook", load("push.json"), delivery_id="push-1", observed=OBSERVED).events
    unused = map_gitlab("Issue Hook", {"object_kind": "issue"}, delivery_id="i", observed=OBSERVED)
    assert (unused.spans, unused.events) == (None, [])


def test_redelivery_gives_identical_events() -> None:
    first = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="idem-1", observed=OBSERVED)
    again = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="idem-1", observed=OBSERVED)
    assert [e.event_id for e in again.events] == [f"gitlab:idem-1:{n}" for n in range(7)]
    assert again.events == first.events and again.spans == first.spans


@pytest.mark.parametrize(("event", "message"), [
    ("Pipeline Hook", "Pipeline Hook payload has no object_attributes.id; is it a pipeline event?"),
    ("Job Hook", "Job Hook payload has no build_id; is it a job event?"),
    ("Deployment Hook", "Deployment Hook payload has no deployment_id; is it a deployment event?"),
])
def test_payload_without_an_id_is_an_error(event: str, message: str) -> None:
    with pytest.raises(GitLabPayloadError) as caught:
        map_gitlab(event, {"object_kind": "x"}, delivery_id="d", observed=OBSERVED)
    assert str(caught.value) == message


def test_bad_time_names_the_value() -> None:
    payload = load("pipeline_mr_failed.json")
    payload["builds"][0]["started_at"] = "yesterday"
    with pytest.raises(ValueError, match="time 'yesterday' is in no known format"):
        map_gitlab("Pipeline Hook", payload, delivery_id="d", observed=OBSERVED)


def test_rows_carry_exact_queue_durations() -> None:
    """Through the lead's build_tables: the queue durations a user reads from metrics_build_v1."""
    from summitcol.cicd.rows import build_tables

    mapped = map_gitlab("Pipeline Hook", load("pipeline_mr_failed.json"), delivery_id="d", observed=OBSERVED)
    rows = build_tables(mapped.events)["metrics_build_v1"].to_pylist()
    assert [(r["Level"], r["JobId"], r["Result"], r["QueueDuration"], r["Duration"]) for r in rows] == [
        ("run", "", "failure", 4_000_000_000, 866_000_000_000),
        ("stage", "stage:build", "success", 3_000_000_000, 356_000_000_000),
        ("stage", "stage:test", "timeout", 4_500_000_000, 505_000_000_000),
        ("job", "5001", "success", 3_000_000_000, 356_000_000_000),
        ("job", "5002", "timeout", 4_500_000_000, 505_000_000_000),
        ("job", "5003", "failure", 9_250_000_000, 50_000_000_000),
        ("job", "5004", "cancellation", None, None),
    ]
