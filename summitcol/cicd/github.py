"""GitHub webhook payloads → contrib-identical traces and canonical build events.

`workflow_run` and `workflow_job` become the trace opentelemetry-collector-contrib's
githubreceiver makes for the same payload (trace_event_handling.go and model.go, semconv v1.40
era, with the `receiver.githubreceiver.UseCheckRunID` feature gate on, its default since
v0.151.0): the same trace and span ids, names, kinds, timestamps, statuses, links and resource
attributes, one ScopeSpans (with an empty scope) per span as contrib appends them. Contrib makes
spans for completed runs and jobs only; Summit also turns queued and in-progress deliveries into
build events, since that is where queue time is seen while it grows.

`deployment` and `deployment_status` become Deployment events, `push` one Change per commit.
No pipeline knowledge here: the receiver (summitcol.receiver.github) calls `map_github`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1 import trace_pb2

from summitcol.cicd.mapped import Mapped
from summitcol.cicd.model import build_pb2 as pb

PROVIDER_NAME = "github"
# The events this mapper turns into something; the receiver answers 204 to others.
EVENTS = frozenset({"workflow_run", "workflow_job", "deployment", "deployment_status", "push"})

RESULTS = {
    "success": pb.RESULT_SUCCESS,
    "failure": pb.RESULT_FAILURE,
    "cancelled": pb.RESULT_CANCELLATION,
    "timed_out": pb.RESULT_TIMEOUT,
    "skipped": pb.RESULT_SKIP,
}
# GitHub run/job/step status → cicd.pipeline.run.state (`waiting`: an environment approval).
STATES = {
    "requested": pb.STATE_PENDING,
    "queued": pb.STATE_PENDING,
    "pending": pb.STATE_PENDING,
    "waiting": pb.STATE_PENDING,
    "in_progress": pb.STATE_EXECUTING,
    "completed": pb.STATE_COMPLETED,
}
# deployment_status.state → DeploymentStatus (proto comments); `inactive` and unknown values stay
# UNSPECIFIED with the raw state in status_detail.
DEPLOYMENT_STATES = {
    "queued": pb.DEPLOYMENT_STATUS_PENDING,
    "pending": pb.DEPLOYMENT_STATUS_PENDING,
    "waiting": pb.DEPLOYMENT_STATUS_PENDING,
    "in_progress": pb.DEPLOYMENT_STATUS_IN_PROGRESS,
    "success": pb.DEPLOYMENT_STATUS_SUCCEEDED,
    "failure": pb.DEPLOYMENT_STATUS_FAILED,
    "error": pb.DEPLOYMENT_STATUS_FAILED,
}
FINISHED_DEPLOYMENTS = frozenset({pb.DEPLOYMENT_STATUS_SUCCEEDED, pb.DEPLOYMENT_STATUS_FAILED})
# contrib's cicd.pipeline.run.status / cicd.pipeline.run.task.status values (model.go)
CONTRIB_STATUS = {"success": "success", "failure": "failure", "skipped": "skip", "cancelled": "cancellation"}
ZERO_SHA = "0" * 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- contrib's deterministic ids (trace_event_handling.go) ------------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def trace_id(run_id: int, attempt: int) -> str:
    """newTraceID: sha256("{run_id}{run_attempt}t"), first 32 hex characters."""
    return _sha(f"{run_id}{attempt}t")[:32]


def root_span_id(run_id: int, attempt: int) -> str:
    """newParentSpanID: sha256("{run_id}{run_attempt}s"), hex characters 16 to 32."""
    return _sha(f"{run_id}{attempt}s")[16:32]


def job_span_id(job_id: int) -> str:
    """newSpanIDFromCheckRun("{workflow_job.id}-j")."""
    return _sha(f"{job_id}-j")[16:32]


def queue_span_id(job_id: int) -> str:
    """newSpanIDFromCheckRun("{workflow_job.id}-q")."""
    return _sha(f"{job_id}-q")[16:32]


def step_span_id(job_id: int, step_name: str) -> str:
    """newSpanIDFromCheckRun("{workflow_job.id}-{step name}-s"): the raw name, so steps that share
    a name share a span id (contrib warns about it and so does its README)."""
    return _sha(f"{job_id}-{step_name}-s")[16:32]


def unique_step_names(names: list[str]) -> list[str]:
    """newUniqueSteps: the second and later steps of a repeated name get `-1`, `-2` …"""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if counts[name] == 1:
            out.append(name)
            continue
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name] - 1}")
    return out


def corrected(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """correctActionTimestamps: an end before its start (skipped jobs and steps) becomes the start."""
    if start is not None and end is not None and end < start:
        return start, start
    return start, end


def format_service_name(value: str) -> str:
    """formatString: lowercase, `_` → `-`."""
    return value.lower().replace("_", "-")


def service_name(payload: dict[str, Any], configured: str = "") -> str:
    """getServiceName: the configured name, else the repository's `service_name` custom property,
    else the repository name, formatted; `unknown_service` when there is none."""
    repo = _obj(payload, "repository")
    custom = _obj(repo, "custom_properties")
    if configured:
        return format_service_name(configured)
    if custom.get("service_name") is not None:
        return format_service_name(str(custom["service_name"]))
    if _text(repo, "name"):
        return format_service_name(_text(repo, "name"))
    return "unknown_service"


def snake_case(key: str) -> str:
    """toSnakeCase, as contrib converts custom property names."""
    s = key.replace("-", "_").replace(" ", "_").replace(".", "_").replace("$", "_dollar_").replace("#", "_hash_")
    out = []
    for i, ch in enumerate(s):
        if i > 0 and ch.isupper():
            prev_lower = s[i - 1].islower() or s[i - 1].isdigit()
            next_lower = i < len(s) - 1 and s[i + 1].islower()
            if prev_lower or next_lower:
                out.append("_")
        out.append(ch.lower())
    return re.sub("_+", "_", "".join(out))


# --- payload access: GitHub sends null for absent values ---------------------------------------

def _obj(payload: Any, key: str) -> dict[str, Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, dict) else {}


def _text(payload: Any, key: str) -> str:
    value = payload.get(key) if isinstance(payload, dict) else None
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def _int(payload: Any, key: str) -> int:
    value = payload.get(key) if isinstance(payload, dict) else None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


def _list(payload: Any, key: str) -> list[Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, list) else []


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (GitHub's `2025-04-16T21:08:58Z`) or Unix seconds (push payloads'
    repository.pushed_at) as tz-aware UTC; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _nanos(moment: datetime | None) -> int:
    """pcommon.NewTimestampFromTime; a missing time (Go's zero time) becomes 0."""
    if moment is None:
        return 0
    delta = moment - _EPOCH
    return max(0, (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000)


def _ts(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


# --- OTLP building ------------------------------------------------------------------------------

def _str(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _intkv(key: str, value: int) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(int_value=value))


def _put(attrs: list[KeyValue], kv: KeyValue) -> None:
    """pcommon.Map.Put*: a key set twice keeps its first position and its last value."""
    for index, existing in enumerate(attrs):
        if existing.key == kv.key:
            attrs[index] = kv
            return
    attrs.append(kv)


def _custom_property(key: str, value: Any) -> KeyValue:
    name = f"github.repository.custom_properties.{snake_case(key)}"
    if isinstance(value, bool):
        return KeyValue(key=name, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return _intkv(name, value)
    if isinstance(value, float):
        return KeyValue(key=name, value=AnyValue(double_value=value))
    if isinstance(value, str):
        return _str(name, value)
    return _str(name, _go_value(value))


def _go_value(value: Any) -> str:
    """fmt.Sprintf("%v") of a decoded JSON value, for the custom property types contrib does not
    special-case (lists: `[a b]`; null: `<nil>`)."""
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(_go_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _common_resource(payload: dict[str, Any], configured_service: str, branch: str, sha: str) -> list[KeyValue]:
    repo = _obj(payload, "repository")
    attrs = [_str("service.name", service_name(payload, configured_service))]
    # contrib ranges over a Go map (random order); Summit keeps the payload's order
    for key, value in _obj(repo, "custom_properties").items():
        if key != "service_name":
            _put(attrs, _custom_property(key, value))
    for kv in (
        _str("vcs.repository.name", _text(repo, "name")),
        _str("vcs.provider.name", "github"),
        _str("vcs.ref.head", branch),
        _str("vcs.ref.type", "branch"),
        _str("vcs.ref.head.revision", sha),
    ):
        _put(attrs, kv)
    return attrs


def _status(conclusion: str) -> trace_pb2.Status:
    lowered = conclusion.lower()
    code = {"success": trace_pb2.Status.STATUS_CODE_OK, "failure": trace_pb2.Status.STATUS_CODE_ERROR}.get(
        lowered, trace_pb2.Status.STATUS_CODE_UNSET
    )
    return trace_pb2.Status(code=code, message=conclusion)


def _span(
    trace: str, span: str, parent: str, name: str, kind: int, start: datetime | None, end: datetime | None
) -> trace_pb2.Span:
    return trace_pb2.Span(
        trace_id=bytes.fromhex(trace),
        span_id=bytes.fromhex(span),
        parent_span_id=bytes.fromhex(parent) if parent else b"",
        name=name,
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=_nanos(start),
        end_time_unix_nano=_nanos(end),
    )


def _request(resource: list[KeyValue], spans: list[trace_pb2.Span]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(resource)
    for span in spans:
        resource_spans.scope_spans.add().spans.append(span)
    return request


def _raw_text(raw: bytes | None, payload: dict[str, Any]) -> str:
    if raw is None:
        return json.dumps(payload, separators=(",", ":"))
    return raw.decode("utf-8", errors="replace")


def workflow_run_spans(
    payload: dict[str, Any], *, service: str = "", include_span_events: bool = False, raw: bytes | None = None
) -> ExportTraceServiceRequest:
    """handleWorkflowRun: the run's root span (SERVER) under a resource describing the run."""
    run = _obj(payload, "workflow_run")
    run_id, attempt = _int(run, "id"), _int(run, "run_attempt")
    conclusion = _text(run, "conclusion")
    attrs = _common_resource(payload, service, _text(run, "head_branch"), _text(run, "head_sha"))
    committer = _obj(_obj(run, "head_commit"), "committer")
    status = conclusion.lower()
    for kv in (
        _str("vcs.ref.head.revision.author.name", _text(committer, "name")),
        _str("vcs.ref.head.revision.author.email", _text(committer, "email")),
        _str("cicd.pipeline.name", _text(run, "name")),
        _str("cicd.pipeline.run.sender.login", _text(_obj(payload, "sender"), "login")),
        _str("cicd.pipeline.run.url.full", _text(run, "html_url")),
        _intkv("cicd.pipeline.run.id", run_id),
        _str("cicd.pipeline.run.status", CONTRIB_STATUS.get(status, status)),
    ):
        _put(attrs, kv)
    previous = _text(run, "previous_attempt_url")
    if previous:
        _put(attrs, _str("cicd.pipeline.run.previous_attempt.url.full", previous.replace("api.github.com/repos", "github.com", 1)))
    for workflow in _list(run, "referenced_workflows"):
        name = _referenced_name(_text(workflow, "path"))
        if name is None:
            raise ValueError(f"workflow_run.referenced_workflows path '{_text(workflow, 'path')}' is not <path>@<ref>")
        prefix = f"github.reference.workflow.{name}"
        _put(attrs, _str(f"{prefix}.path", _text(workflow, "path")))
        _put(attrs, _str(f"{prefix}.revision", _text(workflow, "sha")))
        _put(attrs, _str(f"{prefix}.version", _text(workflow, "ref")))
    started, ended = corrected(parse_time(run.get("run_started_at")), parse_time(run.get("updated_at")))
    span = _span(trace_id(run_id, attempt), root_span_id(run_id, attempt), "", _text(run, "name"),
                 trace_pb2.Span.SPAN_KIND_SERVER, started, ended)
    span.status.CopyFrom(_status(conclusion))
    if include_span_events:
        event = span.events.add(name="github.workflow_run.event", time_unix_nano=_nanos(parse_time(run.get("run_started_at"))))
        event.attributes.append(_str("event.payload", _raw_text(raw, payload)))
    if previous and attempt > 1:
        span.links.add(trace_id=bytes.fromhex(trace_id(run_id, attempt - 1)))
    return _request(attrs, [span])


def _referenced_name(path: str) -> str | None:
    """splitRefWorkflowPath: `owner/repo/.github/workflows/Build.yml@ref` → `build`."""
    parts = path.split("@")
    if len(parts) != 2:
        return None
    return parts[0].split("/")[-1].split(".")[0].lower()


def workflow_job_spans(
    payload: dict[str, Any], *, service: str = "", include_span_events: bool = False, raw: bytes | None = None
) -> ExportTraceServiceRequest:
    """handleWorkflowJob: the job span, its queue span and one span per step."""
    job = _obj(payload, "workflow_job")
    job_id, run_id, attempt = _int(job, "id"), _int(job, "run_id"), _int(job, "run_attempt")
    if job_id == 0:
        raise ValueError("workflow_job.id is missing; contrib derives the job's span ids from it")
    name, conclusion = _text(job, "name"), _text(job, "conclusion")
    attrs = _common_resource(payload, service, _text(job, "head_branch"), _text(job, "head_sha"))
    for kv in (
        _intkv("cicd.pipeline.worker.id", _int(job, "runner_id")),
        _intkv("cicd.pipeline.worker.group.id", _int(job, "runner_group_id")),
        _str("cicd.pipeline.worker.name", _text(job, "runner_name")),
        _str("cicd.pipeline.worker.group.name", _text(job, "runner_group_name")),
        _str("cicd.pipeline.worker.node.id", _text(job, "node_id")),
    ):
        _put(attrs, kv)
    labels = [str(label) for label in _list(job, "labels")]
    if labels:
        values = ArrayValue(values=[AnyValue(string_value=label.lower()) for label in labels])
        _put(attrs, KeyValue(key="cicd.pipeline.worker.labels", value=AnyValue(array_value=values)))
    status = conclusion.lower()
    for kv in (
        _str("cicd.pipeline.name", name),
        _str("cicd.pipeline.task.run.sender.login", _text(_obj(payload, "sender"), "login")),
        _str("cicd.pipeline.task.run.url.full", _text(job, "html_url")),
        _intkv("cicd.pipeline.task.run.id", job_id),
        # contrib writes other conclusions to the run's key (model.go's default branch)
        _str("cicd.pipeline.run.task.status", CONTRIB_STATUS[status])
        if status in CONTRIB_STATUS else _str("cicd.pipeline.run.status", status),
    ):
        _put(attrs, kv)

    trace, job_span = trace_id(run_id, attempt), job_span_id(job_id)
    created, started, completed = (parse_time(job.get(k)) for k in ("created_at", "started_at", "completed_at"))
    spans = []
    start, end = corrected(created, completed)
    parent = _span(trace, job_span, root_span_id(run_id, attempt), name, trace_pb2.Span.SPAN_KIND_INTERNAL, start, end)
    parent.status.CopyFrom(_status(conclusion))
    if include_span_events:
        event = parent.events.add(name="github.workflow_job.event", time_unix_nano=_nanos(created))
        event.attributes.append(_str("event.payload", _raw_text(raw, payload)))
    spans.append(parent)

    queued_at, picked_at = corrected(created, started)
    queue = _span(trace, queue_span_id(job_id), job_span, f"queue-{name}", trace_pb2.Span.SPAN_KIND_INTERNAL, queued_at, picked_at)
    queue_ns = _nanos(picked_at) - _nanos(queued_at) if queued_at and picked_at else 0
    queue.attributes.append(KeyValue(key="cicd.pipeline.run.queue.duration", value=AnyValue(double_value=float(queue_ns))))
    spans.append(queue)

    steps = [step for step in _list(job, "steps") if isinstance(step, dict)]
    for step, unique in zip(steps, unique_step_names([_text(step, "name") for step in steps]), strict=True):
        s_start, s_end = corrected(parse_time(step.get("started_at")), parse_time(step.get("completed_at")))
        span = _span(trace, step_span_id(job_id, _text(step, "name")), job_span, unique,
                     trace_pb2.Span.SPAN_KIND_INTERNAL, s_start, s_end)
        step_conclusion = _text(step, "conclusion").lower()
        # createStepSpan: the raw step status, replaced per conclusion (skipped → "failure", as contrib)
        task_status = {"success": "success", "failure": "failure", "skipped": "failure", "cancelled": "cancellation"}.get(
            step_conclusion, _text(step, "status")
        )
        span.attributes.extend([_str("cicd.pipeline.task.name", unique), _str("cicd.pipeline.run.task.status", task_status)])
        code = {"success": trace_pb2.Status.STATUS_CODE_OK, "failure": trace_pb2.Status.STATUS_CODE_ERROR}.get(
            step_conclusion, trace_pb2.Status.STATUS_CODE_UNSET
        )
        span.status.CopyFrom(trace_pb2.Status(code=code, message=conclusion))  # the job's conclusion, as contrib
        spans.append(span)
    return _request(attrs, spans)


# --- build events -------------------------------------------------------------------------------

class _Envelope:
    """Numbers the events of one delivery and fills their common fields."""

    def __init__(self, payload: dict[str, Any], delivery_id: str, observed: datetime) -> None:
        repo = _obj(payload, "repository")
        self.repository = pb.Repository(
            url=_text(repo, "html_url").removesuffix(".git"),
            name=_text(repo, "name"),
            owner=_text(_obj(repo, "owner"), "login") or _text(repo, "full_name").partition("/")[0],
        )
        self.delivery_id = delivery_id
        self.observed = _ts(observed)
        self.events: list[pb.BuildEvent] = []

    def add(self, head: pb.VcsRef, attributes: dict[str, str] | None = None, **event: Any) -> pb.BuildEvent:
        built = pb.BuildEvent(
            event_id=f"{PROVIDER_NAME}:{self.delivery_id}:{len(self.events)}",
            observed_time=self.observed,
            provider=pb.PROVIDER_GITHUB,
            provider_name=PROVIDER_NAME,
            repository=self.repository,
            head=head,
            attributes=attributes or {},
            **event,
        )
        self.events.append(built)
        return built


def _set_times(message: Any, **times: datetime | None) -> None:
    for field, moment in times.items():
        if moment is not None:
            getattr(message, field).CopyFrom(_ts(moment))


def _result(conclusion: str) -> int:
    return RESULTS.get(conclusion.lower(), pb.RESULT_UNSPECIFIED)


def _not_before(start: datetime | None, end: datetime | None) -> datetime | None:
    """An end GitHub reports before its start (skipped jobs and steps) is the start."""
    return start if start is not None and end is not None and end < start else end


def _run_events(payload: dict[str, Any], env: _Envelope) -> None:
    run = _obj(payload, "workflow_run")
    run_id, attempt = _int(run, "id"), _int(run, "run_attempt")
    status, conclusion = _text(run, "status"), _text(run, "conclusion")
    state = STATES.get(status, pb.STATE_UNSPECIFIED)
    message = pb.PipelineRun(
        pipeline_name=_text(run, "name"),
        run_id=str(run_id),
        run_number=_int(run, "run_number"),
        attempt=attempt,
        state=state,
        result=_result(conclusion) if state == pb.STATE_COMPLETED else pb.RESULT_UNSPECIFIED,
        result_detail=conclusion or status,
        url=_text(run, "html_url"),
        trigger=_text(run, "event"),
        actor=_text(_obj(run, "triggering_actor"), "login") or _text(_obj(run, "actor"), "login"),
        pipeline_id=_text(run, "workflow_id"),
        trace_id=trace_id(run_id, attempt),
        span_id=root_span_id(run_id, attempt),
    )
    queued = parse_time(run.get("created_at"))
    started = parse_time(run.get("run_started_at")) if state != pb.STATE_PENDING else None
    finished = _not_before(started, parse_time(run.get("updated_at"))) if state == pb.STATE_COMPLETED else None
    _set_times(message, queued_time=queued, started_time=started, finished_time=finished)
    pulls = [pull for pull in _list(run, "pull_requests") if isinstance(pull, dict)]
    if pulls:
        message.change_id = _text(pulls[0], "number")
        base = _obj(pulls[0], "base")
        message.base.CopyFrom(pb.VcsRef(name=_text(base, "ref"), type=pb.REF_TYPE_BRANCH, revision=_text(base, "sha")))
    head = pb.VcsRef(name=_text(run, "head_branch"), type=pb.REF_TYPE_BRANCH, revision=_text(run, "head_sha"))
    attributes = {"github.workflow.path": _text(run, "path")} if _text(run, "path") else {}
    env.add(head, attributes, pipeline_run=message)


def _job_events(payload: dict[str, Any], env: _Envelope) -> None:
    job = _obj(payload, "workflow_job")
    job_id, run_id, attempt = _int(job, "id"), _int(job, "run_id"), _int(job, "run_attempt")
    status, conclusion = _text(job, "status"), _text(job, "conclusion")
    state = STATES.get(status, pb.STATE_UNSPECIFIED)
    trace, job_span = trace_id(run_id, attempt), job_span_id(job_id)
    message = pb.Job(
        run_id=str(run_id),
        attempt=attempt,
        job_id=str(job_id),
        name=_text(job, "name"),
        kind=pb.JOB_KIND_JOB,
        state=state,
        result=_result(conclusion) if state == pb.STATE_COMPLETED else pb.RESULT_UNSPECIFIED,
        result_detail=conclusion or status,
        url=_text(job, "html_url"),
        trace_id=trace,
        span_id=job_span,
        parent_span_id=root_span_id(run_id, attempt),
    )
    queued = parse_time(job.get("created_at"))
    # GitHub fills started_at on queued jobs too (= created_at): a start only once a runner has it
    started = parse_time(job.get("started_at")) if state not in (pb.STATE_PENDING, pb.STATE_UNSPECIFIED) else None
    started = _not_before(queued, started)
    finished = _not_before(started or queued, parse_time(job.get("completed_at"))) if state == pb.STATE_COMPLETED else None
    _set_times(message, queued_time=queued, started_time=started, finished_time=finished)
    labels = [str(label) for label in _list(job, "labels")]
    if job.get("runner_id") is not None or _text(job, "runner_name") or labels:
        message.runner.CopyFrom(pb.Runner(
            id=_text(job, "runner_id"), name=_text(job, "runner_name"), labels=labels, group=_text(job, "runner_group_name")
        ))
    head = pb.VcsRef(name=_text(job, "head_branch"), type=pb.REF_TYPE_BRANCH, revision=_text(job, "head_sha"))
    workflow = {"github.workflow.name": _text(job, "workflow_name")} if _text(job, "workflow_name") else {}
    env.add(head, workflow, job=message)
    steps = [step for step in _list(job, "steps") if isinstance(step, dict)]
    for step, unique in zip(steps, unique_step_names([_text(step, "name") for step in steps]), strict=True):
        step_state = STATES.get(_text(step, "status"), pb.STATE_UNSPECIFIED)
        step_conclusion = _text(step, "conclusion")
        built = pb.Step(
            run_id=str(run_id),
            attempt=attempt,
            job_id=str(job_id),
            step_id=_text(step, "number"),
            number=max(0, _int(step, "number")),
            name=unique,
            state=step_state,
            result=_result(step_conclusion) if step_state == pb.STATE_COMPLETED else pb.RESULT_UNSPECIFIED,
            result_detail=step_conclusion or _text(step, "status"),
            trace_id=trace,
            span_id=step_span_id(job_id, _text(step, "name")),
            parent_span_id=job_span,
        )
        s_start = parse_time(step.get("started_at"))
        s_end = _not_before(s_start, parse_time(step.get("completed_at")))
        _set_times(built, started_time=s_start, finished_time=s_end if step_state == pb.STATE_COMPLETED else None)
        env.add(head, step=built)


def _ref(ref: str, sha: str) -> pb.VcsRef:
    if ref.startswith("refs/tags/"):
        return pb.VcsRef(name=ref.removeprefix("refs/tags/"), type=pb.REF_TYPE_TAG, revision=sha)
    if ref.startswith("refs/heads/"):
        return pb.VcsRef(name=ref.removeprefix("refs/heads/"), type=pb.REF_TYPE_BRANCH, revision=sha)
    # deployments name a branch, a tag or a SHA without saying which
    return pb.VcsRef(name=ref, type=pb.REF_TYPE_UNSPECIFIED, revision=sha)


def _deployment_events(event: str, payload: dict[str, Any], env: _Envelope, service: str) -> None:
    deployment = _obj(payload, "deployment")
    status = _obj(payload, "deployment_status") if event == "deployment_status" else {}
    run = _obj(payload, "workflow_run")
    state = _text(status, "state") if status else "created"
    mapped = DEPLOYMENT_STATES.get(state, pb.DEPLOYMENT_STATUS_PENDING if not status else pb.DEPLOYMENT_STATUS_UNSPECIFIED)
    message = pb.Deployment(
        deployment_id=_text(deployment, "id"),
        name=_text(deployment, "task"),
        service=service_name(payload, service),
        environment=_text(status, "environment") or _text(deployment, "environment"),
        version=_ref(_text(deployment, "ref"), "").name,
        status=mapped,
        status_detail=state,
        url=_text(status, "log_url") or _text(status, "target_url") or _text(status, "environment_url"),
        run_id=_text(run, "id"),
    )
    if run:
        message.trace_id = trace_id(_int(run, "id"), _int(run, "run_attempt"))
    started = parse_time(deployment.get("created_at"))
    finished = parse_time(status.get("created_at")) if mapped in FINISHED_DEPLOYMENTS else None
    _set_times(message, started_time=started, finished_time=_not_before(started, finished))
    env.add(_ref(_text(deployment, "ref"), _text(deployment, "sha")), deployment=message)


def _push_events(payload: dict[str, Any], env: _Envelope, observed: datetime) -> None:
    if payload.get("deleted") is True or _text(payload, "after") == ZERO_SHA:
        return  # a deleted branch or tag pushes no commit
    ref = _text(payload, "ref")
    pusher = _text(_obj(payload, "pusher"), "name") or _text(_obj(payload, "sender"), "login")
    for commit in _list(payload, "commits"):
        if not isinstance(commit, dict):
            continue
        author = _obj(commit, "author")
        message = pb.Change(
            author_name=_text(author, "name"),
            author_email=_text(author, "email"),
            title=_text(commit, "message").split("\n", 1)[0],
            url=_text(commit, "url"),
            pusher=pusher,
        )
        _set_times(message, authored_time=parse_time(commit.get("timestamp")), pushed_time=observed)
        attributes = {"github.commit.distinct": "true" if commit.get("distinct", True) else "false"}
        env.add(_ref(ref, _text(commit, "id")), attributes, change=message)


def map_github(
    event: str,
    payload: dict[str, Any],
    *,
    delivery_id: str,
    observed: datetime,
    service_name: str = "",
    include_span_events: bool = False,
    raw: bytes | None = None,
) -> Mapped:
    """One GitHub delivery (`X-GitHub-Event` name, decoded JSON body) as spans and build events.

    `raw` is the body as received, for contrib's `include_span_events` (the JSON re-encoded when
    not given). Raises ValueError for a payload contrib also refuses (a workflow_job without id,
    a malformed referenced workflow path)."""
    env = _Envelope(payload, delivery_id, observed)
    spans = None
    if event == "workflow_run":
        _run_events(payload, env)
        if _text(_obj(payload, "workflow_run"), "status") == "completed":
            spans = workflow_run_spans(payload, service=service_name, include_span_events=include_span_events, raw=raw)
    elif event == "workflow_job":
        _job_events(payload, env)
        if _text(_obj(payload, "workflow_job"), "status") == "completed":
            spans = workflow_job_spans(payload, service=service_name, include_span_events=include_span_events, raw=raw)
    elif event in ("deployment", "deployment_status"):
        _deployment_events(event, payload, env, service_name)
    elif event == "push":
        _push_events(payload, env, observed)
    return Mapped(spans=spans, events=env.events)
