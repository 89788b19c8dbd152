"""Replay sampling by replay id (whole replays, the same answer everywhere) and the replay items'
rows: over 2,000 ids 100% of an internal project's replays and 10% ± 1.5% of others are kept, and
no replay is ever kept in part."""

from __future__ import annotations

import json
import uuid
import zlib

from summitcol.sentry.auth import Project
from summitcol.sentry.convert import convert_envelope
from summitcol.sentry.envelope import parse_envelope
from summitcol.sentry.replays import kept


def envelope(replay_id: str, segment: int, recording: bytes) -> bytes:
    event = json.dumps({"type": "replay_event", "replay_id": replay_id, "segment_id": segment, "replay_type": "session",
                        "timestamp": 1796417811.5, "replay_start_timestamp": 1796417800.0, "urls": ["http://127.0.0.1/shop"],
                        "trace_ids": ["d5d037f4e41d479493d7ec3b2224eb7b"], "release": "web@3", "environment": "prod",
                        "sdk": {"name": "sentry.javascript.browser", "version": "11.12.0"}}).encode()
    payload = json.dumps({"segment_id": segment}).encode() + b"\n" + recording
    return b"\n".join([json.dumps({"event_id": replay_id}).encode(), b'{"type":"replay_event"}', event,
                       json.dumps({"type": "replay_recording", "length": len(payload)}).encode(), payload])


def test_over_2000_replays_internal_keeps_all_default_keeps_ten_percent_and_never_a_part() -> None:
    ids = [uuid.uuid4().hex for _ in range(2000)]
    assert all(kept(rid, 100) for rid in ids)
    share = sum(kept(rid, 10) for rid in ids) / len(ids)
    assert 0.085 <= share <= 0.115, share
    recording = zlib.compress(b'[{"type":4,"data":{"href":"http://127.0.0.1/shop"},"timestamp":1}]')
    for rid in ids[:300]:  # three segments each, as three envelopes: all kept or all dropped
        outcomes = {convert_envelope(parse_envelope(envelope(rid, segment, recording)), Project("2", "web"), 0,
                                     replay_percentage=10).outcomes[("replay_recording", "accepted")] for segment in range(3)}
        assert outcomes == ({1} if kept(rid, 10) else {0})


def test_a_replay_becomes_its_metadata_and_its_segment_as_sent() -> None:
    rid = uuid.uuid4().hex
    recording = zlib.compress(b'[{"type":2,"data":{},"timestamp":2}]')
    converted = convert_envelope(parse_envelope(envelope(rid, 1, recording)), Project("2", "web"), 5, replay_percentage=100)
    [replay], [segment] = converted.replays, converted.segments
    assert (replay["ReplayId"], replay["SegmentId"], replay["ServiceName"], replay["Release"], replay["Urls"], replay["ReplayStart"]) == \
        (rid, 1, "web", "web@3", ["http://127.0.0.1/shop"], 1796417800_000000000)
    assert (segment["ReplayId"], segment["SegmentId"], segment["Encoding"], segment["Data"]) == (rid, 1, "zlib", recording)


def test_a_recording_without_its_segment_line_is_invalid_and_the_rest_kept() -> None:
    rid = uuid.uuid4().hex
    body = envelope(rid, 0, b"x").replace(b'"length": 19}\n{"segment_id": 0}\nx', b'"length": 13}\nnot a header!')
    converted = convert_envelope(parse_envelope(body), Project("2", "web"), 0)
    assert converted.outcomes[("replay_recording", "invalid")] == 1 and converted.outcomes[("replay_event", "accepted")] == 1
    assert converted.segments == [] and len(converted.replays) == 1
