"""Transactions → a local root span and its children; Relay's validity rules."""

from __future__ import annotations

from typing import Any

import pytest

from summitcol.sentry.auth import Project
from summitcol.sentry.transactions import InvalidTransaction, transaction_to_spans
from tests.sentry.test_events import attributes

PROJECT = Project("42", "shop")
TRACE, ROOT, CHILD = "771a43a4192642f0b136d5159a501700", "a8a2f4c0b2c94c2e", "b1b2b3b4b5b6b7b8"


def transaction(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "transaction", "transaction": "/checkout/{id}", "transaction_info": {"source": "route"},
        "start_timestamp": 1764756000.0, "timestamp": "2025-12-03T10:00:01.000000Z", "release": "shop@1.0",
        "contexts": {"trace": {"trace_id": TRACE, "span_id": ROOT, "parent_span_id": "0102030405060708", "op": "http.server",
                               "status": "ok", "origin": "auto.http.django", "data": {"http.response.status_code": 200}},
                     "browser": {"name": "Chrome"}},
        "tags": {"region": "eu"},
        "measurements": {"lcp": {"value": 1234.5, "unit": "millisecond"}, "cls": {"value": 0.1}},
        "spans": [{"span_id": CHILD, "parent_span_id": ROOT, "trace_id": TRACE, "op": "db.query", "description": "SELECT 1",
                   "start_timestamp": 1764756000.25, "timestamp": 1764756000.5, "status": "deadline_exceeded",
                   "data": {"db.system": "postgresql", "db.rows": 1}, "tags": {"shard": "3"}}],
        **overrides,
    }


def test_the_root_and_a_child() -> None:
    spans = transaction_to_spans(transaction(), "e" * 32, PROJECT)
    root, child = spans.scope_spans[0].spans
    assert (root.name, root.trace_id.hex(), root.span_id.hex(), root.parent_span_id.hex(), root.kind) == (
        "/checkout/{id}", TRACE, ROOT, "0102030405060708", 2)
    assert (root.start_time_unix_nano, root.end_time_unix_nano, root.status.code) == (1_764_756_000_000_000_000, 1_764_756_001_000_000_000, 1)
    assert attributes(root.attributes) == {
        "http.response.status_code": 200, "sentry.op": "http.server", "sentry.origin": "auto.http.django", "sentry.status": "ok",
        "sentry.tag.region": "eu", "sentry.measurement.lcp": 1234.5, "sentry.measurement.lcp.unit": "millisecond",
        "sentry.measurement.cls": 0.1, "sentry.transaction.source": "route", "sentry.event_id": "e" * 32,
        "sentry.context.browser.name": "Chrome"}
    assert (child.name, child.span_id.hex(), child.parent_span_id.hex(), child.kind, child.status.code, child.status.message) == (
        "SELECT 1", CHILD, ROOT, 3, 2, "deadline_exceeded")
    assert attributes(child.attributes) == {"db.system": "postgresql", "db.rows": 1, "sentry.op": "db.query",
                                            "sentry.status": "deadline_exceeded", "sentry.tag.shard": "3", "sentry.description": "SELECT 1"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"contexts": {"trace": {"span_id": ROOT}}}, "the transaction's contexts.trace has no valid trace_id (32 hex digits)"),
        ({"contexts": {"trace": {"trace_id": TRACE, "span_id": "xyz"}}}, "the transaction's contexts.trace has no valid span_id (16 hex digits)"),
        ({"start_timestamp": None}, "the transaction needs both start_timestamp and timestamp"),
        ({"start_timestamp": 1764756002.0}, "the transaction ends (timestamp) before it starts (start_timestamp)"),
        ({"spans": [{"span_id": CHILD, "start_timestamp": 2.0}]}, "spans[0] needs both start_timestamp and timestamp"),
        ({"spans": ["x"]}, "spans[0] is not a JSON object"),
    ],
)
def test_what_relay_drops(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTransaction) as error:
        transaction_to_spans(transaction(**overrides), "e" * 32, PROJECT)
    assert str(error.value) == message
