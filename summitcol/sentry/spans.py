"""Streamed spans (the `span` item, content type `application/vnd.sentry.items.span.v2+json`,
what the JavaScript SDKs from v10/v11 send instead of a transaction: `{"version": 2, "items":
[span, …]}`) as OTLP spans, one ResourceSpans per item.

| span v2                                   | span                                               |
|-------------------------------------------|----------------------------------------------------|
| `name`                                    | SpanName                                           |
| `trace_id`, `span_id`, `parent_span_id`   | the same ids (a segment without parent: a local root) |
| `start_timestamp`, `end_timestamp` (s)    | start / end                                        |
| `status` ok / error                       | Ok / Error                                         |
| `attributes` {key: {value, type}}         | attributes under their own keys                    |
| attribute `sentry.op`                     | SpanKind, as for transactions (http.server → Server …) |

The resource is the project's, with `service.version` / `deployment.environment.name` from the
spans' `sentry.release` / `sentry.environment` (else the envelope's `trace` header). A span
without ids or timestamps, or ending before it starts, is invalid: dropped alone (Relay validates
each span of the container), the rest kept.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1 import trace_pb2

from summitcol.sentry import common
from summitcol.sentry.auth import Project
from summitcol.sentry.transactions import InvalidTransaction, kind_of, status_of

CONTENT_TYPE = "application/vnd.sentry.items.span.v2+json"


def _value(attribute: Any) -> Any:
    return attribute.get("value") if isinstance(attribute, dict) else attribute


def _span(item: dict[str, Any]) -> trace_pb2.Span:
    trace_id, span_id = common.hex_id(item.get("trace_id"), 32), common.hex_id(item.get("span_id"), 16)
    if not trace_id or not span_id:
        raise InvalidTransaction("a streamed span needs trace_id (32 hex digits) and span_id (16 hex digits)")
    start = common.timestamp_nanos(item.get("start_timestamp"), -1)
    end = common.timestamp_nanos(item.get("end_timestamp"), -1)
    if start < 0 or end < 0 or end < start:
        raise InvalidTransaction("a streamed span needs start_timestamp and end_timestamp, in that order")
    attributes = common.Attributes()
    raw = item.get("attributes") if isinstance(item.get("attributes"), dict) else {}
    for key, attribute in raw.items():
        attributes.put(str(key), _value(attribute))
    attributes.put_text("sentry.status", item.get("status"))
    return trace_pb2.Span(
        trace_id=trace_id, span_id=span_id, parent_span_id=common.hex_id(item.get("parent_span_id"), 16),
        name=common.text(item.get("name")) or "<unlabeled span>", kind=kind_of(common.text(_value(raw.get("sentry.op")))),
        start_time_unix_nano=start, end_time_unix_nano=end, attributes=attributes.key_values(),
        dropped_attributes_count=attributes.dropped, status=status_of(item.get("status")),
    )


def streamed_spans(payload: dict[str, Any], headers: dict[str, Any], project: Project) -> tuple[trace_pb2.ResourceSpans, list[str]]:
    """The container's valid spans, and why the others were dropped; `headers`: the envelope's."""
    spans, problems = [], []
    trace = headers.get("trace") if isinstance(headers.get("trace"), dict) else {}
    release, environment = trace.get("release"), trace.get("environment")
    items = payload.get("items")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            problems.append(f"span {index} is not an object")
            continue
        try:
            spans.append(_span(item))
        except InvalidTransaction as exc:
            problems.append(f"span {index}: {exc}")
            continue
        attributes = item.get("attributes") if isinstance(item.get("attributes"), dict) else {}
        release = _value(attributes.get("sentry.release")) or release
        environment = _value(attributes.get("sentry.environment")) or environment
    resource = common.resource({"release": release, "environment": environment, "sdk": headers.get("sdk")}, project)
    scope = trace_pb2.ScopeSpans(scope=InstrumentationScope(name="sentry"), spans=spans)
    return trace_pb2.ResourceSpans(resource=resource, scope_spans=[scope]), problems
