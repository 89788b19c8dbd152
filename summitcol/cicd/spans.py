"""CI span recognition: spans that describe builds, tests and deployments become BuildEvents.

`recognize(batch)` runs over a traces batch (the otel_traces storage schema, summitcol/pdata/traces.py)
and returns the canonical events for the spans it knows:

* the Jenkins OpenTelemetry plugin: `BUILD <job>` SERVER roots with `ci.pipeline.*` → PipelineRun
  (PROVIDER_JENKINS); `Stage: X` → Job (kind STAGE); `Parallel branch: X` → Job (kind JOB);
  spans with `jenkins.pipeline.step.*` → Step. Results: SUCCESS, FAILURE, ABORTED → CANCELLATION,
  UNSTABLE → FAILURE (result_detail keeps UNSTABLE), NOT_BUILT → SKIP.
* the OpenTelemetry CI/CD conventions: a span with `cicd.pipeline.result` → PipelineRun; a span
  with `cicd.pipeline.task.name` → Job, or Step when its parent is a task span in the batch or it
  says `summit.cicd.task.kind=step` (what `summitcol ci exec` sends). Provider PROVIDER_OTEL with
  provider_name from `summit.cicd.provider.name`, else service.name, else telemetry.sdk.name; a
  `summit.cicd.provider.name` of github/gitlab/circleci/jenkins maps to that provider, so a step
  run inside a GitHub job joins the receiver's run rows.
* test spans: `test.case.name` (+ test.suite.name, test.case.result.status) → TestCase, with
  Summit's extras for what the conventions lack (SUMMIT_TEST_* below, sent by `summitcol ci junit`).
* deployment spans: `deployment.status` → Deployment.

NOT recognised: the spans of the github and gitlab webhook receivers (contrib's shapes: resource
`vcs.provider.name` github|gitlab and no `cicd.pipeline.result` / `cicd.pipeline.task.run.result`
on the span). Those receivers emit their own BuildEvents from the payload; recognising their spans
too would count every run twice.

The whole-batch check (`candidate_rows`) is columnar: one regex over the distinct SpanAttributes
keys; a batch with no CI keys returns [] before any per-span Python (it runs on every traces batch
the clickhouse exporter writes). Only the traces holding a candidate span are then read row by row.

Jenkins children end, and so are exported, before their root: a Stage or Step in a batch without
its `BUILD` root takes run_id from `ci.pipeline.run.number` on the span if present, else "" (the
rows still carry trace and span ids, which link them to the run once it lands).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.cicd.model import build_pb2 as pb
from summitcol.pdata.values import combined

# Summit's own attributes, for what the conventions lack (documented in the README, "CI agent").
SUMMIT_PROVIDER = "summit.cicd.provider.name"  # github, gitlab, circleci, jenkins or a system's own name
SUMMIT_TASK_KIND = "summit.cicd.task.kind"  # job | stage | step
SUMMIT_JOB_ID = "summit.cicd.job.id"  # the job a step or test ran in (cicd.pipeline.task.run.id of it)
SUMMIT_ATTEMPT = "summit.cicd.pipeline.run.attempt"  # the run attempt, from 1
SUMMIT_TEST_CLASS = "summit.test.class"  # JUnit classname
SUMMIT_TEST_FILE = "summit.test.file"
SUMMIT_TEST_RESULT = "summit.test.result"  # pass | fail | error | skip (semconv has pass | fail only)
SUMMIT_TEST_MESSAGE = "summit.test.message"  # failure/error/skip message
SUMMIT_TEST_FAILURE_TYPE = "summit.test.failure.type"
SUMMIT_TEST_FAILURE_DETAIL = "summit.test.failure.detail"  # the element's text, usually a stack trace

CANDIDATE_KEYS = r"^(?:cicd\.pipeline\.|ci\.pipeline\.|jenkins\.pipeline\.step\.|test\.case\.name$|deployment\.status$)"

_RESULTS = {
    "success": pb.RESULT_SUCCESS, "failure": pb.RESULT_FAILURE, "error": pb.RESULT_ERROR,
    "timeout": pb.RESULT_TIMEOUT, "cancellation": pb.RESULT_CANCELLATION, "skip": pb.RESULT_SKIP,
}
_JENKINS_RESULTS = {
    "SUCCESS": pb.RESULT_SUCCESS, "FAILURE": pb.RESULT_FAILURE, "ABORTED": pb.RESULT_CANCELLATION,
    "UNSTABLE": pb.RESULT_FAILURE, "NOT_BUILT": pb.RESULT_SKIP, "NOT_BUILD": pb.RESULT_SKIP,
}
_STATES = {"pending": pb.STATE_PENDING, "executing": pb.STATE_EXECUTING, "finalizing": pb.STATE_FINALIZING}
_TASK_TYPES = {"build": pb.TASK_TYPE_BUILD, "test": pb.TASK_TYPE_TEST, "deploy": pb.TASK_TYPE_DEPLOY}
_TEST_RESULTS = {"pass": pb.TEST_RESULT_PASS, "fail": pb.TEST_RESULT_FAIL, "error": pb.TEST_RESULT_ERROR,
                 "skip": pb.TEST_RESULT_SKIP}
_DEPLOY_STATUS = {"succeeded": pb.DEPLOYMENT_STATUS_SUCCEEDED, "failed": pb.DEPLOYMENT_STATUS_FAILED,
                  "pending": pb.DEPLOYMENT_STATUS_PENDING, "in_progress": pb.DEPLOYMENT_STATUS_IN_PROGRESS,
                  "cancelled": pb.DEPLOYMENT_STATUS_CANCELLED}
_PROVIDERS = {"github": pb.PROVIDER_GITHUB, "gitlab": pb.PROVIDER_GITLAB, "circleci": pb.PROVIDER_CIRCLECI,
              "jenkins": pb.PROVIDER_JENKINS}
_REF_TYPES = {"branch": pb.REF_TYPE_BRANCH, "tag": pb.REF_TYPE_TAG}


def provider_of(name: str) -> int:
    """The Provider for a CI system's name (`summit.cicd.provider.name`): PROVIDER_OTEL for others."""
    return _PROVIDERS.get(name, pb.PROVIDER_OTEL)


