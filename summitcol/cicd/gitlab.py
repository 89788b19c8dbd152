"""GitLab webhook payloads (Pipeline, Job, Deployment and Push hooks) to build events, and finished
pipelines to the trace contrib's gitlabreceiver makes for them.

The trace follows receiver/gitlabreceiver (traces_event_handling.go@e3bd2d1, model.go@03f5f7f,
semconv v1.38, plus contrib PR #47623, which skips stages that never started): one resource with
the pipeline's attributes, each span in its own scope (as contrib's createSpan appends one), ids

    trace_id      = sha256(f"{pipeline_id}t{finished_at}")[:32]
    pipeline span = sha256(f"{pipeline_id}{finished_at}")[16:32]
    stage span    = sha256(f"{pipeline_id}{stage}{stage_started_at}")[16:32]
    job span      = sha256(f"{job_id}{job_started_at}")[16:32]

over the payload's time *strings* as written (contrib hashes the raw text, so the ids follow the
format GitLab used). Pipeline, stage and job spans are all kind SERVER, as in contrib. Where
contrib fails the whole delivery (a job with finished_at but no started_at, a stage that started
but whose jobs never finished) Summit leaves that one span out instead, so the rest still lands.
Contrib orders stage spans by Go map iteration (random); Summit writes them in the order their
first job appears in `builds`.

Build events: a Pipeline Hook gives a PipelineRun (PENDING or EXECUTING while it runs, COMPLETED
once finished); a finished one also gives a Job(kind=STAGE) per stage (earliest job start, latest
job finish, as contrib synthesises them) and a Job per build. A Job Hook gives one Job, a
Deployment Hook one Deployment, a Push Hook one Change per commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from summitcol.cicd import payload as p
from summitcol.cicd.mapped import Mapped
from summitcol.cicd.model import build_pb2 as b
from summitcol.cicd.timefmt import parse_time, unix_nanos

PROVIDER_NAME = "gitlab"

# X-Gitlab-Event values (go-gitlab event_parsing.go); "Build Hook" is the old name of Job Hook.
PIPELINE_HOOK = "Pipeline Hook"
JOB_HOOKS = ("Job Hook", "Build Hook")
DEPLOYMENT_HOOK = "Deployment Hook"
PUSH_HOOK = "Push Hook"
SYSTEM_HOOK = "System Hook"
# A System Hook carries any of them; its object_kind says which.
_OBJECT_KINDS = {"pipeline": PIPELINE_HOOK, "build": JOB_HOOKS[0], "deployment": DEPLOYMENT_HOOK, "push": PUSH_HOOK}

# Pipeline statuses contrib treats as finished (constants.go) and as still running.
FINISHED_STATUSES = frozenset({"success", "failed", "canceled", "skipped"})
_PENDING_STATUSES = frozenset({"created", "waiting_for_resource", "preparing", "pending", "scheduled", "manual"})
_STATES = {
    **{status: b.STATE_PENDING for status in _PENDING_STATUSES},
    "running": b.STATE_EXECUTING,
    "canceling": b.STATE_FINALIZING,
    **{status: b.STATE_COMPLETED for status in FINISHED_STATUSES},
}
_RESULTS = {
    "success": b.RESULT_SUCCESS,
    "failed": b.RESULT_FAILURE,
    "canceled": b.RESULT_CANCELLATION,
    "skipped": b.RESULT_SKIP,
}
# Job failure reasons (GitLab's CommitStatus failure_reason enum) that are not the job's own fault.
_TIMEOUT_REASONS = frozenset({"job_execution_timeout", "stuck_or_timeout_failure"})
_ERROR_REASONS = frozenset({
    "runner_system_failure", "api_failure", "scheduler_failure", "data_integrity_failure",
    "runner_unsupported", "no_matching_runner", "archived_failure", "environment_creation_failure",
})
_DEPLOYMENT_STATUSES = {
    "created": b.DEPLOYMENT_STATUS_PENDING,
    "running": b.DEPLOYMENT_STATUS_IN_PROGRESS,
    "success": b.DEPLOYMENT_STATUS_SUCCEEDED,
    "failed": b.DEPLOYMENT_STATUS_FAILED,
    "canceled": b.DEPLOYMENT_STATUS_CANCELLED,
}
_FINISHED_DEPLOYMENT = frozenset({b.DEPLOYMENT_STATUS_SUCCEEDED, b.DEPLOYMENT_STATUS_FAILED,
                                  b.DEPLOYMENT_STATUS_CANCELLED})
_TASK_TYPES = {"build": b.TASK_TYPE_BUILD, "test": b.TASK_TYPE_TEST, "deploy": b.TASK_TYPE_DEPLOY}
_SHA = re.compile(r"^[0-9a-f]{40}$")

# Stage Job.job_id: GitLab's webhooks carry no stage id, and a stage name is unique in a pipeline.
STAGE_ID_PREFIX = "stage:"


class GitLabPayloadError(ValueError):
    """A GitLab payload that lacks what every delivery of its kind has (an id)."""


def map_gitlab(event: str, payload: dict[str, Any], *, delivery_id: str, observed: datetime,
               include_user_attributes: bool = False) -> Mapped:
    """Map one GitLab delivery. `event` is the X-Gitlab-Event header, `delivery_id` the delivery's
    stable id (Idempotency-Key, else X-Gitlab-Event-UUID), `observed` when it arrived.
    `include_user_attributes` is contrib's option of the same name (author and actor attributes
    on the trace's resource). Events Summit does not use map to an empty Mapped."""
    if event == SYSTEM_HOOK:
        event = _OBJECT_KINDS.get(p.text(payload, "object_kind"), event)
    envelope = _Envelope(delivery_id=delivery_id, observed=observed)
    if event == PIPELINE_HOOK:
        return _pipeline(payload, envelope, include_user_attributes)
    if event in JOB_HOOKS:
        return Mapped(events=[_job_hook(payload, envelope)])
    if event == DEPLOYMENT_HOOK:
        return Mapped(events=[_deployment(payload, envelope)])
    if event == PUSH_HOOK:
        return Mapped(events=_push(payload, envelope))
    return Mapped()


