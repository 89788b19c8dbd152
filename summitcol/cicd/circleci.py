"""CircleCI outbound webhooks (`workflow-completed`, `job-completed`) to build events and spans.

Events: a workflow-completed delivery is one PipelineRun (run_id = workflow.id, pipeline_name =
workflow.name, queued = pipeline.created_at, started = workflow.created_at, finished =
workflow.stopped_at); a job-completed delivery is one Job of that run (job_id = the job's
number, which is CircleCI's CIRCLE_BUILD_NUM inside the job, so `summitcol ci junit` run there
joins its test cases to this job). Repository and revision come from `pipeline.vcs` (GitHub OAuth
and Bitbucket Cloud projects) or else `pipeline.trigger_parameters` (GitLab, GitHub App,
Bitbucket DC projects have no `vcs`).

Spans: no contrib receiver exists for CircleCI, so nothing forces a shape; Summit makes a trace
per workflow following the semconv CI/CD spans, because without one CircleCI builds are missing
from trace views and from build-to-trace linking, and because the ids can be derived inside the
job from its environment (CIRCLE_WORKFLOW_ID, CIRCLE_WORKFLOW_JOB_ID), so a step's own spans can
join the same trace. The ids depend only on CircleCI's UUIDs, not on times, so the workflow and
job deliveries, which arrive separately and in any order, agree:

    trace_id = sha256(f"circleci:{workflow.id}t")[:32]
    run span = sha256(f"circleci:{workflow.id}s")[16:32]      kind SERVER, name = workflow name
    job span = sha256(f"circleci:{job.id}j")[16:32]           kind INTERNAL, parent = run span

(the same slicing as contrib's GitHub and GitLab receivers). Each delivery carries its own span;
the run span arrives with workflow-completed, the job spans with each job-completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from summitcol.cicd import payload as p
from summitcol.cicd.mapped import Mapped
from summitcol.cicd.model import build_pb2 as b
from summitcol.cicd.timefmt import parse_time, unix_nanos

PROVIDER_NAME = "circleci"
SCOPE_NAME = "summitcol.cicd.circleci"
WORKFLOW_COMPLETED = "workflow-completed"
JOB_COMPLETED = "job-completed"

# workflow-completed: success, failed, error, canceled, unauthorized; job-completed: success,
# failed, canceled, unauthorized (webhooks-reference); the v2 API's other job statuses as well.
_RESULTS = {
    "success": b.RESULT_SUCCESS,
    "failed": b.RESULT_FAILURE,
    "error": b.RESULT_ERROR,
    "infrastructure_fail": b.RESULT_ERROR,
    # The run was refused (a restricted context, a blocked user): CircleCI's doing, not the code's.
    "unauthorized": b.RESULT_ERROR,
    "timedout": b.RESULT_TIMEOUT,
    "canceled": b.RESULT_CANCELLATION,
    "not_run": b.RESULT_SKIP,
}
# semconv cicd.pipeline.result / cicd.pipeline.task.run.result values
_SEMCONV_RESULTS = {
    b.RESULT_SUCCESS: "success", b.RESULT_FAILURE: "failure", b.RESULT_ERROR: "error",
    b.RESULT_TIMEOUT: "timeout", b.RESULT_CANCELLATION: "cancellation", b.RESULT_SKIP: "skip",
}


class CircleCIPayloadError(ValueError):
    """A CircleCI payload without what every delivery of its type has."""


def map_circleci(event_type: str, payload: dict[str, Any], *, observed: datetime) -> Mapped:
    """Map one CircleCI delivery (`event_type` = the circleci-event-type header). The payload's
    `id` is the delivery's dedupe key, so event_id = circleci:{id}:{n}. Other types (the test
    ping) map to an empty Mapped."""
    if event_type not in (WORKFLOW_COMPLETED, JOB_COMPLETED):
        return Mapped()
    event_id = p.text(payload, "id")
    workflow = p.obj(payload, "workflow")
    workflow_id = p.text(workflow, "id")
    if not event_id or not workflow_id:
        raise CircleCIPayloadError(f"{event_type} payload has no id or no workflow.id; is it a CircleCI webhook?")
    context = _Context.read(payload, observed)
    if event_type == WORKFLOW_COMPLETED:
        return _workflow(payload, context)
    return _job(payload, context)


@dataclass(slots=True)
class _Context:
    """What every CircleCI event shares: repository, revision, ids, the envelope's attributes."""

    event_id: str
    observed: datetime
    repository: b.Repository
    head: b.VcsRef
    vcs_provider: str
    attributes: dict[str, str]
    workflow_id: str
    trace_id: str
    root_span_id: str

    @classmethod
    def read(cls, payload: dict[str, Any], observed: datetime) -> _Context:
        project = p.obj(payload, "project")
        pipeline = p.obj(payload, "pipeline")
        vcs = p.obj(pipeline, "vcs")
        trigger_parameters = p.obj(pipeline, "trigger_parameters")
        git = p.obj(trigger_parameters, "git")
        gitlab = p.obj(trigger_parameters, "gitlab")
        if vcs:
            repository = p.repository_from_url(p.text(vcs, "target_repository_url"))
            ref_name, ref_type = _ref(p.text(vcs, "branch"), p.text(vcs, "tag"))
            revision = p.text(vcs, "revision")
            vcs_provider = p.text(vcs, "provider_name").lower()
        else:
            repository = p.repository_from_url(p.text(gitlab, "web_url") or p.text(git, "checkout_url")
                                               or p.text(gitlab, "repo_url"))
            ref_name, ref_type = _ref(p.text(git, "branch") or p.text(gitlab, "branch"), p.text(git, "tag"))
            revision = p.text(git, "checkout_sha") or p.text(gitlab, "checkout_sha") or p.text(gitlab, "commit_sha")
            vcs_provider = "gitlab" if gitlab else ""
        if not repository.name:
            repository = b.Repository(name=p.text(project, "name"), owner=p.text(p.obj(payload, "organization"), "name"))
        workflow_id = p.text(p.obj(payload, "workflow"), "id")
        return cls(
            event_id=p.text(payload, "id"),
            observed=observed,
            repository=repository,
            head=b.VcsRef(name=ref_name, type=ref_type, revision=revision),
            vcs_provider=vcs_provider,
            attributes={
                "circleci.project.slug": p.text(project, "slug"),
                "circleci.organization.name": p.text(p.obj(payload, "organization"), "name"),
                "circleci.pipeline.id": p.text(pipeline, "id"),
                "vcs.provider.name": vcs_provider,
            },
            workflow_id=workflow_id,
            trace_id=p.trace_id_hex(f"circleci:{workflow_id}t"),
            root_span_id=p.span_id_hex(f"circleci:{workflow_id}s"),
        )

    def wrap(self, attributes: dict[str, str], **event: Any) -> b.BuildEvent:
        return b.BuildEvent(
            event_id=f"{PROVIDER_NAME}:{self.event_id}:0",
            observed_time=p.timestamp(self.observed),
            provider=b.PROVIDER_CIRCLECI,
            provider_name=PROVIDER_NAME,
            repository=self.repository,
            head=self.head,
            attributes={k: v for k, v in (self.attributes | attributes).items() if v},
            **event,
        )

    def resource(self, payload: dict[str, Any]) -> Resource:
        pairs: list[tuple[str, p.AttrValue]] = [("service.name", p.text(p.obj(payload, "project"), "name")
                                                  or self.repository.name or "unknown_service")]
        if self.vcs_provider:
            pairs.append(("vcs.provider.name", self.vcs_provider))
        pairs += [
            ("vcs.repository.name", self.repository.name),
            ("vcs.repository.url.full", self.repository.url),
            ("vcs.ref.head.name", self.head.name),
            ("vcs.ref.head.type", "tag" if self.head.type == b.REF_TYPE_TAG else "branch"),
            ("vcs.ref.head.revision", self.head.revision),
        ]
        return Resource(attributes=p.key_values((k, v) for k, v in pairs if v != ""))


