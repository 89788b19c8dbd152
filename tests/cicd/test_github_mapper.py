"""cicd.github: the traces contrib's githubreceiver makes for the same payloads, and the build
events, field by field.

Expected trace values come from two places: contrib's own golden files
(receiver/githubreceiver/testdata/*-expected*.yaml, for the payloads copied from its testdata as
tests/data/cicd/github/contrib-*.json) and contrib's id formulas (trace_event_handling.go),
recomputed here with hashlib.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.cicd.github import map_github, unique_step_names
from summitcol.cicd.model import build_pb2 as pb

DATA = Path(__file__).resolve().parent.parent / "data" / "cicd" / "github"
OBSERVED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def mapped(event: str, name: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return map_github(event, load(name), delivery_id="d-1", observed=OBSERVED, **kwargs)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def resource(request: ExportTraceServiceRequest) -> list[tuple[str, Any]]:
    [rs] = request.resource_spans
    return [(kv.key, MessageToDict(kv.value)) for kv in rs.resource.attributes]


def spans(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """Each span as contrib's golden yaml shows it (ids in hex), one per ScopeSpans, scope empty."""
    [rs] = request.resource_spans
    out = []
    for scope_spans in rs.scope_spans:
        assert not scope_spans.HasField("scope") or scope_spans.scope.ByteSize() == 0
        [span] = scope_spans.spans
        out.append({
            "name": span.name, "kind": span.kind, "traceId": span.trace_id.hex(), "spanId": span.span_id.hex(),
            "parentSpanId": span.parent_span_id.hex(), "start": span.start_time_unix_nano, "end": span.end_time_unix_nano,
            "status": (span.status.code, span.status.message),
            "attributes": [(kv.key, MessageToDict(kv.value)) for kv in span.attributes],
            "links": [(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
            "events": [event.name for event in span.events],
        })
    return out


def s(value: str) -> dict[str, str]:
    return {"stringValue": value}


def i(value: int) -> dict[str, str]:
    return {"intValue": str(value)}


# --- contrib's golden files -------------------------------------------------------------------

def test_skipped_job_is_contribs_golden_trace() -> None:
    """testdata/workflow-job-skipped.json → workflow-job-skipped-expected.yaml, every field."""
    result = mapped("workflow_job", "contrib-workflow-job-skipped.json")
    assert resource(result.spans) == [
        ("service.name", s("opentelemetry-collector-contrib")),
        ("vcs.repository.name", s("opentelemetry-collector-contrib")),
        ("vcs.provider.name", s("github")),
        ("vcs.ref.head", s("main")),
        ("vcs.ref.type", s("branch")),
        ("vcs.ref.head.revision", s("51eb1fb55541bf4856a7a24afd15bb3e90eea0ff")),
        ("cicd.pipeline.worker.id", i(0)),
        ("cicd.pipeline.worker.group.id", i(0)),
        ("cicd.pipeline.worker.name", s("")),
        ("cicd.pipeline.worker.group.name", s("")),
        ("cicd.pipeline.worker.node.id", s("CR_kwDOOjaRi88AAAAJrFr5Eg")),
        ("cicd.pipeline.name", s("build")),
        ("cicd.pipeline.task.run.sender.login", s("username")),
        ("cicd.pipeline.task.run.url.full",
         s("https://github.com/open-telemetry/opentelemetry-collector-contrib/actions/runs/14796710445/job/41546348818")),
        ("cicd.pipeline.task.run.id", i(41546348818)),
        ("cicd.pipeline.run.task.status", s("skip")),
    ]
    trace = "0b0cff7305ff68eb7d1bb72c7fdbe277"
    assert spans(result.spans) == [
        {"name": "build", "kind": 1, "traceId": trace, "spanId": "fb6779d8c7b7c66c", "parentSpanId": "3b54c768f3ef27e1",
         "start": 1746195355000000000, "end": 1746195355000000000, "status": (0, "skipped"), "attributes": [],
         "links": [], "events": []},
        {"name": "queue-build", "kind": 1, "traceId": trace, "spanId": "5ce15e491b4b01da", "parentSpanId": "fb6779d8c7b7c66c",
         "start": 1746195355000000000, "end": 1746195355000000000, "status": (0, ""),
         "attributes": [("cicd.pipeline.run.queue.duration", {"doubleValue": 0.0})], "links": [], "events": []},
    ]
    # the golden ids are contrib's formulas with the UseCheckRunID gate on
    assert trace == sha("1479671044513t")[:32]
    assert "3b54c768f3ef27e1" == sha("1479671044513s")[16:32]
    assert ("fb6779d8c7b7c66c", "5ce15e491b4b01da") == (sha("41546348818-j")[16:32], sha("41546348818-q")[16:32])


def test_completed_job_matches_contribs_golden_names_times_and_attributes() -> None:
    """testdata/workflow-job-completed.json against workflow-job-expected-check-run-id.yaml: the
    resource, trace id, root parent, names, times, statuses and attributes are the golden file's.
    Its job, queue and step span ids (and steps parented on the queue span) are not what the
    same commit's trace_event_handling.go computes; Summit follows the code (see the last lines)."""
    result = mapped("workflow_job", "contrib-workflow-job-completed.json")
    assert resource(result.spans) == [
        ("service.name", s("otel-collector")),
        ("github.repository.custom_properties.team_name", s("open-telemetry")),
        ("vcs.repository.name", s("open-telemetry-otel-collector")),
        ("vcs.provider.name", s("github")),
        ("vcs.ref.head", s("renovate/major-tool-deps")),
        ("vcs.ref.type", s("branch")),
        ("vcs.ref.head.revision", s("6077d805b0fc49f65e6dbaefc2d1fc9b4f92aa4e")),
        ("cicd.pipeline.worker.id", i(346)),
        ("cicd.pipeline.worker.group.id", i(2)),
        ("cicd.pipeline.worker.name", s("GitHub Actions 320")),
        ("cicd.pipeline.worker.group.name", s("GitHub Actions")),
        ("cicd.pipeline.worker.node.id", s("CR_kwDOJKXdfM8AAAAJeQ3FOg")),
        ("cicd.pipeline.worker.labels", {"arrayValue": {"values": [s("ubuntu-latest")]}}),
        ("cicd.pipeline.name", s("test (1.23)")),
        ("cicd.pipeline.task.run.sender.login", s("renovate[bot]")),
        ("cicd.pipeline.task.run.url.full",
         s("https://github.com/open-telemetry/open-telemetry-otel-collector/actions/runs/14460881260/job/40685651258")),
        ("cicd.pipeline.task.run.id", i(40685651258)),
        ("cicd.pipeline.run.task.status", s("success")),
    ]
    got = spans(result.spans)
    assert {span["traceId"] for span in got} == {"731ec8a47fd7450f753a812a4a8aa5a0"}
    assert got[0]["parentSpanId"] == "aba151af7cfbcf0f"
    golden = [  # name, start, end, status, attributes (from the yaml)
        ("test (1.23)", 1744837738, 1744837825, (1, "success"), []),
        ("queue-test (1.23)", 1744837738, 1744837743, (0, ""), [("cicd.pipeline.run.queue.duration", {"doubleValue": 5e9})]),
        ("Set up job", 1744837742, 1744837744, (1, "success"), None),
        ("Run actions/checkout@v4", 1744837744, 1744837745, (1, "success"), None),
        ("Set up Go", 1744837745, 1744837745, (1, "success"), None),
        ("Make test-all", 1744837746, 1744837820, (1, "success"), None),
        ("Upload coverage to Codecov", 1744837820, 1744837823, (1, "success"), None),
        ("Post Set up Go", 1744837823, 1744837823, (1, "success"), None),
        ("Post Run actions/checkout@v4", 1744837825, 1744837825, (1, "success"), None),
        ("Complete job", 1744837823, 1744837823, (1, "success"), None),
    ]
    assert len(got) == len(golden)
    for span, (name, start, end, status, attributes) in zip(got, golden, strict=True):
        expected_attributes = attributes if attributes is not None else [
            ("cicd.pipeline.task.name", s(name)), ("cicd.pipeline.run.task.status", s("success"))]
        assert (span["name"], span["start"], span["end"], span["status"], span["attributes"], span["kind"]) == (
            name, start * 10**9, end * 10**9, status, expected_attributes, 1)
    job_span = sha("40685651258-j")[16:32]
    assert [span["spanId"] for span in got[:3]] == [job_span, sha("40685651258-q")[16:32], sha("40685651258-Set up job-s")[16:32]]
    assert {span["parentSpanId"] for span in got[1:]} == {job_span}


def test_re_run_links_to_the_previous_attempts_trace() -> None:
    """workflow_run, attempt 2: the root span (SERVER) in sha256("{run}{attempt}t"), a link to
    attempt 1's trace id without span id, previous_attempt_url rewritten to its html page, a
    referenced workflow's templated attributes, and the repository's custom properties."""
    result = mapped("workflow_run", "run-attempt2-completed.json")
    assert resource(result.spans) == [
        ("service.name", s("shop")),
        ("github.repository.custom_properties.team", s("payments")),
        ("github.repository.custom_properties.tier", i(1)),
        ("vcs.repository.name", s("shop")),
        ("vcs.provider.name", s("github")),
        ("vcs.ref.head", s("main")),
        ("vcs.ref.type", s("branch")),
        ("vcs.ref.head.revision", s("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")),
        ("vcs.ref.head.revision.author.name", s("GitHub")),  # contrib reads the committer here
        ("vcs.ref.head.revision.author.email", s("noreply@github.com")),
        ("cicd.pipeline.name", s("CI")),
        ("cicd.pipeline.run.sender.login", s("alice")),
        ("cicd.pipeline.run.url.full", s("https://github.com/acme/shop/actions/runs/9100000001")),
        ("cicd.pipeline.run.id", i(9100000001)),
        ("cicd.pipeline.run.status", s("success")),
        ("cicd.pipeline.run.previous_attempt.url.full", s("https://github.com/acme/shop/actions/runs/9100000001/attempts/1")),
        ("github.reference.workflow.reusable-build.path", s("acme/shared/.github/workflows/Reusable-Build.yml@v2")),
        ("github.reference.workflow.reusable-build.revision", s("f" * 40)),
        ("github.reference.workflow.reusable-build.version", s("refs/tags/v2")),
    ]
    [root] = spans(result.spans)
    assert root == {
        "name": "CI", "kind": 2, "traceId": sha("91000000012t")[:32], "spanId": sha("91000000012s")[16:32],
        "parentSpanId": "", "start": 1793614200 * 10**9, "end": 1793614440 * 10**9, "status": (1, "success"),
        "attributes": [], "links": [(sha("91000000011t")[:32], "")], "events": [],
    }
    assert root["links"][0][0] == "be02544f770a453eda0e7788923bce01"


def test_first_attempt_has_no_link_and_a_failure_is_an_error() -> None:
    [root] = spans(mapped("workflow_run", "run-attempt1-completed.json").spans)
    assert (root["traceId"], root["links"], root["status"]) == ("be02544f770a453eda0e7788923bce01", [], (2, "failure"))


def test_duplicate_step_names_skipped_step_and_cancelled_job() -> None:
    """Repeated names get -1 (their span ids still collide: contrib hashes the raw name); a step
    GitHub reports as ending before it started is zero-length at its start; a cancelled job's
    status is Unset with the conclusion as message and its task status `cancellation`."""
    got = spans(mapped("workflow_job", "job-test-completed.json").spans)
    names = [span["name"] for span in got]
    assert names == ["test", "queue-test", "Set up job", "Restore cache", "Run tests", "Upload coverage", "Restore cache-1", "Complete job"]
    restore, restore_again = got[3], got[6]
    assert restore["spanId"] == restore_again["spanId"] == sha("31000000002-Restore cache-s")[16:32]
    upload = got[5]
    assert (upload["start"], upload["end"]) == (1793613979 * 10**9, 1793613979 * 10**9)
    assert upload["status"] == (0, "failure")  # steps carry the job's conclusion as message
    assert upload["attributes"] == [("cicd.pipeline.task.name", s("Upload coverage")), ("cicd.pipeline.run.task.status", s("failure"))]
    assert got[4]["status"] == (2, "failure")
    lint = mapped("workflow_job", "job-lint-cancelled.json").spans
    assert resource(lint)[-1] == ("cicd.pipeline.run.task.status", s("cancellation"))
    lint_spans = spans(lint)
    assert lint_spans[0]["status"] == (0, "cancelled")
    assert lint_spans[3]["attributes"][1] == ("cicd.pipeline.run.task.status", s("cancellation"))


def test_unique_step_names_as_contrib() -> None:
    assert unique_step_names(["Setup", "Build", "Test", "Build", "Test", "Deploy"]) == ["Setup", "Build", "Test", "Build-1", "Test-1", "Deploy"]
    assert unique_step_names(["Build"] * 4) == ["Build", "Build-1", "Build-2", "Build-3"]
    assert unique_step_names(["", "", "Build"]) == ["", "-1", "Build"]


def test_span_events_carry_the_raw_payload_when_configured() -> None:
    raw = (DATA / "job-build-completed.json").read_bytes()
    result = map_github("workflow_job", json.loads(raw), delivery_id="d", observed=OBSERVED, include_span_events=True, raw=raw)
    got = spans(result.spans)
    assert [span["events"] for span in got[:3]] == [["github.workflow_job.event"], [], []]
    [event] = result.spans.resource_spans[0].scope_spans[0].spans[0].events
    assert (event.time_unix_nano, event.attributes[0].key, event.attributes[0].value.string_value) == (
        1793613605 * 10**9, "event.payload", raw.decode())


def test_configured_service_name_wins_and_is_formatted() -> None:
    result = mapped("workflow_job", "contrib-workflow-job-completed.json", service_name="Checkout_API")
    assert resource(result.spans)[0] == ("service.name", s("checkout-api"))


# --- build events -------------------------------------------------------------------------------

def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_queued_then_in_progress_then_completed_job() -> None:
    """No spans until completed (contrib drops the others), a Job event each time: pending with
    only its queue start, executing with the runner and the start (queue 60 s), then completed
    with the result and one Step per step."""
    queued = mapped("workflow_job", "job-test-queued.json")
    assert queued.spans is None
    [job] = queued.events
    assert (job.event_id, job.job.state, job.job.result, job.job.result_detail) == ("github:d-1:0", pb.STATE_PENDING, pb.RESULT_UNSPECIFIED, "queued")
    assert job.job.queued_time.seconds == ts("2026-11-02T10:02:40Z")
    assert not job.job.HasField("started_time") and not job.job.HasField("finished_time")
    assert job.job.runner == pb.Runner(labels=["ubuntu-latest"])  # what it asked for; no runner yet
    running = mapped("workflow_job", "job-test-in_progress.json")
    assert running.spans is None
    job, step = running.events
    assert (job.job.state, job.job.started_time.seconds - job.job.queued_time.seconds) == (pb.STATE_EXECUTING, 60)
    assert job.job.runner == pb.Runner(id="77", name="GitHub Actions 77", labels=["ubuntu-latest"], group="GitHub Actions")
    assert (step.step.state, step.step.name, step.step.HasField("finished_time")) == (pb.STATE_EXECUTING, "Set up job", False)
    done = mapped("workflow_job", "job-test-completed.json")
    job, *steps = done.events
    assert job == pb.BuildEvent(
        event_id="github:d-1:0",
        observed_time={"seconds": ts("2026-11-02T12:00:00Z")},
        provider=pb.PROVIDER_GITHUB,
        provider_name="github",
        repository=pb.Repository(url="https://github.com/acme/shop", name="shop", owner="acme"),
        head=pb.VcsRef(name="main", type=pb.REF_TYPE_BRANCH, revision="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"),
        attributes={"github.workflow.name": "CI"},
        job=pb.Job(
            run_id="9100000001", attempt=1, job_id="31000000002", name="test", kind=pb.JOB_KIND_JOB,
            state=pb.STATE_COMPLETED, result=pb.RESULT_FAILURE, result_detail="failure",
            queued_time={"seconds": ts("2026-11-02T10:02:40Z")}, started_time={"seconds": ts("2026-11-02T10:03:40Z")},
            finished_time={"seconds": ts("2026-11-02T10:06:20Z")},
            url="https://github.com/acme/shop/actions/runs/9100000001/job/31000000002",
            runner=pb.Runner(id="77", name="GitHub Actions 77", labels=["ubuntu-latest", "X64"], group="GitHub Actions"),
            trace_id=sha("91000000011t")[:32], span_id=sha("31000000002-j")[16:32], parent_span_id=sha("91000000011s")[16:32],
        ),
    )
    assert [(e.event_id, e.step.step_id, e.step.name, e.step.result) for e in steps] == [
        ("github:d-1:1", "1", "Set up job", pb.RESULT_SUCCESS),
        ("github:d-1:2", "2", "Restore cache", pb.RESULT_SUCCESS),
        ("github:d-1:3", "3", "Run tests", pb.RESULT_FAILURE),
        ("github:d-1:4", "4", "Upload coverage", pb.RESULT_SKIP),
        ("github:d-1:5", "5", "Restore cache-1", pb.RESULT_SUCCESS),
        ("github:d-1:6", "6", "Complete job", pb.RESULT_SUCCESS),
    ]
    skipped = steps[3].step
    assert (skipped.started_time.seconds, skipped.finished_time.seconds) == (ts("2026-11-02T10:06:19Z"),) * 2
    assert (skipped.span_id, skipped.parent_span_id, skipped.trace_id) == (
        sha("31000000002-Upload coverage-s")[16:32], sha("31000000002-j")[16:32], sha("91000000011t")[:32])


def test_workflow_runs_in_progress_and_re_run() -> None:
    running = mapped("workflow_run", "run-attempt1-in_progress.json")
    assert running.spans is None
    [run] = running.events
    assert (run.pipeline_run.state, run.pipeline_run.HasField("finished_time"), run.pipeline_run.result) == (
        pb.STATE_EXECUTING, False, pb.RESULT_UNSPECIFIED)
    [rerun] = mapped("workflow_run", "run-attempt2-completed.json").events
    assert rerun.pipeline_run == pb.PipelineRun(
        pipeline_name="CI", run_id="9100000001", run_number=42, attempt=2, state=pb.STATE_COMPLETED,
        result=pb.RESULT_SUCCESS, result_detail="success",
        queued_time={"seconds": ts("2026-11-02T10:00:00Z")}, started_time={"seconds": ts("2026-11-02T10:10:00Z")},
        finished_time={"seconds": ts("2026-11-02T10:14:00Z")}, url="https://github.com/acme/shop/actions/runs/9100000001",
        trigger="push", actor="bob", pipeline_id="555", trace_id=sha("91000000012t")[:32], span_id=sha("91000000012s")[16:32],
    )
    assert rerun.attributes == {"github.workflow.path": ".github/workflows/ci.yml"}


def test_result_mapping() -> None:
    payload = load("run-attempt1-completed.json")
    results = {}
    for conclusion in ("success", "failure", "cancelled", "timed_out", "skipped", "neutral", "startup_failure"):
        payload["workflow_run"]["conclusion"] = conclusion
        [event] = map_github("workflow_run", payload, delivery_id="d", observed=OBSERVED).events
        results[conclusion] = (event.pipeline_run.result, event.pipeline_run.result_detail)
    assert results == {
        "success": (pb.RESULT_SUCCESS, "success"), "failure": (pb.RESULT_FAILURE, "failure"),
        "cancelled": (pb.RESULT_CANCELLATION, "cancelled"), "timed_out": (pb.RESULT_TIMEOUT, "timed_out"),
        "skipped": (pb.RESULT_SKIP, "skipped"), "neutral": (pb.RESULT_UNSPECIFIED, "neutral"),
        "startup_failure": (pb.RESULT_UNSPECIFIED, "startup_failure"),
    }


def test_deployment_and_its_successful_status() -> None:
    [created] = mapped("deployment", "deployment.json").events
    assert created.deployment == pb.Deployment(
        deployment_id="4242", name="deploy", service="shop", environment="production", version="main",
        status=pb.DEPLOYMENT_STATUS_PENDING, status_detail="created", started_time={"seconds": ts("2026-11-02T10:15:00Z")},
        run_id="9100000001", trace_id=sha("91000000012t")[:32],
    )
    assert created.head == pb.VcsRef(name="main", revision="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
    result = mapped("deployment_status", "deployment_status-success.json", service_name="Shop_Web")
    assert result.spans is None
    [done] = result.events
    assert (done.deployment.status, done.deployment.status_detail, done.deployment.service) == (pb.DEPLOYMENT_STATUS_SUCCEEDED, "success", "shop-web")
    assert done.deployment.finished_time.seconds - done.deployment.started_time.seconds == 210
    assert done.deployment.url == "https://github.com/acme/shop/actions/runs/9100000001/job/31000000020"


def test_deployment_states() -> None:
    payload = load("deployment_status-success.json")
    got = {}
    for state in ("queued", "pending", "waiting", "in_progress", "success", "failure", "error", "inactive"):
        payload["deployment_status"]["state"] = state
        [event] = map_github("deployment_status", payload, delivery_id="d", observed=OBSERVED).events
        got[state] = (event.deployment.status, event.deployment.HasField("finished_time"))
    assert got == {
        "queued": (pb.DEPLOYMENT_STATUS_PENDING, False), "pending": (pb.DEPLOYMENT_STATUS_PENDING, False),
        "waiting": (pb.DEPLOYMENT_STATUS_PENDING, False), "in_progress": (pb.DEPLOYMENT_STATUS_IN_PROGRESS, False),
        "success": (pb.DEPLOYMENT_STATUS_SUCCEEDED, True), "failure": (pb.DEPLOYMENT_STATUS_FAILED, True),
        "error": (pb.DEPLOYMENT_STATUS_FAILED, True), "inactive": (pb.DEPLOYMENT_STATUS_UNSPECIFIED, False),
    }


def test_push_makes_one_change_per_commit_and_a_deleted_branch_none() -> None:
    result = mapped("push", "push.json")
    assert result.spans is None
    first, second = result.events
    assert first.head == pb.VcsRef(name="main", type=pb.REF_TYPE_BRANCH, revision="1" * 40)
    assert first.change == pb.Change(
        author_name="Alice Doe", author_email="alice@acme.test",
        authored_time={"seconds": ts("2026-11-02T08:40:00Z")},  # 09:40+01:00
        pushed_time={"seconds": ts("2026-11-02T12:00:00Z")}, title="Retry checkout on 5xx",
        url="https://github.com/acme/shop/commit/1111111111111111111111111111111111111111", pusher="alice",
    )
    assert (second.event_id, second.change.author_name, second.head.revision) == ("github:d-1:1", "Bob Roe", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
    # lead time from authoring to push, as the changes table will see it
    assert second.change.pushed_time.seconds - second.change.authored_time.seconds == 2 * 3600 + 2 * 60
    assert mapped("push", "push-deleted.json").events == []
