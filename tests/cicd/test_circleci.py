"""CircleCI workflow-completed and job-completed deliveries to exact build events, and the trace
Summit makes for them (ids from CircleCI's UUIDs, so the separately delivered workflow and jobs
land in one trace)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from summitcol.cicd.circleci import CircleCIPayloadError, map_circleci
from summitcol.cicd.model import build_pb2 as b

DATA = Path(__file__).parent.parent / "data" / "cicd" / "circleci"
OBSERVED = datetime(2026, 11, 20, 9, 31, 35, tzinfo=UTC)
WORKFLOW_ID = "fda08377-fe7e-46b1-8992-3a7aaecac9c3"
SHA = "1dc6aa69429bff4806ad6afe58d3d8f57e25973e"
TRACE_ID = hashlib.sha256(f"circleci:{WORKFLOW_ID}t".encode()).hexdigest()[:32]
ROOT_SPAN_ID = hashlib.sha256(f"circleci:{WORKFLOW_ID}s".encode()).hexdigest()[16:32]
WORKFLOW_URL = f"https://app.circleci.com/pipelines/github/acme/webhook-service/130/workflows/{WORKFLOW_ID}"
REPOSITORY = b.Repository(url="https://github.com/acme/webhook-service", name="webhook-service", owner="acme")
ENVELOPE_ATTRIBUTES = {"circleci.project.slug": "gh/acme/webhook-service", "circleci.organization.name": "acme",
                       "circleci.pipeline.id": "1285fe1d-d3a6-44fc-8886-8979558254c4", "vcs.provider.name": "github"}


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def ts(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(text))
    return stamp


def attrs(kvs: Any) -> dict[str, object]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in kvs}


def test_workflow_completed_is_one_pipeline_run() -> None:
    mapped = map_circleci("workflow-completed", load("workflow_completed_github.json"), observed=OBSERVED)
    assert mapped.events == [b.BuildEvent(
        event_id="circleci:3888f21b-eaa7-38e3-8f3d-75a63bba8895:0",
        observed_time=ts("2026-11-20T09:31:35+00:00"),
        provider=b.PROVIDER_CIRCLECI,
        provider_name="circleci",
        # the target repository, not the fork's origin_repository_url
        repository=REPOSITORY,
        head=b.VcsRef(name="main", type=b.REF_TYPE_BRANCH, revision=SHA),
        attributes=ENVELOPE_ATTRIBUTES,
        pipeline_run=b.PipelineRun(
            pipeline_name="build-test-deploy", run_id=WORKFLOW_ID, run_number=130, attempt=1,
            state=b.STATE_COMPLETED, result=b.RESULT_FAILURE, result_detail="failed",
            queued_time=ts("2026-11-20T09:30:01.544+00:00"),  # pipeline.created_at
            started_time=ts("2026-11-20T09:30:03.616+00:00"),  # workflow.created_at
            finished_time=ts("2026-11-20T09:31:34.170+00:00"),  # workflow.stopped_at
            url=WORKFLOW_URL, trigger="webhook", pipeline_id="84996744-a854-4f5e-aea3-04e2851dc1d2",
            trace_id=TRACE_ID, span_id=ROOT_SPAN_ID,
        ),
    )]


def test_workflow_span() -> None:
    mapped = map_circleci("workflow-completed", load("workflow_completed_github.json"), observed=OBSERVED)
    (resource_spans,) = mapped.spans.resource_spans
    assert attrs(resource_spans.resource.attributes) == {
        "service.name": "webhook-service", "vcs.provider.name": "github", "vcs.repository.name": "webhook-service",
        "vcs.repository.url.full": "https://github.com/acme/webhook-service", "vcs.ref.head.name": "main",
        "vcs.ref.head.type": "branch", "vcs.ref.head.revision": SHA,
    }
    (scope,) = resource_spans.scope_spans
    assert scope.scope.name == "summitcol.cicd.circleci"
    (span,) = scope.spans
    assert (span.trace_id.hex(), span.span_id.hex(), span.parent_span_id, span.name, span.kind) == (
        TRACE_ID, ROOT_SPAN_ID, b"", "build-test-deploy", Span.SPAN_KIND_SERVER)
    assert (span.start_time_unix_nano, span.end_time_unix_nano) == (1795167003_616000000, 1795167094_170000000)
    assert span.status == Status(code=Status.STATUS_CODE_ERROR, message="failed")
    assert attrs(span.attributes) == {
        "cicd.pipeline.name": "build-test-deploy", "cicd.pipeline.run.id": WORKFLOW_ID,
        "cicd.pipeline.run.url.full": WORKFLOW_URL, "cicd.pipeline.result": "failure", "error.type": "failed",
    }


def test_job_completed_is_one_job_under_the_workflow_span() -> None:
    mapped = map_circleci("job-completed", load("job_completed_github.json"), observed=OBSERVED)
    job_span_id = hashlib.sha256(b"circleci:8bd26fc9-0b4f-4e2b-b1ae-bb3c0f5c2a11j").hexdigest()[16:32]
    assert mapped.events == [b.BuildEvent(
        event_id="circleci:8d7a3cf3-37f7-3bb0-b3b3-5c3a1d2e4f60:0",
        observed_time=ts("2026-11-20T09:31:35+00:00"),
        provider=b.PROVIDER_CIRCLECI,
        provider_name="circleci",
        repository=REPOSITORY,
        head=b.VcsRef(name="main", type=b.REF_TYPE_BRANCH, revision=SHA),
        attributes=ENVELOPE_ATTRIBUTES | {"circleci.job.id": "8bd26fc9-0b4f-4e2b-b1ae-bb3c0f5c2a11",
                                          "cicd.pipeline.name": "build-test-deploy"},
        job=b.Job(
            run_id=WORKFLOW_ID, attempt=1, job_id="136", name="test", kind=b.JOB_KIND_JOB, state=b.STATE_COMPLETED,
            result=b.RESULT_FAILURE, result_detail="failed",
            started_time=ts("2026-11-20T09:30:09.010+00:00"), finished_time=ts("2026-11-20T09:31:20.005+00:00"),
            url=f"{WORKFLOW_URL}/jobs/136", trace_id=TRACE_ID, span_id=job_span_id, parent_span_id=ROOT_SPAN_ID,
        ),
    )]
    (span,) = mapped.spans.resource_spans[0].scope_spans[0].spans
    assert (span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(), span.name, span.kind) == (
        TRACE_ID, job_span_id, ROOT_SPAN_ID, "test", Span.SPAN_KIND_INTERNAL)
    assert attrs(span.attributes) == {
        "cicd.pipeline.name": "build-test-deploy", "cicd.pipeline.run.id": WORKFLOW_ID,
        "cicd.pipeline.task.name": "test", "cicd.pipeline.task.run.id": "136",
        "cicd.pipeline.task.run.url.full": f"{WORKFLOW_URL}/jobs/136", "cicd.pipeline.task.run.result": "failure",
        "error.type": "failed",
    }


def test_job_cancelled_before_it_started() -> None:
    mapped = map_circleci("job-completed", load("job_completed_canceled.json"), observed=OBSERVED)
    job = mapped.events[0].job
    assert (job.job_id, job.result, job.result_detail, job.HasField("started_time"), job.finished_time) == (
        "137", b.RESULT_CANCELLATION, "canceled", False, ts("2026-11-20T09:31:21+00:00"))
    (span,) = mapped.spans.resource_spans[0].scope_spans[0].spans
    assert span.start_time_unix_nano == span.end_time_unix_nano == 1795167081_000000000
    assert span.status == Status()  # cancellation is not an error


def test_gitlab_project_reads_trigger_parameters() -> None:
    mapped = map_circleci("workflow-completed", load("workflow_completed_gitlab.json"), observed=OBSERVED)
    (event,) = mapped.events
    assert event.repository == b.Repository(url="https://gitlab.example.com/acme/platform/shop", name="shop",
                                            owner="acme/platform")
    assert event.head == b.VcsRef(name="release", type=b.REF_TYPE_BRANCH,
                                  revision="e2653ebfb5bbd2d5ccd94231a4fe8bfc308f8982")
    assert (event.pipeline_run.result, event.pipeline_run.trigger, event.pipeline_run.actor) == (
        b.RESULT_SUCCESS, "gitlab", "ada")
    assert event.attributes["vcs.provider.name"] == "gitlab"
    assert mapped.spans.resource_spans[0].scope_spans[0].spans[0].status == Status()


def test_workflow_and_job_deliveries_share_one_trace() -> None:
    workflow = map_circleci("workflow-completed", load("workflow_completed_github.json"), observed=OBSERVED)
    jobs = [map_circleci("job-completed", load(name), observed=OBSERVED)
            for name in ("job_completed_github.json", "job_completed_canceled.json")]
    root = workflow.spans.resource_spans[0].scope_spans[0].spans[0]
    for mapped in jobs:
        span = mapped.spans.resource_spans[0].scope_spans[0].spans[0]
        assert (span.trace_id, span.parent_span_id) == (root.trace_id, root.span_id)


@pytest.mark.parametrize(("status", "result"), [
    ("success", b.RESULT_SUCCESS), ("failed", b.RESULT_FAILURE), ("error", b.RESULT_ERROR),
    ("canceled", b.RESULT_CANCELLATION), ("unauthorized", b.RESULT_ERROR),
])
def test_workflow_statuses(status: str, result: int) -> None:
    payload = load("workflow_completed_github.json")
    payload["workflow"]["status"] = status
    run = map_circleci("workflow-completed", payload, observed=OBSERVED).events[0].pipeline_run
    assert (run.result, run.result_detail) == (result, status)


def test_ping_and_unknown_types_are_empty_and_missing_ids_are_errors() -> None:
    assert map_circleci("ping", {"id": "x"}, observed=OBSERVED).events == []
    with pytest.raises(CircleCIPayloadError) as caught:
        map_circleci("workflow-completed", {"id": "x"}, observed=OBSERVED)
    assert str(caught.value) == "workflow-completed payload has no id or no workflow.id; is it a CircleCI webhook?"