def _workflow(payload: dict[str, Any], context: _Context) -> Mapped:
    workflow = p.obj(payload, "workflow")
    pipeline = p.obj(payload, "pipeline")
    status = p.text(workflow, "status").lower()
    result = _RESULTS.get(status, b.RESULT_UNSPECIFIED)
    run = b.PipelineRun(
        pipeline_name=p.text(workflow, "name"),
        run_id=context.workflow_id,
        run_number=p.integer(pipeline, "number"),
        # A CircleCI re-run is a new workflow (a new id) in the same pipeline.
        attempt=1,
        state=b.STATE_COMPLETED,
        result=result,
        result_detail=status,
        url=p.text(workflow, "url"),
        trigger=p.text(p.obj(pipeline, "trigger"), "type"),
        actor=p.text(p.obj(p.obj(pipeline, "trigger_parameters"), "gitlab"), "user_username"),
        pipeline_id=p.text(p.obj(payload, "project"), "id"),
        trace_id=context.trace_id,
        span_id=context.root_span_id,
    )
    queued = parse_time(p.text(pipeline, "created_at"))
    started = parse_time(p.text(workflow, "created_at"))
    finished = parse_time(p.text(workflow, "stopped_at"))
    if queued:
        run.queued_time.CopyFrom(p.timestamp(queued))
    if started:
        run.started_time.CopyFrom(p.timestamp(started))
    if finished:
        run.finished_time.CopyFrom(p.timestamp(finished))
    event = context.wrap({}, pipeline_run=run)
    spans = None
    if started and finished:
        attributes: list[tuple[str, p.AttrValue]] = [
            ("cicd.pipeline.name", run.pipeline_name),
            ("cicd.pipeline.run.id", run.run_id),
            ("cicd.pipeline.run.url.full", run.url),
            ("cicd.pipeline.result", _SEMCONV_RESULTS.get(result, status)),
        ]
        span = _span(context.trace_id, context.root_span_id, "", run.pipeline_name, Span.SPAN_KIND_SERVER,
                     started, finished, result, status, attributes)
        spans = _request(context.resource(payload), span)
    return Mapped(spans=spans, events=[event])