@dataclass(slots=True)
class _Envelope:
    """Numbers the events of one delivery: event_id = gitlab:{delivery}:{position}."""

    delivery_id: str
    observed: datetime
    count: int = 0

    def wrap(self, repository: b.Repository, head: b.VcsRef, attributes: dict[str, str],
             **event: Any) -> b.BuildEvent:
        built = b.BuildEvent(
            event_id=f"{PROVIDER_NAME}:{self.delivery_id}:{self.count}",
            observed_time=p.timestamp(self.observed),
            provider=b.PROVIDER_GITLAB,
            provider_name=PROVIDER_NAME,
            repository=repository,
            head=head,
            attributes={key: value for key, value in attributes.items() if value},
            **event,
        )
        self.count += 1
        return built


# ---------------------------------------------------------------------------------------------
# Pipeline Hook


@dataclass(slots=True)
class _Stage:
    """A stage synthesised from its jobs, as contrib's newStages/setStageTime do."""

    name: str
    first_status: str  # contrib's stage status: its first job's
    started_raw: str = ""
    finished_raw: str = ""
    jobs: list[b.Job] = field(default_factory=list)
    allowed_to_fail: set[str] = field(default_factory=set)  # job ids with allow_failure

    def widen(self, started_raw: str, finished_raw: str) -> None:
        """Earliest start, latest finish; the raw strings kept, for the span id."""
        if started_raw and (not self.started_raw or _t(started_raw) < _t(self.started_raw)):
            self.started_raw = started_raw
        if finished_raw and (not self.finished_raw or _t(finished_raw) > _t(self.finished_raw)):
            self.finished_raw = finished_raw


