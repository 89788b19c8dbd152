"""Error and message events → one OTLP log record: body, severity, exception.*, ids, and the
documented attribute names for tags, contexts, user, request and extra."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from summitcol.sentry.auth import Project
from summitcol.sentry.common import timestamp_nanos
from summitcol.sentry.events import event_to_log

PROJECT = Project("42", "shop")
RECEIVED = 1_764_756_000_000_000_000


def plain(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: plain(kv.value) for kv in key_values}


def test_an_exception_event_with_everything() -> None:
    event = {
        "event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "timestamp": 1764756001.5, "platform": "python", "level": "fatal",
        "release": "shop@1.0", "environment": "production", "server_name": "web-1", "logger": "app.views",
        "transaction": "/checkout", "fingerprint": ["{{ default }}", "db"],
        "exception": {"values": [{"type": "OperationalError", "value": "db down", "module": "psycopg.errors",
                                  "mechanism": {"type": "django", "handled": False},
                                  "stacktrace": {"frames": [{"abs_path": "/srv/db.py", "function": "connect", "lineno": 3}]}}]},
        "tags": [["region", "eu"], ["shard", "7"]],
        "contexts": {"trace": {"trace_id": "771a43a4192642f0b136d5159a501700", "span_id": "a8a2f4c0b2c94c2e", "op": "http.server"},
                     "runtime": {"name": "CPython", "version": "3.11.7"}, "app": {"memory": {"rss": 10}}},
        "user": {"id": "7", "email": "a@example.com", "username": "ann", "ip_address": "10.0.0.1", "segment": "pro"},
        "request": {"url": "https://shop.example/checkout", "method": "POST", "query_string": "a=1",
                    "headers": {"User-Agent": "curl/8", "X-Request-Id": "r-1"}, "data": {"card": "4111"}, "cookies": "sid=1"},
        "extra": {"attempt": 3, "flags": ["a", "b"]},
        "sdk": {"name": "sentry.python.django", "version": "2.75.0"},
    }
    logs = event_to_log(event, "9ec79c33ec9942ab8353589fcb2e04dc", PROJECT, RECEIVED)
    [scope] = logs.scope_logs
    [record] = scope.log_records
    assert (scope.scope.name, scope.scope.version) == ("sentry.python.django", "2.75.0")
    assert attributes(logs.resource.attributes) == {
        "service.name": "shop", "service.version": "shop@1.0", "deployment.environment.name": "production",
        "telemetry.sdk.language": "python", "telemetry.sdk.name": "sentry.python.django", "telemetry.sdk.version": "2.75.0",
        "sentry.project_id": "42"}
    assert (record.time_unix_nano, record.observed_time_unix_nano) == (1_764_756_001_500_000_000, RECEIVED)
    assert (record.severity_number, record.severity_text, record.body.string_value) == (21, "FATAL", "OperationalError: db down")
    assert (record.trace_id.hex(), record.span_id.hex()) == ("771a43a4192642f0b136d5159a501700", "a8a2f4c0b2c94c2e")
    assert attributes(record.attributes) == {
        "exception.type": "OperationalError",
        "exception.message": "db down",
        "exception.stacktrace": 'Traceback (most recent call last):\n  File "/srv/db.py", line 3, in connect\n'
                                "psycopg.errors.OperationalError: db down\n",
        "sentry.exception.mechanism": "django",
        "sentry.exception.handled": False,
        "sentry.event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
        "sentry.fingerprint": '["{{ default }}","db"]',
        "sentry.logger": "app.views", "sentry.transaction": "/checkout", "sentry.server_name": "web-1", "sentry.platform": "python",
        "sentry.tag.region": "eu", "sentry.tag.shard": "7",
        "sentry.context.trace.op": "http.server",
        "sentry.context.runtime.name": "CPython", "sentry.context.runtime.version": "3.11.7",
        "sentry.context.app.memory": '{"rss":10}',
        "user.id": "7", "user.email": "a@example.com", "user.name": "ann", "client.address": "10.0.0.1", "sentry.user.segment": "pro",
        "url.full": "https://shop.example/checkout", "http.request.method": "POST", "url.query": "a=1",
        "http.request.header.user-agent": "curl/8", "http.request.header.x-request-id": "r-1",
        "sentry.request.data": '{"card":"4111"}', "sentry.request.cookies": "sid=1",
        "sentry.extra.attempt": 3, "sentry.extra.flags": ["a", "b"],
    }


def test_a_message_event_and_the_defaults() -> None:
    record = event_to_log({"message": "plain text", "contexts": {"trace": {"trace_id": "nothex"}}}, "e" * 32, PROJECT,
                          RECEIVED).scope_logs[0].log_records[0]
    assert (record.body.string_value, record.severity_text, record.time_unix_nano, record.trace_id) == ("plain text", "ERROR", RECEIVED, b"")
    assert attributes(record.attributes) == {"sentry.event_id": "e" * 32}
    logentry = {"logentry": {"message": "user %s failed", "params": ["x"]}, "level": "info"}
    record = event_to_log(logentry, "e" * 32, PROJECT, RECEIVED).scope_logs[0].log_records[0]
    assert (record.body.string_value, record.severity_number) == ("user %s failed", 9)


def test_timestamps_as_sentry_sends_them() -> None:
    assert timestamp_nanos("2025-12-03T10:00:00.250000Z", 0) == 1_764_756_000_250_000_000
    assert timestamp_nanos("2025-12-03T10:00:00", 0) == 1_764_756_000_000_000_000  # naive: UTC
    assert timestamp_nanos("2025-12-03T12:00:00+02:00", 0) == 1_764_756_000_000_000_000
    assert timestamp_nanos(1764756000.25, 0) == 1_764_756_000_250_000_000
    assert [timestamp_nanos(v, -1) for v in (None, "yesterday", True, {})] == [-1, -1, -1, -1]


def test_a_store_transaction_becomes_spans_and_the_answer_keeps_its_id() -> None:
    from summitcol.sentry.convert import convert_store

    store = {"type": "transaction", "event_id": "AB" * 16, "transaction": "GET /", "start_timestamp": 1.0, "timestamp": 2.0,
             "contexts": {"trace": {"trace_id": "1" * 32, "span_id": "2" * 16}}}
    converted = convert_store(store, PROJECT, RECEIVED)
    assert (converted.event_id, len(converted.traces.resource_spans), len(converted.logs.resource_logs)) == ("ab" * 16, 1, 0)
    assert dict(converted.outcomes) == {("transaction", "accepted"): 1}


def test_an_event_with_2000_tags_keeps_its_exception_and_the_first_tags() -> None:
    event = {"exception": {"values": [{"type": "E", "value": "v"}]}, "tags": {f"t{i}": str(i) for i in range(2000)}}
    record = event_to_log(event, "e" * 32, PROJECT, RECEIVED).scope_logs[0].log_records[0]
    kept = attributes(record.attributes)
    assert (len(kept), record.dropped_attributes_count) == (1024, 2000 + 4 - 1024)
    assert kept["exception.type"] == "E" and kept["sentry.tag.t0"] == "0" and "sentry.tag.t1999" not in kept


def test_a_long_traceback_is_kept_whole() -> None:
    frames = [{"abs_path": f"/srv/app/m{i}.py", "function": f"f{i}", "lineno": i, "context_line": "x = " + "y" * 80} for i in range(200)]
    event = {"platform": "python", "exception": {"values": [{"type": "E", "value": "v", "stacktrace": {"frames": frames}}]}}
    text = attributes(event_to_log(event, "e" * 32, PROJECT, RECEIVED).scope_logs[0].log_records[0].attributes)["exception.stacktrace"]
    assert len(text) > 20000 and text.endswith("E: v\n") and text.count('  File "/srv/app/m') == 200