def candidate_rows(batch: pa.RecordBatch) -> np.ndarray:
    """Rows whose SpanAttributes hold a CI key; empty (at once) for a batch without any."""
    column = combined(batch.column("SpanAttributes"))
    offsets = column.offsets.to_numpy()
    start, end = int(offsets[0]), int(offsets[-1])
    if end == start:
        return np.empty(0, np.int64)
    keys = column.keys.slice(start, end - start)
    # A batch repeats a few distinct keys: the regex over those is half the cost of one over every entry.
    if not pc.any(pc.match_substring_regex(pc.unique(keys), CANDIDATE_KEYS)).as_py():
        return np.empty(0, np.int64)
    hits = pc.match_substring_regex(keys, CANDIDATE_KEYS)
    entry_rows = np.repeat(np.arange(len(column), dtype=np.int64), np.diff(offsets))
    return np.unique(entry_rows[hits.to_numpy(zero_copy_only=False)])


def recognize(batch: pa.RecordBatch, *, observed: datetime | None = None) -> list[pb.BuildEvent]:
    """The BuildEvents for the CI spans of one traces batch ([] when it has none)."""
    rows = candidate_rows(batch)
    if len(rows) == 0:
        return []
    observed = observed or datetime.now(UTC)
    # Every span of the candidate traces: parent chains (Jenkins phases) pass through spans with no CI keys.
    traces = pc.unique(pc.take(batch.column("TraceId"), pa.array(rows)))
    trace_rows = pc.indices_nonzero(pc.is_in(batch.column("TraceId"), value_set=traces))
    picked = batch.take(trace_rows)
    columns = {name: picked.column(name) for name in _READ}
    columns["Timestamp"] = columns["Timestamp"].view(pa.int64())
    spans = [_span_element(s) for s in pa.RecordBatch.from_pydict(columns).to_pylist()]
    return _Recognizer(spans, observed).events()


