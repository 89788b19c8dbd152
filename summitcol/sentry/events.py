"""A Sentry error (or message) event as one OTLP log record.

- Body: the message (`logentry.formatted`, `logentry.message`, or `message`); an event with no
  message (what `capture_exception` sends) gets `<Type>: <value>` of the raised exception.
- Severity from `level` (fatal, error, warning, info, debug; error when absent, as Relay).
- `exception.type` / `exception.message`: the raised exception (the last of Sentry's chain,
  which is ordered oldest → newest); `exception.stacktrace`: the whole chain rendered as the
  platform prints it (stacktrace.py), which the `fingerprint` processor parses.
- `contexts.trace.trace_id` / `span_id` → TraceId / SpanId, so the error links to its trace.
- `sentry.event_id`, and the SDK's `fingerprint` array as `sentry.fingerprint`.
- `sentry.exception.in_app`: the SDK's `in_app` of the raised exception's frames, outermost first
  (`1`/`0`/`-`), which the fingerprint processor applies to the frames it parses from the text.
- `sentry.exception.mechanism` / `sentry.exception.handled` from the raised exception's mechanism.
- tags, contexts, user, request, extra: common.py's names.
"""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope
from opentelemetry.proto.logs.v1 import logs_pb2

from summitcol.sentry import common
from summitcol.sentry.auth import Project
from summitcol.sentry.stacktrace import exception_values, in_app_flags, render

SEVERITY = {  # Sentry level → (OTLP SeverityNumber, SeverityText)
    "fatal": (logs_pb2.SEVERITY_NUMBER_FATAL, "FATAL"),
    "critical": (logs_pb2.SEVERITY_NUMBER_FATAL, "FATAL"),
    "error": (logs_pb2.SEVERITY_NUMBER_ERROR, "ERROR"),
    "warning": (logs_pb2.SEVERITY_NUMBER_WARN, "WARN"),
    "info": (logs_pb2.SEVERITY_NUMBER_INFO, "INFO"),
    "log": (logs_pb2.SEVERITY_NUMBER_INFO, "INFO"),
    "debug": (logs_pb2.SEVERITY_NUMBER_DEBUG, "DEBUG"),
}
DEFAULT_LEVEL = "error"
# what the fingerprint processor's parsers read of a trace (errors/parsers MAX_TEXT_CHARS); other
# values are cut at common.MAX_VALUE_CHARS, Relay's message length
MAX_STACKTRACE_CHARS = 256 * 1024


def message_of(event: dict[str, Any]) -> str:
    """The event's message: the formatted logentry, else its template, else `message`."""
    for container in (event.get("logentry"), event.get("message")):
        if isinstance(container, dict):
            for key in ("formatted", "message"):
                value = container.get(key)
                if isinstance(value, str) and value:
                    return value
        elif isinstance(container, str) and container:
            return container
    return ""


def event_to_log(event: dict[str, Any], event_id: str, project: Project, received_ns: int) -> logs_pb2.ResourceLogs:
    """One ResourceLogs holding the event's log record."""
    platform = event.get("platform") if isinstance(event.get("platform"), str) else ""
    chain = exception_values(event)
    raised = chain[-1] if chain else None
    attributes = common.Attributes()
    body = message_of(event)
    if raised is not None:
        exc_type = common.text(raised.get("type"))
        exc_value = common.text(raised.get("value"))
        attributes.put_text("exception.type", exc_type)
        attributes.put_text("exception.message", exc_value)
        attributes.put_text("exception.stacktrace", render(chain, platform), MAX_STACKTRACE_CHARS)
        flags = in_app_flags(chain[-1])
        if flags.strip("-"):  # the SDK's own in-app decision, which `fingerprint` applies to the parsed frames
            attributes.put_text("sentry.exception.in_app", flags)  # errors.fingerprint.SDK_IN_APP
        mechanism = raised.get("mechanism")
        if isinstance(mechanism, dict):
            attributes.put_text("sentry.exception.mechanism", mechanism.get("type"))
            if isinstance(mechanism.get("handled"), bool):
                attributes.put("sentry.exception.handled", mechanism["handled"])
        if not body:
            body = f"{exc_type}: {exc_value}" if exc_type and exc_value else exc_type or exc_value
    attributes.put_text("sentry.event_id", event_id)
    fingerprint = event.get("fingerprint")
    if isinstance(fingerprint, list) and fingerprint:
        # a JSON string, the form the fingerprint processor reads (errors.fingerprint.SDK_FINGERPRINT)
        attributes.put_text("sentry.fingerprint", orjson.dumps([common.text(part) for part in fingerprint]).decode())
    common.add_event_attributes(attributes, event)
    level = event.get("level") if isinstance(event.get("level"), str) else DEFAULT_LEVEL
    number, severity_text = SEVERITY.get(level.lower(), SEVERITY[DEFAULT_LEVEL])
    trace = (event.get("contexts") or {}).get("trace") if isinstance(event.get("contexts"), dict) else None
    trace = trace if isinstance(trace, dict) else {}
    record = logs_pb2.LogRecord(
        time_unix_nano=common.timestamp_nanos(event.get("timestamp"), received_ns),
        observed_time_unix_nano=received_ns,
        severity_number=number,
        severity_text=severity_text,
        body=AnyValue(string_value=body),
        attributes=attributes.key_values(),
        dropped_attributes_count=attributes.dropped,
        trace_id=common.hex_id(trace.get("trace_id"), 32),
        span_id=common.hex_id(trace.get("span_id"), 16),
    )
    name, version = common.scope_of(event)
    scope = logs_pb2.ScopeLogs(scope=InstrumentationScope(name=name, version=version), log_records=[record])
    return logs_pb2.ResourceLogs(resource=common.resource(event, project), scope_logs=[scope])
