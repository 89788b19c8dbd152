"""A Sentry transaction as OTLP spans: the transaction is the local root span, each of its
`spans` a child; trace and span ids are Sentry's own, so errors (`contexts.trace`) and traces
propagated with `sentry-trace` / `traceparent` line up.

| Sentry                                   | span                                                 |
|------------------------------------------|------------------------------------------------------|
| `transaction` / span `description`       | SpanName (a child without description: its `op`)     |
| `contexts.trace.op` / span `op`          | `sentry.op`; SpanKind from it (http.server → Server, http.client and db → Client, queue.publish → Producer, queue.process → Consumer, else Internal) |
| span `description`                       | `sentry.description`                                 |
| `status`                                 | `ok` → Ok, another value → Error with it as message; `sentry.status` |
| `start_timestamp` / `timestamp`          | start / end                                          |
| `data`                                   | attributes under their own keys (`db.system`, …)     |
| `tags`                                   | `sentry.tag.<k>`                                     |
| `origin`, `transaction_info.source`      | `sentry.origin`, `sentry.transaction.source`         |
| `measurements.<name>` {value, unit}      | `sentry.measurement.<name>` (double), `sentry.measurement.<name>.unit` |

The root span also gets the event's contexts, user and request (common.py). As in Relay, a
transaction without start/end timestamps, with end before start, or without trace_id/span_id
is invalid as a whole: `InvalidTransaction` says why, and nothing of it is kept.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1 import trace_pb2

from summitcol.sentry import common
from summitcol.sentry.auth import Project

Kind = trace_pb2.Span.SpanKind
KINDS = (  # op prefix → kind, first match wins
    ("http.server", Kind.SPAN_KIND_SERVER),
    ("http.client", Kind.SPAN_KIND_CLIENT),
    ("db", Kind.SPAN_KIND_CLIENT),
    ("queue.publish", Kind.SPAN_KIND_PRODUCER),
    ("queue.submit", Kind.SPAN_KIND_PRODUCER),
    ("queue.process", Kind.SPAN_KIND_CONSUMER),
    ("queue.task", Kind.SPAN_KIND_CONSUMER),
)


class InvalidTransaction(ValueError):
    """The transaction (or one of its spans) lacks what a span needs; Relay drops it whole."""


def kind_of(op: str) -> int:
    for prefix, kind in KINDS:
        if op == prefix or op.startswith(prefix + "."):
            return kind
    return Kind.SPAN_KIND_INTERNAL


def status_of(value: Any) -> trace_pb2.Status:
    """`ok` → Ok, another status → Error with it as the message, none → Unset."""
    if not isinstance(value, str) or not value:
        return trace_pb2.Status()
    if value == "ok":
        return trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK)
    return trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_ERROR, message=value)


def _times(item: dict[str, Any], what: str) -> tuple[int, int]:
    start = common.timestamp_nanos(item.get("start_timestamp"), -1)
    end = common.timestamp_nanos(item.get("timestamp"), -1)
    if start < 0 or end < 0:
        raise InvalidTransaction(f"{what} needs both start_timestamp and timestamp")
    if end < start:
        raise InvalidTransaction(f"{what} ends (timestamp) before it starts (start_timestamp)")
    return start, end


def _ids(item: dict[str, Any], what: str) -> tuple[bytes, bytes]:
    trace_id, span_id = common.hex_id(item.get("trace_id"), 32), common.hex_id(item.get("span_id"), 16)
    if not trace_id:
        raise InvalidTransaction(f"{what} has no valid trace_id (32 hex digits)")
    if not span_id:
        raise InvalidTransaction(f"{what} has no valid span_id (16 hex digits)")
    return trace_id, span_id


def _span_attributes(attributes: common.Attributes, item: dict[str, Any]) -> None:
    data = item.get("data")
    if isinstance(data, dict):
        for key, value in data.items():
            attributes.put(str(key), value)
    attributes.put_text("sentry.op", item.get("op"))
    attributes.put_text("sentry.origin", item.get("origin"))
    attributes.put_text("sentry.status", item.get("status"))
    for key, value in common.tags_of(item):
        attributes.put_text(f"sentry.tag.{key}", value)
    add_measurements(attributes, item.get("measurements"))


def add_measurements(attributes: common.Attributes, measurements: Any) -> None:
    if not isinstance(measurements, dict):
        return
    for name, measurement in measurements.items():
        value = measurement.get("value") if isinstance(measurement, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes.put(f"sentry.measurement.{name}", float(value))
            attributes.put_text(f"sentry.measurement.{name}.unit", measurement.get("unit"))


def transaction_to_spans(event: dict[str, Any], event_id: str, project: Project) -> trace_pb2.ResourceSpans:
    """One ResourceSpans: the root span first, then the children in the order sent."""
    contexts = event.get("contexts") if isinstance(event.get("contexts"), dict) else {}
    trace = contexts.get("trace") if isinstance(contexts.get("trace"), dict) else {}
    trace_id, root_id = _ids(trace, "the transaction's contexts.trace")
    start, end = _times(event, "the transaction")
    name = common.text(event.get("transaction")) or common.text(trace.get("op")) or "<unlabeled transaction>"
    attributes = common.Attributes()
    _span_attributes(attributes, {**trace, "tags": event.get("tags"), "measurements": event.get("measurements")})
    info = event.get("transaction_info")
    if isinstance(info, dict):
        attributes.put_text("sentry.transaction.source", info.get("source"))
    attributes.put_text("sentry.event_id", event_id)
    rest = {k: v for k, v in event.items() if k not in ("tags", "transaction", "contexts")}
    rest["contexts"] = {k: v for k, v in contexts.items() if k != "trace"}  # the span itself says it
    common.add_event_attributes(attributes, rest)
    op = common.text(trace.get("op"))
    root = trace_pb2.Span(
        trace_id=trace_id,
        span_id=root_id,
        parent_span_id=common.hex_id(trace.get("parent_span_id"), 16),
        name=name,
        kind=kind_of(op),
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=attributes.key_values(),
        dropped_attributes_count=attributes.dropped,
        status=status_of(trace.get("status")),
    )
    spans = [root]
    children = event.get("spans")
    for position, child in enumerate(children if isinstance(children, list) else []):
        if not isinstance(child, dict):
            raise InvalidTransaction(f"spans[{position}] is not a JSON object")
        what = f"spans[{position}]"
        child_trace, span_id = _ids({"trace_id": child.get("trace_id") or trace.get("trace_id"),
                                     "span_id": child.get("span_id")}, what)
        child_start, child_end = _times(child, what)
        child_attributes = common.Attributes()
        _span_attributes(child_attributes, child)
        child_attributes.put_text("sentry.description", child.get("description"))
        child_op = common.text(child.get("op"))
        spans.append(trace_pb2.Span(
            trace_id=child_trace,
            span_id=span_id,
            parent_span_id=common.hex_id(child.get("parent_span_id"), 16) or root_id,
            name=common.text(child.get("description")) or child_op or "<unlabeled span>",
            kind=kind_of(child_op),
            start_time_unix_nano=child_start,
            end_time_unix_nano=child_end,
            attributes=child_attributes.key_values(),
            dropped_attributes_count=child_attributes.dropped,
            status=status_of(child.get("status")),
        ))
    scope_name, scope_version = common.scope_of(event)
    scope = trace_pb2.ScopeSpans(scope=InstrumentationScope(name=scope_name, version=scope_version), spans=spans)
    return trace_pb2.ResourceSpans(resource=common.resource(event, project), scope_spans=[scope])
