"""Streamed spans (span v2 containers): ids, times, status, typed attributes and kind from
`sentry.op`; an invalid span is dropped alone and said why."""

from __future__ import annotations

from summitcol.sentry.auth import Project
from summitcol.sentry.spans import streamed_spans

ROOT = {"name": "GET /x", "span_id": "94a637377c2de7a4", "trace_id": "d5d037f4e41d479493d7ec3b2224eb7b", "is_segment": True,
        "start_timestamp": 1796417811.5, "end_timestamp": 1796417812.0, "status": "ok",
        "attributes": {"sentry.op": {"value": "http.server", "type": "string"}, "sentry.release": {"value": "web@3", "type": "string"},
                       "http.response.status_code": {"value": 200, "type": "integer"}}}
CHILD = {"name": "SELECT 1", "span_id": "b1b9cfc76274c6d8", "trace_id": "d5d037f4e41d479493d7ec3b2224eb7b",
         "parent_span_id": "94a637377c2de7a4", "start_timestamp": 1796417811.6, "end_timestamp": 1796417811.7, "status": "error",
         "attributes": {"sentry.op": {"value": "db.query", "type": "string"}}}


def test_streamed_spans_become_otlp_spans_and_a_bad_one_is_dropped_alone() -> None:
    bad = {**CHILD, "span_id": "nothex", "name": "bad"}
    backwards = {**CHILD, "span_id": "00000000000000aa", "end_timestamp": 1.0}
    resource_spans, problems = streamed_spans({"version": 2, "items": [CHILD, ROOT, bad, backwards, 7]},
                                              {"trace": {"environment": "prod"}, "sdk": {"name": "sentry.javascript.node", "version": "11"}},
                                              Project("1", "web"))
    spans = resource_spans.scope_spans[0].spans
    assert [(s.name, s.kind, s.status.code, s.parent_span_id.hex()) for s in spans] == [
        ("SELECT 1", 3, 2, "94a637377c2de7a4"), ("GET /x", 2, 1, "")]  # CLIENT Error, SERVER Ok
    assert spans[1].start_time_unix_nano == 1796417811_500000000 and spans[1].end_time_unix_nano == 1796417812_000000000
    assert {kv.key: kv.value.int_value for kv in spans[1].attributes if kv.key == "http.response.status_code"} == \
        {"http.response.status_code": 200}
    resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
    assert (resource["service.version"], resource["deployment.environment.name"], resource["telemetry.sdk.name"]) == \
        ("web@3", "prod", "sentry.javascript.node")
    assert problems == ["span 2: a streamed span needs trace_id (32 hex digits) and span_id (16 hex digits)",
                        "span 3: a streamed span needs start_timestamp and end_timestamp, in that order",
                        "span 4 is not an object"]
