"""Release health: Sentry `session` updates and `sessions` aggregates → one OTLP sum metric, and
`client_report` items → what the SDK dropped, by reason and category.

`sentry.sessions` (unit `{session}`, delta, monotonic) counts, per release (`service.version`)
and environment (`deployment.environment.name`), with attribute `session.status`:

* `started` — a session's first update (`init: true`; Sentry counts only those, and does not
  dedupe: an SDK sends `init` once);
* `healthy`, `errored`, `crashed`, `abnormal` — how it ended, counted at its terminal update
  (`status` exited / crashed / abnormal; exited with `errors` > 0 is errored), exactly one per
  session, as Sentry's release health splits ended sessions.

So the crash-free rate of a release is `1 - crashed / started`, in SQL over `otel_metrics_sum`.
Request-mode `sessions` aggregates (`{aggregates: [{started, exited, errored, abnormal, crashed}],
attrs}`) count their buckets the same way: every bucket's sessions started and ended.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from summitcol.sentry.auth import Project
from summitcol.sentry.common import resource, timestamp_nanos

METRIC = "sentry.sessions"
STATUS = "session.status"
_ENDED = {"exited": "healthy", "crashed": "crashed", "abnormal": "abnormal"}


class SessionError(ValueError):
    """A session item Relay would drop (no `started`, no `attrs.release`)."""


def _attrs(payload: dict[str, Any]) -> dict[str, Any]:
    attrs = payload.get("attrs")
    if not isinstance(attrs, dict) or not isinstance(attrs.get("release"), str) or not attrs["release"]:
        raise SessionError("attrs.release is required")
    return attrs


def session_counts(payload: dict[str, Any]) -> Counter[str]:
    """The statuses one `session` update counts."""
    if "started" not in payload:
        raise SessionError("started is required")
    _attrs(payload)
    counts: Counter[str] = Counter()
    if payload.get("init") is True:
        counts["started"] += 1
    status = payload.get("status", "ok")
    if status in _ENDED:
        errors = payload.get("errors", 0)
        errored = status == "exited" and isinstance(errors, int) and errors > 0
        counts["errored" if errored else _ENDED[status]] += 1
    return counts


def aggregate_counts(payload: dict[str, Any]) -> Counter[str]:
    """The statuses a request-mode `sessions` item counts."""
    _attrs(payload)
    counts: Counter[str] = Counter()
    aggregates = payload.get("aggregates")
    for bucket in aggregates if isinstance(aggregates, list) else []:
        if not isinstance(bucket, dict):
            continue
        ended = {status: bucket.get(key, 0) for key, status in
                 (("exited", "healthy"), ("errored", "errored"), ("abnormal", "abnormal"), ("crashed", "crashed"))}
        for status, count in ended.items():
            if isinstance(count, int) and count > 0:
                counts[status] += count
                counts["started"] += count
    return counts


def session_metrics(payload: dict[str, Any], counts: Counter[str], project: Project, received_ns: int) -> metrics_pb2.ResourceMetrics:
    """The counts as one ResourceMetrics: the release and environment in the resource, as for events."""
    attrs = _attrs(payload)
    at = timestamp_nanos(payload.get("timestamp") or payload.get("started"), received_ns)
    metric = metrics_pb2.Metric(name=METRIC, unit="{session}", description="Sentry SDK sessions, by how they started and ended")
    metric.sum.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
    metric.sum.is_monotonic = True
    for status, count in sorted(counts.items()):
        point = metric.sum.data_points.add(start_time_unix_nano=at, time_unix_nano=at, as_int=count)
        point.attributes.append(KeyValue(key=STATUS, value=AnyValue(string_value=status)))
    scope = metrics_pb2.ScopeMetrics(scope=InstrumentationScope(name="summitcol.sentry.sessions"), metrics=[metric])
    return metrics_pb2.ResourceMetrics(resource=resource({"release": attrs["release"], "environment": attrs.get("environment")}, project),
                                       scope_metrics=[scope])


def discarded(payload: dict[str, Any]) -> Counter[tuple[str, str]]:
    """A `client_report`'s `discarded_events`: (reason, category) → quantity."""
    out: Counter[tuple[str, str]] = Counter()
    for entry in payload.get("discarded_events") or []:
        if isinstance(entry, dict) and isinstance(entry.get("quantity"), int) and entry["quantity"] > 0:
            out[(str(entry.get("reason", "")), str(entry.get("category", "")))] += entry["quantity"]
    return out
