"""An envelope (or a store event) → OTLP logs and traces requests, and what became of each item.

Item outcomes (the receiver counts them by type):
- `accepted`: an `event` became a log record, a `transaction` spans, a streamed `span` item's
  spans (counted per span), a `session`/`sessions` item
  release-health counts (`sentry.sessions`), a `client_report` the SDK's discarded counts;
- `invalid`: a transaction Relay would drop (InvalidTransaction): dropped, the rest kept;
- `sampled_out`: a replay's items, when the replay sampling drops that replay;
- `unknown`: a type this receiver does not handle (attachments, replay videos, … and types no one knows
  yet): skipped, the rest of the envelope accepted, as Relay skips items it does not process.

A payload that is not a JSON object makes the whole envelope malformed (EnvelopeError naming the
item), as Relay answers 400 for an envelope it cannot parse.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.sentry.auth import Project
from summitcol.sentry.envelope import (
    CLIENT_REPORT,
    EVENT,
    REPLAY_EVENT,
    REPLAY_RECORDING,
    SESSION,
    SESSIONS,
    SPAN,
    TRANSACTION,
    Envelope,
    EnvelopeError,
    Item,
)
from summitcol.sentry.events import event_to_log
from summitcol.sentry.replays import ReplayError, kept, replay_id_of, replay_row, segment_row
from summitcol.sentry.sessions import (
    SessionError,
    aggregate_counts,
    discarded,
    session_counts,
    session_metrics,
)
from summitcol.sentry.spans import streamed_spans
from summitcol.sentry.transactions import InvalidTransaction, transaction_to_spans
from summitcol.sentry.vitals import vital_metrics

MAX_EVENT_SIZE = 1024 * 1024  # Relay's limits.max_event_size: 1 MiB per event or transaction item


class ItemTooLargeError(EnvelopeError):
    """An event or transaction item is larger than `max_event_size` (Relay: 413)."""


@dataclass(slots=True)
class Converted:
    logs: ExportLogsServiceRequest = field(default_factory=ExportLogsServiceRequest)
    traces: ExportTraceServiceRequest = field(default_factory=ExportTraceServiceRequest)
    metrics: ExportMetricsServiceRequest = field(default_factory=ExportMetricsServiceRequest)  # release health
    discarded: Counter[tuple[str, str]] = field(default_factory=Counter)  # client reports: (reason, category) → quantity
    replays: list[dict[str, Any]] = field(default_factory=list)  # replays_v1 rows (summitcol.sentry.replays)
    segments: list[dict[str, Any]] = field(default_factory=list)  # replay_segments_v1 rows
    event_id: str = ""  # what the 200 answers as {"id": ...}; "" when the envelope has none
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (item type, outcome) → items
    problems: list[str] = field(default_factory=list)  # why items were dropped, for the log


def event_id_of(payload: dict[str, Any], fallback: str) -> str:
    """The payload's event_id as Sentry stores it (32 lowercase hex, no dashes), else `fallback`."""
    value = payload.get("event_id")
    if isinstance(value, str):
        text = value.replace("-", "").lower()
        if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
            return text
    return fallback


def convert_envelope(envelope: Envelope, project: Project, received_ns: int,
                     max_event_size: int = MAX_EVENT_SIZE, replay_percentage: float = 100.0) -> Converted:
    """`replay_percentage`: the share of replays kept (by replay id, whole replays only)."""
    out = Converted(event_id=event_id_of(envelope.headers, ""))
    if any(item.type in (REPLAY_EVENT, REPLAY_RECORDING) for item in envelope.items):
        _add_replay(out, envelope, project, received_ns, replay_percentage)
    singles = [item for item in envelope.items if item.type in (EVENT, TRANSACTION)]
    for item in envelope.items:
        if item.type in (REPLAY_EVENT, REPLAY_RECORDING):
            continue  # _add_replay, above
        if item.type in (SESSION, SESSIONS, CLIENT_REPORT):
            _add_health(out, item, project, received_ns)
            continue
        if item.type == SPAN:
            resource_spans, problems = streamed_spans(item.json(), envelope.headers, project)
            kept = sum(len(scope.spans) for scope in resource_spans.scope_spans)
            if kept:
                out.traces.resource_spans.append(resource_spans)
                _add_vitals(out, resource_spans)
            out.outcomes[(item.type, "accepted")] += kept
            out.outcomes[(item.type, "invalid")] += len(problems)
            out.problems.extend(f"{item.name()}: {problem}; the span was dropped" for problem in problems)
            continue
        if item.type not in (EVENT, TRANSACTION):
            out.outcomes[(item.type, "unknown")] += 1
            continue
        if len(item.payload) > max_event_size:
            raise ItemTooLargeError(f"{item.name()} is {len(item.payload)} bytes, more than max_event_size ({max_event_size})")
        payload = item.json()
        # the envelope header's event_id wins over the payload's (Relay) when it names one item
        header_id = out.event_id if len(singles) == 1 else ""
        event_id = header_id or event_id_of(payload, "") or uuid.uuid4().hex
        if _add(out, item, payload, event_id, project, received_ns) and not out.event_id:
            out.event_id = event_id
    return out