def _pipeline(payload: dict[str, Any], envelope: _Envelope, include_user_attributes: bool) -> Mapped:
    attrs = p.obj(payload, "object_attributes")
    project = p.obj(payload, "project")
    pipeline_id = p.integer(attrs, "id")
    if not pipeline_id:
        raise GitLabPayloadError("Pipeline Hook payload has no object_attributes.id; is it a pipeline event?")
    status = p.text(attrs, "status").lower()
    state = _STATES.get(status, b.STATE_UNSPECIFIED)
    finished_raw = p.text(attrs, "finished_at")
    repository = _project_repository(project)
    head = _head(p.text(attrs, "ref"), p.flag(attrs, "tag"), p.text(attrs, "sha"))
    run_id = str(pipeline_id)
    builds = p.items(payload, "builds")

    # contrib makes a trace only for a finished pipeline with its finished_at (traces need it for
    # their ids) and with the fields its validatePipelineEvent requires.
    traced = status in FINISHED_STATUSES and bool(finished_raw) and _valid_for_trace(payload)
    trace_id = p.trace_id_hex(f"{pipeline_id}t{finished_raw}") if traced else ""
    root_span_id = p.span_id_hex(f"{pipeline_id}{finished_raw}") if traced else ""

    stages: dict[str, _Stage] = {}
    jobs: list[tuple[dict[str, Any], b.Job]] = []
    if state == b.STATE_COMPLETED:
        # Events in execution order: stages as object_attributes.stages lists them (then any
        # other in first appearance), jobs by stage then id. A stage's status for contrib's span
        # stays its first job's in payload order.
        order = {name: i for i, name in enumerate(p.strings(attrs, "stages"))}
        for build in builds:
            order.setdefault(p.text(build, "stage"), len(order))
        for build in sorted(builds, key=lambda x: (order[p.text(x, "stage")], p.integer(x, "id"))):
            stages.setdefault(p.text(build, "stage"), _Stage(p.text(build, "stage"), ""))
        for build in builds:
            if not stages[p.text(build, "stage")].first_status:
                stages[p.text(build, "stage")].first_status = p.text(build, "status")
        for build in sorted(builds, key=lambda x: (order[p.text(x, "stage")], p.integer(x, "id"))):
            job = _pipeline_build(build, run_id, project, trace_id)
            stage = stages[job.stage]
            stage.widen(p.text(build, "started_at"), p.text(build, "finished_at"))
            stage.jobs.append(job)
            if p.flag(build, "allow_failure"):
                stage.allowed_to_fail.add(job.job_id)
            jobs.append((build, job))

    # Span ids of stages and jobs, where contrib makes their spans.
    stage_span_ids: dict[str, str] = {}
    if traced:
        for stage in stages.values():
            if stage.name and stage.started_raw and stage.finished_raw:
                stage_span_ids[stage.name] = p.span_id_hex(f"{pipeline_id}{stage.name}{stage.started_raw}")
        for build, job in jobs:
            if p.text(build, "finished_at") and p.text(build, "started_at") and job.stage in stage_span_ids:
                job.span_id = p.span_id_hex(f"{p.integer(build, 'id')}{p.text(build, 'started_at')}")
                job.parent_span_id = stage_span_ids[job.stage]

    run = b.PipelineRun(
        pipeline_name=p.text(attrs, "name") or p.text(p.obj(payload, "commit"), "title"),
        run_id=run_id,
        run_number=p.integer(attrs, "iid"),
        attempt=1,
        state=state,
        result=_RESULTS.get(status, b.RESULT_UNSPECIFIED) if state == b.STATE_COMPLETED else b.RESULT_UNSPECIFIED,
        result_detail=status,
        url=p.text(attrs, "url"),
        trigger=p.text(attrs, "source"),
        actor=p.text(p.obj(payload, "user"), "username"),
        pipeline_id=p.text(project, "id"),
        trace_id=trace_id,
        span_id=root_span_id,
    )
    created = parse_time(p.text(attrs, "created_at"))
    if created:
        run.queued_time.CopyFrom(p.timestamp(created))
    started = _pipeline_started(attrs, builds, created)
    if started:
        run.started_time.CopyFrom(p.timestamp(started))
    finished = parse_time(finished_raw)
    if finished and state == b.STATE_COMPLETED:
        run.finished_time.CopyFrom(p.timestamp(finished))
    merge_request = p.obj(payload, "merge_request")
    if p.integer(merge_request, "id"):
        run.change_id = p.text(merge_request, "iid")
        run.base.CopyFrom(b.VcsRef(name=p.text(merge_request, "target_branch"), type=b.REF_TYPE_BRANCH))
    source = p.obj(payload, "source_pipeline")
    run_attributes = {
        "gitlab.pipeline.source": p.text(attrs, "source"),
        "gitlab.pipeline.source.pipeline.id": p.text(source, "pipeline_id"),
        "gitlab.pipeline.source.pipeline.job.id": p.text(source, "job_id"),
        "gitlab.pipeline.source.pipeline.project.url": p.text(p.obj(source, "project"), "web_url"),
        "gitlab.pipeline.queued_duration": p.text(attrs, "queued_duration"),
        "gitlab.pipeline.duration": p.text(attrs, "duration"),
    }
    events = [envelope.wrap(repository, head, run_attributes, pipeline_run=run)]

    events.extend(envelope.wrap(repository, head, {}, job=_stage_job(
        stage, run_id, trace_id, stage_span_ids.get(stage.name, ""), root_span_id)) for stage in stages.values())
    events.extend(envelope.wrap(repository, head, _build_attributes(build), job=job) for build, job in jobs)

    spans = None
    if traced:
        spans = _contrib_trace(payload, pipeline_id, finished_raw, trace_id, root_span_id, stages,
                               stage_span_ids, jobs, include_user_attributes)
    return Mapped(spans=spans, events=events)