def _job(payload: dict[str, Any], context: _Context) -> Mapped:
    job_payload = p.obj(payload, "job")
    workflow = p.obj(payload, "workflow")
    number = p.text(job_payload, "number")
    job_uuid = p.text(job_payload, "id")
    if not number and not job_uuid:
        raise CircleCIPayloadError("job-completed payload has no job.number or job.id")
    status = p.text(job_payload, "status").lower()
    result = _RESULTS.get(status, b.RESULT_UNSPECIFIED)
    workflow_url = p.text(workflow, "url")
    span_id = p.span_id_hex(f"circleci:{job_uuid}j") if job_uuid else ""
    job = b.Job(
        run_id=context.workflow_id,
        attempt=1,
        job_id=number or job_uuid,
        name=p.text(job_payload, "name"),
        kind=b.JOB_KIND_JOB,
        state=b.STATE_COMPLETED,
        result=result,
        result_detail=status,
        url=f"{workflow_url}/jobs/{number}" if workflow_url and number else "",
        trace_id=context.trace_id,
        span_id=span_id,
        parent_span_id=context.root_span_id if span_id else "",
    )
    # CircleCI says when a job started running, not when it was queued.
    started = parse_time(p.text(job_payload, "started_at"))
    finished = parse_time(p.text(job_payload, "stopped_at"))
    if started:
        job.started_time.CopyFrom(p.timestamp(started))
    if finished:
        job.finished_time.CopyFrom(p.timestamp(finished))
    event = context.wrap({"circleci.job.id": job_uuid, "cicd.pipeline.name": p.text(workflow, "name")}, job=job)
    spans = None
    if span_id and finished:
        attributes: list[tuple[str, p.AttrValue]] = [
            ("cicd.pipeline.name", p.text(workflow, "name")),
            ("cicd.pipeline.run.id", context.workflow_id),
            ("cicd.pipeline.task.name", job.name),
            ("cicd.pipeline.task.run.id", job.job_id),
            ("cicd.pipeline.task.run.url.full", job.url),
            ("cicd.pipeline.task.run.result", _SEMCONV_RESULTS.get(result, status)),
        ]
        # A job cancelled before it started: a zero-length span at its end, as contrib does for
        # GitHub jobs whose end precedes their start.
        span = _span(context.trace_id, span_id, context.root_span_id, job.name, Span.SPAN_KIND_INTERNAL,
                     started or finished, finished, result, status, attributes)
        spans = _request(context.resource(payload), span)
    return Mapped(spans=spans, events=[event])


def _span(trace_id: str, span_id: str, parent_span_id: str, name: str, kind: int, start: datetime,
          end: datetime, result: int, status: str, attributes: list[tuple[str, p.AttrValue]]) -> Span:
    """Status Error (message = CircleCI's status) and error.type for failure, error and timeout,
    as semconv's recording-errors rules say; Unset otherwise."""
    failed = result in (b.RESULT_FAILURE, b.RESULT_ERROR, b.RESULT_TIMEOUT)
    if failed:
        attributes = [*attributes, ("error.type", status)]
    end = max(end, start)
    return Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=bytes.fromhex(span_id),
        parent_span_id=bytes.fromhex(parent_span_id) if parent_span_id else b"",
        name=name,
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=unix_nanos(start),
        end_time_unix_nano=unix_nanos(end),
        attributes=p.key_values(attributes),
        status=Status(code=Status.STATUS_CODE_ERROR, message=status) if failed else Status(),
    )


def _request(resource: Resource, span: Span) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=resource, scope_spans=[ScopeSpans(scope=InstrumentationScope(name=SCOPE_NAME), spans=[span])])])


def _ref(branch: str, tag: str) -> tuple[str, int]:
    if tag:
        return tag, b.REF_TYPE_TAG
    if branch:
        return branch, b.REF_TYPE_BRANCH
    return "", b.REF_TYPE_UNSPECIFIED
