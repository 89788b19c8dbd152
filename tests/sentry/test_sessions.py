"""Session updates, aggregates and client reports as counts (summitcol.sentry.sessions), and an
envelope mixing them with an event and an invalid session (dropped, counted, the rest kept)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from summitcol.sentry.auth import Project
from summitcol.sentry.convert import convert_envelope
from summitcol.sentry.envelope import parse_envelope
from summitcol.sentry.sessions import SessionError, aggregate_counts, discarded, session_counts

ATTRS = {"release": "app@1", "environment": "prod"}


@pytest.mark.parametrize(("update", "counts"), [
    ({"init": True, "status": "ok"}, {"started": 1}),
    ({"init": True, "status": "exited", "errors": 0}, {"started": 1, "healthy": 1}),
    ({"status": "exited", "errors": 2}, {"errored": 1}),
    ({"status": "crashed", "errors": 1}, {"crashed": 1}),
    ({"status": "abnormal"}, {"abnormal": 1}),
    ({"status": "ok", "errors": 3}, {}),  # not ended yet: counted when it ends
])
def test_a_session_update_counts_its_start_and_its_end(update: dict, counts: dict) -> None:  # type: ignore[type-arg]
    assert session_counts({"sid": "s", "started": "2026-12-04T10:00:00Z", "attrs": ATTRS, **update}) == Counter(counts)


def test_aggregates_count_every_bucket_as_started_and_ended() -> None:
    payload = {"aggregates": [{"started": "2026-12-04T10:00:00Z", "exited": 5, "errored": 2},
                              {"started": "2026-12-04T10:01:00Z", "crashed": 1, "abnormal": 1, "exited": 0}], "attrs": ATTRS}
    assert aggregate_counts(payload) == Counter({"started": 9, "healthy": 5, "errored": 2, "crashed": 1, "abnormal": 1})


def test_sessions_without_release_or_start_are_refused() -> None:
    with pytest.raises(SessionError):
        session_counts({"started": "2026-12-04T10:00:00Z", "init": True, "attrs": {}})
    with pytest.raises(SessionError):
        session_counts({"init": True, "attrs": ATTRS})


def test_client_reports_sum_by_reason_and_category() -> None:
    report = {"discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3},
                                   {"reason": "queue_overflow", "category": "error", "quantity": 2},
                                   {"reason": "sample_rate", "category": "transaction", "quantity": 7},
                                   {"reason": "x", "category": "y", "quantity": -1}]}
    assert discarded(report) == Counter({("queue_overflow", "error"): 5, ("sample_rate", "transaction"): 7})


def test_an_envelope_with_an_invalid_session_keeps_the_rest() -> None:
    def item(kind: str, payload: dict) -> bytes:  # type: ignore[type-arg]
        body = json.dumps(payload).encode()
        return json.dumps({"type": kind, "length": len(body)}).encode() + b"\n" + body

    raw = b"\n".join([b"{}",
                      item("event", {"event_id": "a" * 32, "message": "boom", "level": "error"}),
                      item("session", {"sid": "1", "init": True, "started": "2026-12-04T10:00:00Z", "attrs": ATTRS}),
                      item("session", {"sid": "2", "init": True, "started": "2026-12-04T10:00:00Z"}),
                      item("client_report", {"discarded_events": [{"reason": "ratelimit_backoff", "category": "error", "quantity": 4}]})])
    converted = convert_envelope(parse_envelope(raw), Project("1", "shop"), 0)
    assert converted.outcomes == Counter({("event", "accepted"): 1, ("session", "accepted"): 1, ("session", "invalid"): 1,
                                          ("client_report", "accepted"): 1})
    assert len(converted.logs.resource_logs) == 1 and len(converted.metrics.resource_metrics) == 1
    assert converted.discarded == Counter({("ratelimit_backoff", "error"): 4})
    assert any("attrs.release is required" in problem for problem in converted.problems)