def _valid_for_trace(payload: dict[str, Any]) -> bool:
    """contrib's validatePipelineEvent: a finished pipeline without these is rejected, no trace."""
    attrs = p.obj(payload, "object_attributes")
    project = p.obj(payload, "project")
    return bool(
        p.integer(attrs, "id") and p.text(attrs, "created_at") and p.text(attrs, "ref") and p.text(attrs, "sha")
        and p.integer(project, "id") and p.text(project, "path_with_namespace")
        and p.text(p.obj(payload, "commit"), "id")
    )


def _pipeline_started(attrs: dict[str, Any], builds: list[dict[str, Any]], created: datetime | None) -> datetime | None:
    """When the pipeline began executing: its earliest job start (exact payload times), else
    created_at + queued_duration (GitLab's whole-second figure)."""
    starts = [t for t in (parse_time(p.text(build, "started_at")) for build in builds) if t]
    if starts:
        return min(starts)
    queued = p.number(attrs, "queued_duration")
    if created and queued is not None:
        return created + timedelta(seconds=queued)
    return None


def _pipeline_build(build: dict[str, Any], run_id: str, project: dict[str, Any], trace_id: str) -> b.Job:
    """A Job from one entry of a Pipeline Hook's builds[]."""
    status = p.text(build, "status").lower()
    stage = p.text(build, "stage")
    environment = p.obj(build, "environment")
    job = b.Job(
        run_id=run_id,
        attempt=1,
        job_id=p.text(build, "id"),
        parent_job_id=STAGE_ID_PREFIX + stage if stage else "",
        name=p.text(build, "name"),
        kind=b.JOB_KIND_JOB,
        stage=stage,
        task_type=_task_type(stage, p.text(environment, "action")),
        state=_STATES.get(status, b.STATE_UNSPECIFIED),
        result=_job_result(status, p.text(build, "failure_reason")),
        result_detail=status,
        url=_job_url(p.text(project, "web_url"), p.text(build, "id")),
        trace_id=trace_id,
    )
    _set_job_times(job, p.text(build, "created_at"), p.text(build, "started_at"), p.text(build, "finished_at"),
                   p.number(build, "queued_duration"), None)
    _set_runner(job, p.obj(build, "runner"))
    return job


def _stage_job(stage: _Stage, run_id: str, trace_id: str, span_id: str, root_span_id: str) -> b.Job:
    """Job(kind=STAGE): times spanning its jobs, result composed from theirs."""
    result, detail = _stage_result(stage.jobs, stage.allowed_to_fail)
    job = b.Job(
        run_id=run_id,
        attempt=1,
        job_id=STAGE_ID_PREFIX + stage.name,
        name=stage.name,
        kind=b.JOB_KIND_STAGE,
        task_type=_TASK_TYPES.get(stage.name.lower(), b.TASK_TYPE_UNSPECIFIED),
        state=b.STATE_COMPLETED,
        result=result,
        result_detail=detail,
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=root_span_id if span_id else "",
    )
    # The stage's queue: from its first started job's; jobs that never started do not count.
    queued = [j.queued_time.ToDatetime(tzinfo=UTC) for j in stage.jobs
              if j.HasField("queued_time") and j.HasField("started_time")]
    if queued:
        job.queued_time.CopyFrom(p.timestamp(min(queued)))
    started = parse_time(stage.started_raw)
    if started:
        job.started_time.CopyFrom(p.timestamp(started))
    finished = parse_time(stage.finished_raw)
    if finished:
        job.finished_time.CopyFrom(p.timestamp(finished))
    return job


def _stage_result(jobs: list[b.Job], allowed_to_fail: set[str]) -> tuple[int, str]:
    """A stage failed if a job that may not fail failed (or errored, or timed out); else it was
    cancelled if one was; else it succeeded if one ran; else it was skipped. Jobs that never ran
    (manual ones left waiting) do not count."""
    hard_failures = [j for j in jobs if j.result in (b.RESULT_FAILURE, b.RESULT_ERROR, b.RESULT_TIMEOUT)
                     and j.job_id not in allowed_to_fail]
    if hard_failures:
        return hard_failures[0].result, "failed"
    results = {j.result for j in jobs}
    if b.RESULT_CANCELLATION in results:
        return b.RESULT_CANCELLATION, "canceled"
    if results & {b.RESULT_SUCCESS, b.RESULT_FAILURE, b.RESULT_ERROR, b.RESULT_TIMEOUT}:
        return b.RESULT_SUCCESS, "success"
    return b.RESULT_SKIP, "skipped"