_READ = ("Timestamp", "TraceId", "SpanId", "ParentSpanId", "SpanName", "SpanKind", "Duration", "StatusCode",
         "StatusMessage", "SpanAttributes", "ResourceAttributes", "ServiceName")


def _attributes_element(entries: list[tuple[str, dict[str, Any]]] | None) -> dict[str, str]:
    return {key: value["value"] for key, value in entries or ()}


def _span_element(row: dict[str, Any]) -> dict[str, Any]:
    start = int(row["Timestamp"])
    return {
        "trace_id": row["TraceId"], "span_id": row["SpanId"], "parent": row["ParentSpanId"],
        "name": row["SpanName"], "kind": row["SpanKind"], "start": start, "end": start + int(row["Duration"]),
        "status": row["StatusCode"], "status_message": row["StatusMessage"],
        "attrs": _attributes_element(row["SpanAttributes"]),
        "resource": _attributes_element(row["ResourceAttributes"]), "service": row["ServiceName"],
    }


def _ts(target: Any, field: str, nanos: int) -> None:
    getattr(target, field).FromNanoseconds(nanos)


class _Recognizer:
    """Per-span mapping for the rows of the candidate traces."""

    def __init__(self, spans: list[dict[str, Any]], observed: datetime) -> None:
        self.spans = spans
        self.by_id = {(s["trace_id"], s["span_id"]): s for s in spans}
        self.observed = observed
        self.roots = {s["trace_id"]: s for s in spans if _is_jenkins_root(s)}

    def events(self) -> list[pb.BuildEvent]:
        out = []
        for span in self.spans:
            event = self._event(span)
            if event is not None:
                out.append(event)
        return out

    def _get(self, span: Mapping[str, Any], key: str) -> str:
        return span["attrs"].get(key) or span["resource"].get(key, "")

    def _envelope(self, span: dict[str, Any], provider: int, provider_name: str) -> pb.BuildEvent:
        event = pb.BuildEvent(
            event_id=f"{provider_name}:{span['trace_id']}-{span['span_id']}:0",
            provider=provider, provider_name=provider_name,
        )
        event.observed_time.FromDatetime(self.observed)
        url, name, owner = (self._get(span, k) for k in ("vcs.repository.url.full", "vcs.repository.name",
                                                          "vcs.owner.name"))
        root = self.roots.get(span["trace_id"])
        url = url or (root and root["attrs"].get("git.repository", "")) or span["attrs"].get("git.repository", "")
        if url or name or owner:
            event.repository.url, event.repository.name, event.repository.owner = url, name, owner
        branch = self._get(span, "vcs.ref.head.name") or span["attrs"].get("git.branch", "")
        revision = self._get(span, "vcs.ref.head.revision")
        ref_type = _REF_TYPES.get(self._get(span, "vcs.ref.head.type"), pb.REF_TYPE_UNSPECIFIED)
        if branch or revision:
            event.head.name, event.head.revision, event.head.type = branch, revision, ref_type
        return event

    def _event(self, span: dict[str, Any]) -> pb.BuildEvent | None:
        attrs = span["attrs"]
        if "test.case.name" in attrs:
            return self._test_case(span)
        if "deployment.status" in attrs:
            return self._deployment(span)
        if _is_jenkins_root(span) or _is_jenkins_child(span):
            return self._jenkins(span)
        if "cicd.pipeline.result" not in attrs and "cicd.pipeline.task.run.result" not in attrs and \
                span["resource"].get("vcs.provider.name") in ("github", "gitlab"):
            return None  # the github / gitlab receivers' own spans: they emit their events themselves
        if "cicd.pipeline.result" in attrs:
            return self._otel_run(span)
        if "cicd.pipeline.task.name" in attrs:
            return self._otel_task(span)
        return None

    # -- provider of semconv spans ----------------------------------------------------------------
    def _otel_provider(self, span: dict[str, Any]) -> tuple[int, str]:
        name = self._get(span, SUMMIT_PROVIDER)
        if name:
            return _PROVIDERS.get(name, pb.PROVIDER_OTEL), name
        return pb.PROVIDER_OTEL, span["service"] or span["resource"].get("telemetry.sdk.name", "")

    def _otel_run(self, span: dict[str, Any]) -> pb.BuildEvent:
        event = self._envelope(span, *self._otel_provider(span))
        run = event.pipeline_run
        raw = span["attrs"]["cicd.pipeline.result"]
        run.pipeline_name = self._get(span, "cicd.pipeline.name")
        run.run_id = self._get(span, "cicd.pipeline.run.id")
        run.attempt = int(self._get(span, SUMMIT_ATTEMPT) or 1)
        run.result, run.result_detail = _RESULTS.get(raw, pb.RESULT_UNSPECIFIED), raw
        run.state = _STATES.get(self._get(span, "cicd.pipeline.run.state"), pb.STATE_COMPLETED)
        _ts(run, "started_time", span["start"])
        _ts(run, "finished_time", span["end"])
        run.url = self._get(span, "cicd.pipeline.run.url.full")
        run.trace_id, run.span_id, run.parent_span_id = span["trace_id"], span["span_id"], span["parent"]
        return event

    def _otel_task(self, span: dict[str, Any]) -> pb.BuildEvent:
        attrs = span["attrs"]
        event = self._envelope(span, *self._otel_provider(span))
        parent = self.by_id.get((span["trace_id"], span["parent"]))
        parent_is_task = parent is not None and "cicd.pipeline.task.name" in parent["attrs"]
        kind = attrs.get(SUMMIT_TASK_KIND, "")
        raw = attrs.get("cicd.pipeline.task.run.result", "")
        result = _RESULTS.get(raw, pb.RESULT_UNSPECIFIED)
        state = pb.STATE_COMPLETED if raw else pb.STATE_UNSPECIFIED
        run_id = self._get(span, "cicd.pipeline.run.id")
        attempt = int(self._get(span, SUMMIT_ATTEMPT) or 1)
        if kind == "step" or (parent_is_task and kind != "job" and kind != "stage"):
            step = event.step
            step.run_id, step.attempt = run_id, attempt
            step.job_id = (parent["attrs"].get("cicd.pipeline.task.run.id", "") if parent_is_task and parent
                           else self._get(span, SUMMIT_JOB_ID))
            step.step_id = attrs.get("cicd.pipeline.task.run.id", "")
            step.name = attrs["cicd.pipeline.task.name"]
            step.state, step.result, step.result_detail = state, result, raw
            _ts(step, "started_time", span["start"])
            _ts(step, "finished_time", span["end"])
            step.url = attrs.get("cicd.pipeline.task.run.url.full", "")
            step.trace_id, step.span_id, step.parent_span_id = span["trace_id"], span["span_id"], span["parent"]
            return event
        job = event.job
        job.run_id, job.attempt = run_id, attempt
        job.job_id = attrs.get("cicd.pipeline.task.run.id", "")
        job.parent_job_id = parent["attrs"].get("cicd.pipeline.task.run.id", "") if parent_is_task and parent else ""
        job.name = attrs["cicd.pipeline.task.name"]
        job.kind = pb.JOB_KIND_STAGE if kind == "stage" else pb.JOB_KIND_JOB
        job.task_type = _TASK_TYPES.get(attrs.get("cicd.pipeline.task.type", ""), pb.TASK_TYPE_UNSPECIFIED)
        job.state, job.result, job.result_detail = state, result, raw
        _ts(job, "started_time", span["start"])
        _ts(job, "finished_time", span["end"])
        job.url = attrs.get("cicd.pipeline.task.run.url.full", "")
        worker_id, worker_name = self._get(span, "cicd.worker.id"), self._get(span, "cicd.worker.name")
        if worker_id or worker_name:
            job.runner.id, job.runner.name = worker_id, worker_name
        job.trace_id, job.span_id, job.parent_span_id = span["trace_id"], span["span_id"], span["parent"]
        return event

    # -- Jenkins ----------------------------------------------------------------------------------
    def _jenkins_run_id(self, span: dict[str, Any]) -> str:
        root = self.roots.get(span["trace_id"])
        source = root["attrs"] if root else span["attrs"]
        return source.get("ci.pipeline.run.number", "")

    def _enclosing(self, span: dict[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any] | None:
        seen = 0
        parent = self.by_id.get((span["trace_id"], span["parent"]))
        while parent is not None and seen < 1000:
            if parent["name"].startswith(prefixes):
                return parent
            parent = self.by_id.get((parent["trace_id"], parent["parent"]))
            seen += 1
        return None

    def _jenkins(self, span: dict[str, Any]) -> pb.BuildEvent:
        attrs = span["attrs"]
        event = self._envelope(span, pb.PROVIDER_JENKINS, "jenkins")
        if _is_jenkins_root(span):
            run = event.pipeline_run
            raw = attrs.get("ci.pipeline.run.result", "")
            run.pipeline_name = attrs.get("ci.pipeline.id") or attrs.get("ci.pipeline.name", "")
            run.pipeline_id = attrs.get("ci.pipeline.id", "")
            run.run_id = attrs.get("ci.pipeline.run.number", "")
            run.run_number = int(attrs.get("ci.pipeline.run.number") or 0)
            run.attempt = 1
            run.result = _JENKINS_RESULTS.get(raw.upper(), pb.RESULT_UNSPECIFIED)
            run.result_detail = raw.upper()
            run.state = pb.STATE_COMPLETED if raw else pb.STATE_EXECUTING
            _ts(run, "started_time", span["start"])
            _ts(run, "finished_time", span["end"])
            run.url = attrs.get("ci.pipeline.run.url", "")
            run.actor = attrs.get("ci.pipeline.run.user", "")
            if "ci.pipeline.run.cause" in attrs:
                event.attributes["ci.pipeline.run.cause"] = attrs["ci.pipeline.run.cause"]
            run.trace_id, run.span_id, run.parent_span_id = span["trace_id"], span["span_id"], span["parent"]
            return event
        raw = attrs.get("jenkins.pipeline.step.result", "") or _status_result(span)
        result = _JENKINS_RESULTS.get(raw.upper(), pb.RESULT_UNSPECIFIED)
        stage = self._enclosing(span, ("Stage: ",))
        if span["name"].startswith(("Stage: ", "Parallel branch: ")):
            job = event.job
            is_stage = span["name"].startswith("Stage: ")
            job.run_id, job.attempt = self._jenkins_run_id(span), 1
            job.job_id = attrs.get("jenkins.pipeline.step.id") or span["span_id"]
            job.name = span["name"].split(": ", 1)[1]
            job.kind = pb.JOB_KIND_STAGE if is_stage else pb.JOB_KIND_JOB
            if stage is not None:
                job.parent_job_id = stage["attrs"].get("jenkins.pipeline.step.id") or stage["span_id"]
                job.stage = stage["name"].split(": ", 1)[1]
            job.state, job.result, job.result_detail = pb.STATE_COMPLETED, result, raw.upper()
            _ts(job, "started_time", span["start"])
            _ts(job, "finished_time", span["end"])
            label = attrs.get("jenkins.pipeline.step.agent.label", "")
            computer = attrs.get("jenkins.computer.name", "")
            if label or computer:
                job.runner.name = computer
                if label:
                    job.runner.labels.append(label)
            job.trace_id, job.span_id, job.parent_span_id = span["trace_id"], span["span_id"], span["parent"]
            return event
        step = event.step
        owner = self._enclosing(span, ("Stage: ", "Parallel branch: "))
        step.run_id, step.attempt = self._jenkins_run_id(span), 1
        step.job_id = (owner["attrs"].get("jenkins.pipeline.step.id") or owner["span_id"]) if owner else ""
        step.step_id = attrs.get("jenkins.pipeline.step.id") or span["span_id"]
        step.name = attrs.get("jenkins.pipeline.step.name") or span["name"]
        step.state, step.result, step.result_detail = pb.STATE_COMPLETED, result, raw.upper()
        _ts(step, "started_time", span["start"])
        _ts(step, "finished_time", span["end"])
        step.trace_id, step.span_id, step.parent_span_id = span["trace_id"], span["span_id"], span["parent"]
        return event

    # -- tests and deployments --------------------------------------------------------------------
    def _test_case(self, span: dict[str, Any]) -> pb.BuildEvent:
        attrs = span["attrs"]
        event = self._envelope(span, *self._otel_provider(span))
        case = event.test_case
        case.run_id = self._get(span, "cicd.pipeline.run.id")
        case.attempt = int(self._get(span, SUMMIT_ATTEMPT) or 1)
        case.job_id = self._get(span, SUMMIT_JOB_ID)
        case.suite = attrs.get("test.suite.name", "")
        case.class_name = attrs.get(SUMMIT_TEST_CLASS, "")
        case.name = attrs["test.case.name"]
        case.file = attrs.get(SUMMIT_TEST_FILE) or attrs.get("code.file.path", "")
        status = attrs.get(SUMMIT_TEST_RESULT) or attrs.get("test.case.result.status", "")
        case.result = _TEST_RESULTS.get(status, pb.TEST_RESULT_UNSPECIFIED)
        case.duration.FromNanoseconds(span["end"] - span["start"])
        case.failure_message = attrs.get(SUMMIT_TEST_MESSAGE, "")
        case.failure_type = attrs.get(SUMMIT_TEST_FAILURE_TYPE, "")
        case.failure_detail = attrs.get(SUMMIT_TEST_FAILURE_DETAIL, "")
        _ts(case, "started_time", span["start"])
        case.trace_id, case.span_id = span["trace_id"], span["span_id"]
        return event

    def _deployment(self, span: dict[str, Any]) -> pb.BuildEvent:
        attrs = span["attrs"]
        event = self._envelope(span, *self._otel_provider(span))
        deployment = event.deployment
        raw = attrs["deployment.status"]
        deployment.deployment_id = self._get(span, "deployment.id")
        deployment.name = self._get(span, "deployment.name")
        deployment.service = span["resource"].get("service.name") or span["service"]
        deployment.environment = self._get(span, "deployment.environment.name")
        deployment.version = self._get(span, "service.version")
        deployment.status, deployment.status_detail = _DEPLOY_STATUS.get(raw, pb.DEPLOYMENT_STATUS_UNSPECIFIED), raw
        _ts(deployment, "started_time", span["start"])
        if raw in ("succeeded", "failed"):
            _ts(deployment, "finished_time", span["end"])
        deployment.run_id = self._get(span, "cicd.pipeline.run.id")
        deployment.job_id = self._get(span, SUMMIT_JOB_ID)
        deployment.trace_id, deployment.span_id = span["trace_id"], span["span_id"]
        return event


def _is_jenkins_root(span: Mapping[str, Any]) -> bool:
    return bool(span["kind"] == "Server" and span["name"].startswith("BUILD ")
                and any(k.startswith("ci.pipeline.") for k in span["attrs"]))


def _is_jenkins_child(span: Mapping[str, Any]) -> bool:
    return any(k.startswith("jenkins.pipeline.step.") for k in span["attrs"]) or (
        span["name"].startswith(("Stage: ", "Parallel branch: "))
        and any(k.startswith(("ci.pipeline.", "jenkins.")) for k in span["attrs"])
    )


def _status_result(span: Mapping[str, Any]) -> str:
    """A Jenkins span without a step result: its status (Error → FAILURE, else SUCCESS; an
    interrupted step is UNSET with a message, which the plugin uses for aborts)."""
    if span["status"] == "Error":
        return "FAILURE"
    if span["status_message"]:
        return "ABORTED"
    return "SUCCESS"


