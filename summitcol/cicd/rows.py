"""Canonical BuildEvents → rows of the build tables (`cicd.schema`).

Every producer of build data (the webhook mappers, the CI span recogniser, JUnit uploads, the
`summitcol ci` commands) makes BuildEvents; this is the one place they become table rows, so a
GitHub job and a Jenkins stage land in the same columns with the same meanings.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from google.protobuf.timestamp_pb2 import Timestamp

from summitcol.cicd import schema
from summitcol.cicd.model import build_pb2 as pb


def _enum_text(enum: Any, value: int, prefix: str) -> str:
    """RESULT_CANCELLATION → "cancellation"; the UNSPECIFIED value → ""."""
    name = enum.Name(value)
    return "" if name.endswith("_UNSPECIFIED") else name[len(prefix):].lower()


def _ns(ts: Timestamp) -> int | None:
    """A set Timestamp as nanoseconds since the epoch; None when unset (seconds and nanos both 0)."""
    if not ts.seconds and not ts.nanos:
        return None
    return ts.seconds * 1_000_000_000 + ts.nanos


def _between(start: int | None, end: int | None) -> int | None:
    return end - start if start is not None and end is not None else None


def _first(*values: int | None) -> int:
    return next(v for v in values if v is not None)


def _progress(rank: int, *times: int | None, observed: int) -> int:
    """The version the tables keep the highest of: how far the thing has got (its state's rank),
    then the provider's latest time for it, then when Summit saw it, in microseconds. The
    provider's state and times order what a webhook says; arrival order does not, so an old
    delivery replayed after a newer one (a GitHub "Redeliver" days later, a restart that forgot
    the delivery ids) cannot put a finished job back to running."""
    known = [t for t in times if t is not None]
    return (rank << 58) | ((max(known) if known else observed) // 1000)


def _envelope(event: pb.BuildEvent, timestamp: int | None, rank: int = 0, *times: int | None) -> dict[str, Any]:
    observed = _ns(event.observed_time)
    if observed is None:
        observed = time.time_ns()
    return {
        "Timestamp": timestamp if timestamp is not None else observed,
        "Provider": _enum_text(pb.Provider, event.provider, "PROVIDER_"),
        "ProviderName": event.provider_name,
        "Repository": event.repository.url,
        "RepositoryName": event.repository.name,
        "Owner": event.repository.owner,
        "Branch": event.head.name,
        "RefType": _enum_text(pb.RefType, event.head.type, "REF_TYPE_"),
        "Commit": event.head.revision,
        "EventId": event.event_id,
        "ObservedAt": observed,
        "Progress": _progress(rank, timestamp, *times, observed=observed),
        "Attributes": sorted(event.attributes.items()),
    }


def _result(value: int) -> str:
    return _enum_text(pb.Result, value, "RESULT_")


def _state(value: int) -> str:
    return _enum_text(pb.State, value, "STATE_")


def _run(event: pb.BuildEvent) -> dict[str, Any]:
    run = event.pipeline_run
    queued, started, finished = _ns(run.queued_time), _ns(run.started_time), _ns(run.finished_time)
    return {
        **_envelope(event, queued if queued is not None else started, run.state, started, finished),
        "Level": "run", "PipelineName": run.pipeline_name, "PipelineId": run.pipeline_id,
        "RunId": run.run_id, "RunNumber": run.run_number, "Attempt": run.attempt,
        "State": _state(run.state), "Result": _result(run.result), "ResultDetail": run.result_detail,
        "QueuedAt": queued, "StartedAt": started, "FinishedAt": finished,
        "QueueDuration": _between(queued, started), "Duration": _between(started, finished),
        "Url": run.url, "Trigger": run.trigger, "Actor": run.actor, "ChangeId": run.change_id,
        "BaseBranch": run.base.name, "TraceId": run.trace_id, "SpanId": run.span_id, "ParentSpanId": run.parent_span_id,
    }


def _job(event: pb.BuildEvent) -> dict[str, Any]:
    job = event.job
    queued, started, finished = _ns(job.queued_time), _ns(job.started_time), _ns(job.finished_time)
    return {
        **_envelope(event, queued if queued is not None else started, job.state, started, finished),
        "Level": "stage" if job.kind == pb.JOB_KIND_STAGE else "job",
        "RunId": job.run_id, "Attempt": job.attempt, "JobId": job.job_id, "ParentJobId": job.parent_job_id,
        "JobName": job.name, "Stage": job.stage, "TaskType": _enum_text(pb.TaskType, job.task_type, "TASK_TYPE_"),
        "State": _state(job.state), "Result": _result(job.result), "ResultDetail": job.result_detail,
        "QueuedAt": queued, "StartedAt": started, "FinishedAt": finished,
        "QueueDuration": _between(queued, started), "Duration": _between(started, finished),
        "Runner": job.runner.name, "RunnerId": job.runner.id, "RunnerGroup": job.runner.group,
        "RunnerLabels": list(job.runner.labels), "Url": job.url,
        "TraceId": job.trace_id, "SpanId": job.span_id, "ParentSpanId": job.parent_span_id,
    }


def _step(event: pb.BuildEvent) -> dict[str, Any]:
    step = event.step
    started, finished = _ns(step.started_time), _ns(step.finished_time)
    return {
        **_envelope(event, started, step.state, finished),
        "Level": "step", "RunId": step.run_id, "Attempt": step.attempt, "JobId": step.job_id,
        "StepId": step.step_id, "StepNumber": step.number, "StepName": step.name,
        "State": _state(step.state), "Result": _result(step.result), "ResultDetail": step.result_detail,
        "StartedAt": started, "FinishedAt": finished, "Duration": _between(started, finished), "Url": step.url,
        "TraceId": step.trace_id, "SpanId": step.span_id, "ParentSpanId": step.parent_span_id,
    }


def _test(event: pb.BuildEvent) -> dict[str, Any]:
    test = event.test_case
    duration = test.duration.seconds * 1_000_000_000 + test.duration.nanos if test.HasField("duration") else None
    return {
        **_envelope(event, _ns(test.started_time)),
        "RunId": test.run_id, "Attempt": test.attempt, "JobId": test.job_id, "StepId": test.step_id,
        "Suite": test.suite, "ClassName": test.class_name, "Name": test.name, "File": test.file,
        "Result": _enum_text(pb.TestResult, test.result, "TEST_RESULT_"), "Duration": duration,
        "FailureMessage": test.failure_message, "FailureType": test.failure_type, "FailureDetail": test.failure_detail,
        "TraceId": test.trace_id, "SpanId": test.span_id,
    }


def _deployment(event: pb.BuildEvent) -> dict[str, Any]:
    deployment = event.deployment
    started, finished = _ns(deployment.started_time), _ns(deployment.finished_time)
    return {
        **_envelope(event, started, min(deployment.status, pb.DEPLOYMENT_STATUS_SUCCEEDED), finished),
        "DeploymentId": deployment.deployment_id, "Name": deployment.name, "ServiceName": deployment.service,
        "Environment": deployment.environment, "Version": deployment.version,
        "Status": _enum_text(pb.DeploymentStatus, deployment.status, "DEPLOYMENT_STATUS_"),
        "StatusDetail": deployment.status_detail, "StartedAt": started, "FinishedAt": finished,
        "Duration": _between(started, finished), "Url": deployment.url, "RunId": deployment.run_id,
        "JobId": deployment.job_id, "TraceId": deployment.trace_id, "SpanId": deployment.span_id,
    }


def _change(event: pb.BuildEvent) -> dict[str, Any]:
    change = event.change
    authored = _ns(change.authored_time)
    return {
        **_envelope(event, authored),
        "AuthorName": change.author_name, "AuthorEmail": change.author_email, "AuthoredAt": authored,
        "CommittedAt": _ns(change.committed_time), "PushedAt": _ns(change.pushed_time),
        "Title": change.title, "Url": change.url, "Pusher": change.pusher,
    }


_ROWS = {
    "pipeline_run": (schema.BUILDS, _run),
    "job": (schema.BUILDS, _job),
    "step": (schema.BUILDS, _step),
    "test_case": (schema.TESTS, _test),
    "deployment": (schema.DEPLOYMENTS, _deployment),
    "change": (schema.CHANGES, _change),
}


def build_tables(events: Iterable[pb.BuildEvent]) -> dict[str, pa.RecordBatch]:
    """Rows per build table for `events` (tables with no rows are left out). An event with no
    oneof member set is a producer's bug: ValueError, naming the event."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        kind = event.WhichOneof("event")
        if kind is None:
            raise ValueError(f"build event {event.event_id!r} carries no event (pipeline_run, job, step, ...)")
        table, row = _ROWS[kind]
        rows.setdefault(table.name, []).append(row(event))
    out = {}
    for name, table_rows in rows.items():
        table = schema.TABLES[name]
        columns = {column: [row.get(column) for row in table_rows] for column, _, _ in table.columns}
        for column, ch, arrow in table.columns:  # absent non-null columns get their type's zero
            if not ch.startswith("Nullable"):
                zero = _ZEROS.get(arrow, "")
                columns[column] = [zero if value is None else value for value in columns[column]]
        out[name] = pa.RecordBatch.from_pydict(columns, schema=table.arrow_schema)
    return out


_ZEROS: dict[pa.DataType, Any] = {pa.int64(): 0, pa.uint32(): 0, pa.list_(pa.string()): [],
                                  pa.map_(pa.string(), pa.string()): []}