def _build_attributes(build: dict[str, Any]) -> dict[str, str]:
    environment = p.obj(build, "environment")
    return {
        "gitlab.job.failure_reason": p.text(build, "failure_reason"),
        "gitlab.job.allow_failure": "true" if p.flag(build, "allow_failure") else "",
        "gitlab.job.when": p.text(build, "when"),
        "gitlab.job.queued_duration": p.text(build, "queued_duration"),
        "cicd.pipeline.task.run.environment.name": p.text(environment, "name"),
        "gitlab.environment.action": p.text(environment, "action"),
        "gitlab.environment.deployment_tier": p.text(environment, "deployment_tier"),
        "cicd.worker.type": p.text(p.obj(build, "runner"), "runner_type"),
    }


# ---------------------------------------------------------------------------------------------
# contrib's trace


def _contrib_trace(payload: dict[str, Any], pipeline_id: int, finished_raw: str, trace_id: str,
                   root_span_id: str, stages: dict[str, _Stage], stage_span_ids: dict[str, str],
                   jobs: list[tuple[dict[str, Any], b.Job]], include_user_attributes: bool,
                   ) -> ExportTraceServiceRequest:
    attrs = p.obj(payload, "object_attributes")
    project = p.obj(payload, "project")
    commit = p.obj(payload, "commit")
    trace = bytes.fromhex(trace_id)
    resource_spans = ResourceSpans(resource=Resource(attributes=p.key_values(
        _resource_attributes(payload, include_user_attributes))))

    def add(span: Span) -> None:
        resource_spans.scope_spans.append(ScopeSpans(spans=[span]))

    source = p.obj(payload, "source_pipeline")
    pipeline_attrs: list[tuple[str, p.AttrValue]] = [("gitlab.pipeline.source", p.text(attrs, "source"))]
    if p.integer(source, "pipeline_id") > 0:
        source_project = p.obj(source, "project")
        pipeline_attrs += [
            ("gitlab.pipeline.source.pipeline.id", p.integer(source, "pipeline_id")),
            ("gitlab.pipeline.source.pipeline.project.id", p.integer(source_project, "id")),
            ("gitlab.pipeline.source.pipeline.job.id", p.integer(source, "job_id")),
            ("gitlab.pipeline.source.pipeline.project.namespace", p.text(source_project, "path_with_namespace")),
            ("gitlab.pipeline.source.pipeline.project.url", p.text(source_project, "web_url")),
        ]
    add(_span(trace, root_span_id, "", p.text(attrs, "name") or p.text(commit, "title"),
              p.text(attrs, "created_at"), finished_raw, p.text(attrs, "status"), pipeline_attrs))

    for stage in stages.values():
        if stage.name in stage_span_ids:
            add(_span(trace, stage_span_ids[stage.name], root_span_id, stage.name, stage.started_raw,
                      stage.finished_raw, stage.first_status, []))

    job_url_base = p.text(project, "web_url") + "/-/jobs/"
    for build, job in jobs:
        if not job.span_id:
            continue
        runner = p.obj(build, "runner")
        environment = p.obj(build, "environment")
        queued = p.number(build, "queued_duration")
        job_attrs: list[tuple[str, p.AttrValue]] = [
            ("cicd.pipeline.task.name", p.text(build, "name")),
            ("cicd.pipeline.task.run.id", p.integer(build, "id")),
            ("cicd.pipeline.task.run.result", p.text(build, "status")),
            ("cicd.pipeline.task.run.url.full", job_url_base + str(p.integer(build, "id"))),
            ("cicd.worker.id", p.integer(runner, "id")),
            ("cicd.worker.name", p.text(runner, "description")),
            ("gitlab.job.queued_duration", queued if queued is not None else 0.0),
            ("gitlab.job.failure_reason", p.text(build, "failure_reason")),
            ("gitlab.job.allow_failure", p.flag(build, "allow_failure")),
            ("cicd.pipeline.task.run.environment.name", p.text(environment, "name")),
            ("gitlab.environment.deployment_tier", p.text(environment, "deployment_tier")),
            ("gitlab.environment.action", p.text(environment, "action")),
        ]
        tags = p.strings(runner, "tags")
        if tags:
            job_attrs.append(("cicd.worker.tags", [tag.lower() for tag in tags]))
        job_attrs += [("cicd.worker.type", p.text(runner, "runner_type")),
                      ("cicd.worker.shared", p.flag(runner, "is_shared"))]
        add(_span(trace, job.span_id, job.parent_span_id, p.text(build, "name"), p.text(build, "started_at"),
                  p.text(build, "finished_at"), p.text(build, "status"), job_attrs))
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def _resource_attributes(payload: dict[str, Any], include_user_attributes: bool) -> list[tuple[str, p.AttrValue]]:
    """contrib's setResourceAttributes, in its order."""
    attrs = p.obj(payload, "object_attributes")
    project = p.obj(payload, "project")
    commit = p.obj(payload, "commit")
    out: list[tuple[str, p.AttrValue]] = [
        ("service.name", p.text(project, "path_with_namespace")),
        ("cicd.pipeline.name", p.text(attrs, "name")),
        ("cicd.pipeline.result", p.text(attrs, "status")),
        ("cicd.pipeline.run.id", p.integer(attrs, "id")),
        ("cicd.pipeline.run.url.full", p.text(attrs, "url")),
        ("vcs.provider.name", PROVIDER_NAME),
        ("vcs.repository.name", p.text(project, "name")),
        ("vcs.repository.url.full", p.text(project, "web_url")),
        ("vcs.ref.head.name", p.text(attrs, "ref")),
        ("vcs.ref.head.type", "tag" if p.flag(attrs, "tag") else "branch"),
        ("vcs.ref.head.revision", p.text(attrs, "sha")),
    ]
    merge_request = p.obj(payload, "merge_request")
    if p.integer(merge_request, "id"):
        out += [
            ("vcs.change.id", str(p.integer(merge_request, "id"))),
            ("vcs.change.state", p.text(merge_request, "state")),
            ("vcs.change.title", p.text(merge_request, "title")),
            ("vcs.ref.base.name", p.text(merge_request, "target_branch")),
            ("vcs.ref.base.type", "branch"),
        ]
    commit_time = _go_commit_timestamp(p.text(commit, "timestamp"))
    if commit_time:
        out.append(("vcs.ref.head.revision.timestamp", commit_time))
    out += [
        ("vcs.repository.visibility", p.text(project, "visibility")),
        ("gitlab.project.namespace", p.text(project, "namespace")),
        ("vcs.repository.ref.default", p.text(project, "default_branch")),
    ]
    if include_user_attributes:
        author = p.obj(commit, "author")
        out += [
            ("vcs.ref.head.revision.author.name", p.text(author, "name")),
            ("vcs.ref.head.revision.author.email", p.text(author, "email")),
            ("vcs.ref.head.revision.message", p.text(commit, "message")),
        ]
        user = payload.get("user")
        if isinstance(user, dict):
            out += [
                ("cicd.pipeline.run.actor.id", p.integer(user, "id")),
                ("gitlab.pipeline.run.actor.username", p.text(user, "username")),
                ("cicd.pipeline.run.actor.name", p.text(user, "name")),
            ]
    return out