def convert_store(event: dict[str, Any], project: Project, received_ns: int) -> Converted:
    """A legacy `/store/` event (a transaction when its `type` says so)."""
    event_id = event_id_of(event, "") or uuid.uuid4().hex
    kind = TRANSACTION if event.get("type") == TRANSACTION else EVENT
    out = Converted(event_id=event_id)
    _add(out, Item(kind, {"type": kind}, b"", 0), event, event_id, project, received_ns)
    return out


def _add_vitals(out: Converted, resource_spans: Any) -> None:
    """The spans' web vitals as histogram points (metrics pipelines), beside the spans themselves."""
    vitals = vital_metrics(resource_spans)
    if vitals is not None:
        out.metrics.resource_metrics.append(vitals)


def _add_replay(out: Converted, envelope: Envelope, project: Project, received_ns: int, percentage: float) -> None:
    """The envelope's replay_event and replay_recording items (they travel together): kept or
    dropped as one replay, by its id; an invalid one is counted and the rest kept."""
    items = [item for item in envelope.items if item.type in (REPLAY_EVENT, REPLAY_RECORDING)]
    events = [item for item in items if item.type == REPLAY_EVENT]
    header_id = event_id_of(envelope.headers, "")
    try:
        replay_id = replay_id_of(events[0].json(), header_id) if events else replay_id_of({}, header_id)
    except ReplayError as exc:
        for item in items:
            out.outcomes[(item.type, "invalid")] += 1
        out.problems.append(f"{items[0].name()}: {exc}; the replay was dropped")
        return
    if not kept(replay_id, percentage):
        for item in items:
            out.outcomes[(item.type, "sampled_out")] += 1
        return
    for item in items:
        try:
            if item.type == REPLAY_EVENT:
                out.replays.append(replay_row(item.json(), replay_id, project.service_name, received_ns))
            else:
                out.segments.append(segment_row(item.payload, replay_id, received_ns))
        except ReplayError as exc:
            out.outcomes[(item.type, "invalid")] += 1
            out.problems.append(f"{item.name()}: {exc}; it was dropped")
            continue
        out.outcomes[(item.type, "accepted")] += 1


def _add_health(out: Converted, item: Item, project: Project, received_ns: int) -> None:
    """A session update, a sessions aggregate or a client report; one that Relay would drop
    (no release, no start) is `invalid` and the rest of the envelope is kept."""
    payload = item.json()
    if item.type == CLIENT_REPORT:
        out.discarded.update(discarded(payload))
        out.outcomes[(item.type, "accepted")] += 1
        return
    try:
        counts = session_counts(payload) if item.type == SESSION else aggregate_counts(payload)
    except SessionError as exc:
        out.outcomes[(item.type, "invalid")] += 1
        out.problems.append(f"{item.name()}: {exc}; the session was dropped")
        return
    if counts:
        out.metrics.resource_metrics.append(session_metrics(payload, counts, project, received_ns))
    out.outcomes[(item.type, "accepted")] += 1


def _add(out: Converted, item: Item, payload: dict[str, Any], event_id: str, project: Project, received_ns: int) -> bool:
    """Whether the item was kept."""
    if item.type == TRANSACTION:
        try:
            resource_spans = transaction_to_spans(payload, event_id, project)
            out.traces.resource_spans.append(resource_spans)
            _add_vitals(out, resource_spans)
        except InvalidTransaction as exc:
            out.outcomes[(item.type, "invalid")] += 1
            out.problems.append(f"{item.name()}: {exc}; the transaction was dropped")
            return False
    else:
        out.logs.resource_logs.append(event_to_log(payload, event_id, project, received_ns))
    out.outcomes[(item.type, "accepted")] += 1
    return True