def _go_commit_timestamp(raw: str) -> str:
    """contrib formats commit.timestamp (a Go time.Time in the payload's own offset) with the
    layout "2006-01-02 15:04:05 UTC", where "UTC" is literal text: the wall clock of the payload's
    offset, not converted to UTC. Summit writes the same string."""
    if not raw:
        return ""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        parsed = parse_time(raw)
        return parsed.strftime("%Y-%m-%d %H:%M:%S UTC") if parsed else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(trace: bytes, span_id: str, parent_span_id: str, name: str, start_raw: str, end_raw: str,
          status: str, attributes: list[tuple[str, p.AttrValue]]) -> Span:
    code = {"success": Status.STATUS_CODE_OK, "failed": Status.STATUS_CODE_ERROR,
            "canceled": Status.STATUS_CODE_ERROR}.get(status.lower(), Status.STATUS_CODE_UNSET)
    return Span(
        trace_id=trace,
        span_id=bytes.fromhex(span_id),
        parent_span_id=bytes.fromhex(parent_span_id) if parent_span_id else b"",
        name=name,
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=unix_nanos(_t(start_raw)),
        end_time_unix_nano=unix_nanos(_t(end_raw)),
        attributes=p.key_values(attributes),
        status=Status(code=code),
    )


# ---------------------------------------------------------------------------------------------
# Job Hook


def _job_hook(payload: dict[str, Any], envelope: _Envelope) -> b.BuildEvent:
    job_id = p.text(payload, "build_id")
    if not job_id:
        raise GitLabPayloadError("Job Hook payload has no build_id; is it a job event?")
    status = p.text(payload, "build_status").lower()
    stage = p.text(payload, "build_stage")
    project = p.obj(payload, "project")
    repo = p.obj(payload, "repository")
    web_url = p.text(project, "web_url") or p.text(repo, "homepage")
    environment = p.obj(payload, "environment")
    job = b.Job(
        run_id=p.text(payload, "pipeline_id"),
        attempt=1,
        job_id=job_id,
        parent_job_id=STAGE_ID_PREFIX + stage if stage else "",
        name=p.text(payload, "build_name"),
        kind=b.JOB_KIND_JOB,
        stage=stage,
        task_type=_task_type(stage, p.text(environment, "action")),
        state=_STATES.get(status, b.STATE_UNSPECIFIED),
        result=_job_result(status, p.text(payload, "build_failure_reason")),
        result_detail=status,
        url=_job_url(web_url, job_id),
    )
    # The *_iso fields (newer GitLab) carry milliseconds; the plain ones whole seconds.
    _set_job_times(
        job,
        p.text(payload, "build_created_at_iso") or p.text(payload, "build_created_at"),
        p.text(payload, "build_started_at_iso") or p.text(payload, "build_started_at"),
        p.text(payload, "build_finished_at_iso") or p.text(payload, "build_finished_at"),
        p.number(payload, "build_queued_duration"),
        envelope.observed,
    )
    _set_runner(job, p.obj(payload, "runner"))
    repository = _project_repository(project) if project else p.repository_from_url(web_url)
    head = _head(p.text(payload, "ref"), p.flag(payload, "tag"), p.text(payload, "sha"))
    attributes = {
        "gitlab.job.failure_reason": p.text(payload, "build_failure_reason"),
        "gitlab.job.allow_failure": "true" if p.flag(payload, "build_allow_failure") else "",
        "gitlab.job.retries_count": p.text(payload, "retries_count"),
        "gitlab.job.queued_duration": p.text(payload, "build_queued_duration"),
        "cicd.pipeline.task.run.environment.name": p.text(environment, "name"),
        "gitlab.environment.action": p.text(environment, "action"),
        "gitlab.environment.deployment_tier": p.text(environment, "deployment_tier"),
        "cicd.worker.type": p.text(p.obj(payload, "runner"), "runner_type"),
    }
    return envelope.wrap(repository, head, attributes, job=job)


def _set_job_times(job: b.Job, created_raw: str, started_raw: str, finished_raw: str,
                   queued_duration: float | None, observed: datetime | None) -> None:
    """queued = started - queued_duration (GitLab counts the queue from when the job became
    pending, not from created_at, which for a later stage's job is the pipeline's creation);
    while still pending, observed - queued_duration (the queue so far, as of the delivery);
    else created_at."""
    created = parse_time(created_raw)
    started = parse_time(started_raw)
    finished = parse_time(finished_raw)
    queued = created
    if queued_duration is not None and started:
        queued = started - timedelta(seconds=queued_duration)
    elif queued_duration is not None and observed is not None and job.state == b.STATE_PENDING:
        queued = observed - timedelta(seconds=queued_duration)
    if queued:
        job.queued_time.CopyFrom(p.timestamp(queued))
    if started:
        job.started_time.CopyFrom(p.timestamp(started))
    if finished and job.state == b.STATE_COMPLETED:
        job.finished_time.CopyFrom(p.timestamp(finished))


def _set_runner(job: b.Job, runner: dict[str, Any]) -> None:
    if not p.integer(runner, "id"):
        return
    job.runner.CopyFrom(b.Runner(id=p.text(runner, "id"), name=p.text(runner, "description"),
                                 labels=p.strings(runner, "tags"), group=p.text(runner, "runner_type")))


def _job_result(status: str, failure_reason: str) -> int:
    if status == "failed" and failure_reason in _TIMEOUT_REASONS:
        return b.RESULT_TIMEOUT
    if status == "failed" and failure_reason in _ERROR_REASONS:
        return b.RESULT_ERROR
    return _RESULTS.get(status, b.RESULT_UNSPECIFIED)


def _task_type(stage: str, environment_action: str) -> int:
    if environment_action == "start":
        return b.TASK_TYPE_DEPLOY
    return _TASK_TYPES.get(stage.lower(), b.TASK_TYPE_UNSPECIFIED)


def _job_url(web_url: str, job_id: str) -> str:
    return f"{web_url}/-/jobs/{job_id}" if web_url and job_id else ""


# ---------------------------------------------------------------------------------------------
# Deployment Hook and Push Hook


def _deployment(payload: dict[str, Any], envelope: _Envelope) -> b.BuildEvent:
    deployment_id = p.text(payload, "deployment_id")
    if not deployment_id:
        raise GitLabPayloadError("Deployment Hook payload has no deployment_id; is it a deployment event?")
    status = p.text(payload, "status").lower()
    project = p.obj(payload, "project")
    # The hook carries only short_sha; commit_url ends with the full SHA.
    commit_sha = p.text(payload, "commit_url").rstrip("/").rpartition("/")[2]
    revision = commit_sha if _SHA.match(commit_sha) else p.text(payload, "short_sha")
    deployment = b.Deployment(
        deployment_id=deployment_id,
        service=p.text(project, "path_with_namespace"),
        environment=p.text(payload, "environment"),
        version=p.text(payload, "short_sha"),
        status=_DEPLOYMENT_STATUSES.get(status, b.DEPLOYMENT_STATUS_UNSPECIFIED),
        status_detail=status,
        url=p.text(payload, "deployable_url"),
        job_id=p.text(payload, "deployable_id"),
    )
    changed = parse_time(p.text(payload, "status_changed_at"))
    if changed and deployment.status in _FINISHED_DEPLOYMENT:
        deployment.finished_time.CopyFrom(p.timestamp(changed))
    elif changed and deployment.status == b.DEPLOYMENT_STATUS_IN_PROGRESS:
        deployment.started_time.CopyFrom(p.timestamp(changed))
    attributes = {
        "gitlab.environment.deployment_tier": p.text(payload, "environment_tier"),
        "gitlab.environment.slug": p.text(payload, "environment_slug"),
        "gitlab.environment.external_url": p.text(payload, "environment_external_url"),
        "gitlab.deployment.user.username": p.text(p.obj(payload, "user"), "username"),
    }
    head = b.VcsRef(name=p.text(payload, "ref"), revision=revision)
    return envelope.wrap(_project_repository(project), head, attributes, deployment=deployment)


def _push(payload: dict[str, Any], envelope: _Envelope) -> list[b.BuildEvent]:
    ref = p.text(payload, "ref")
    is_tag = ref.startswith("refs/tags/")
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    repository = _project_repository(p.obj(payload, "project"))
    pusher = p.text(payload, "user_username")
    events = []
    for commit in p.items(payload, "commits"):
        author = p.obj(commit, "author")
        change = b.Change(
            author_name=p.text(author, "name"),
            author_email=p.text(author, "email"),
            pushed_time=p.timestamp(envelope.observed),
            title=p.text(commit, "title") or p.text(commit, "message").split("\n", 1)[0],
            url=p.text(commit, "url"),
            pusher=pusher,
        )
        authored = parse_time(p.text(commit, "timestamp"))
        if authored:
            change.authored_time.CopyFrom(p.timestamp(authored))
        head = b.VcsRef(name=branch, type=b.REF_TYPE_TAG if is_tag else b.REF_TYPE_BRANCH,
                        revision=p.text(commit, "id"))
        events.append(envelope.wrap(repository, head, {}, change=change))
    return events


# ---------------------------------------------------------------------------------------------


def _project_repository(project: dict[str, Any]) -> b.Repository:
    """The project as a Repository: name and owner from path_with_namespace (the URL path; the
    display `name` may differ), url its web_url."""
    path = p.text(project, "path_with_namespace")
    web_url = p.text(project, "web_url")
    if not path:
        return p.repository_from_url(web_url)
    owner, _, name = path.rpartition("/")
    return b.Repository(url=web_url.rstrip("/"), name=name, owner=owner)


def _head(ref: str, tag: bool, sha: str) -> b.VcsRef:
    return b.VcsRef(name=ref, type=b.REF_TYPE_TAG if tag else b.REF_TYPE_BRANCH, revision=sha)


def _t(raw: str) -> datetime:
    parsed = parse_time(raw)
    if parsed is None:
        raise GitLabPayloadError(f"GitLab time {raw!r} is empty where a time is required")
    return parsed
