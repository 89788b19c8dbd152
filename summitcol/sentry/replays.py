"""Session replays: `replay_event` items → rows of `replays_v1` (one per segment's metadata) and
`replay_recording` items → rows of `replay_segments_v1` (the recording segment, stored as the SDK
compressed it), and the server-side sampling that keeps or drops whole replays.

A recording payload is `{"segment_id": N}\\n` followed by the segment: rrweb events as JSON,
zlib-compressed by the JS SDK (bytes `78 …`; Relay also takes raw JSON). It is stored as sent,
with `Encoding` zlib or json, so `SELECT Data FROM otel.replay_segments_v1 FINAL WHERE ReplayId =
… ORDER BY SegmentId` gives the replay back in order (ReplacingMergeTree on the segment: an SDK's
retry does not store a segment twice).

Sampling is decided per replay id, the same way for every segment, on every worker and after a
restart: the first 8 bytes of SHA-256(replay id) as a fraction of 2^64 below the percentage. So a
replay is kept or dropped whole, never in part.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pyarrow as pa

from summitcol.pdata.tenant import TENANT_DDL
from summitcol.sentry.common import hex_id, text, timestamp_nanos

REPLAYS_TABLE, SEGMENTS_TABLE = "replays_v1", "replay_segments_v1"
Z = "CODEC(ZSTD(1))"


class ReplayError(ValueError):
    """A replay item Relay would reject (no replay id, a recording without its segment header)."""


def kept(replay_id: str, percentage: float) -> bool:
    """Whether the replay is kept at `percentage` (0-100), the same answer for each of its segments."""
    if percentage >= 100:
        return True
    if percentage <= 0:
        return False
    digest = int.from_bytes(hashlib.sha256(replay_id.encode()).digest()[:8], "big")
    return digest < int(percentage / 100 * 2**64)


def replay_id_of(payload: dict[str, Any], header_event_id: str) -> str:
    rid = hex_id(payload.get("replay_id") or payload.get("event_id") or header_event_id, 32)
    if not rid:
        raise ReplayError("a replay_event needs replay_id (32 hex digits)")
    return rid.hex()


def _strings(value: Any) -> list[str]:
    return [text(v) for v in value if v is not None] if isinstance(value, list) else []


def replay_row(payload: dict[str, Any], replay_id: str, service: str, received_ns: int) -> dict[str, Any]:
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    request = payload.get("request") if isinstance(payload.get("request"), dict) else {}
    headers = request.get("headers") if isinstance(request.get("headers"), dict) else {}
    sdk = payload.get("sdk") if isinstance(payload.get("sdk"), dict) else {}
    start = timestamp_nanos(payload.get("replay_start_timestamp"), -1)
    segment = payload.get("segment_id")
    return {
        "Timestamp": timestamp_nanos(payload.get("timestamp"), received_ns),
        "ReplayId": replay_id,
        "SegmentId": segment if isinstance(segment, int) and segment >= 0 else 0,
        "ReplayType": text(payload.get("replay_type")) or "session",
        "ReplayStart": None if start < 0 else start,
        "ServiceName": service,
        "Release": text(payload.get("release")),
        "Environment": text(payload.get("environment")),
        "Platform": text(payload.get("platform")),
        "Urls": _strings(payload.get("urls")),
        "TraceIds": _strings(payload.get("trace_ids")),
        "ErrorIds": _strings(payload.get("error_ids")),
        "UserId": text(user.get("id")),
        "UserAgent": text(headers.get("User-Agent") or headers.get("user-agent")),
        "SdkName": text(sdk.get("name")),
        "SdkVersion": text(sdk.get("version")),
    }


def segment_row(payload: bytes, replay_id: str, received_ns: int) -> dict[str, Any]:
    """A `replay_recording` item's segment; ReplayError when its header line is missing or bad."""
    end = payload.find(b"\n")
    if end < 0:
        raise ReplayError("a replay_recording starts with a {\"segment_id\": N} line")
    try:
        header = orjson.loads(payload[:end])
    except orjson.JSONDecodeError:
        header = None
    segment = header.get("segment_id") if isinstance(header, dict) else None
    if not isinstance(segment, int) or isinstance(segment, bool) or not 0 <= segment < 65536:
        raise ReplayError("a replay_recording's first line must be {\"segment_id\": N} with 0 <= N < 65536")
    data = payload[end + 1:]
    if not data:
        raise ReplayError("a replay_recording has no recording after its segment_id line")
    return {"Timestamp": received_ns, "ReplayId": replay_id, "SegmentId": segment,
            "Encoding": "zlib" if data[:1] == b"\x78" else "json", "Size": len(data), "Data": data}


# (name, ClickHouse type, Arrow type)
REPLAY_COLUMNS = (
    ("Timestamp", "DateTime64(9) CODEC(Delta(8), ZSTD(1))", pa.timestamp("ns")),
    ("ReplayId", f"String {Z}", pa.string()),
    ("SegmentId", f"UInt32 {Z}", pa.uint32()),
    ("ReplayType", f"LowCardinality(String) {Z}", pa.string()),
    ("ReplayStart", f"Nullable(DateTime64(9)) {Z}", pa.timestamp("ns")),
    ("ServiceName", f"LowCardinality(String) {Z}", pa.string()),
    ("Release", f"LowCardinality(String) {Z}", pa.string()),
    ("Environment", f"LowCardinality(String) {Z}", pa.string()),
    ("Platform", f"LowCardinality(String) {Z}", pa.string()),
    ("Urls", f"Array(String) {Z}", pa.list_(pa.string())),
    ("TraceIds", f"Array(String) {Z}", pa.list_(pa.string())),
    ("ErrorIds", f"Array(String) {Z}", pa.list_(pa.string())),
    ("UserId", f"String {Z}", pa.string()),
    ("UserAgent", f"String {Z}", pa.string()),
    ("SdkName", f"LowCardinality(String) {Z}", pa.string()),
    ("SdkVersion", f"LowCardinality(String) {Z}", pa.string()),
)
SEGMENT_COLUMNS = (
    ("Timestamp", "DateTime64(9) CODEC(Delta(8), ZSTD(1))", pa.timestamp("ns")),
    ("ReplayId", f"String {Z}", pa.string()),
    ("SegmentId", f"UInt32 {Z}", pa.uint32()),
    ("Encoding", f"LowCardinality(String) {Z}", pa.string()),
    ("Size", f"UInt32 {Z}", pa.uint32()),
    ("Data", "String CODEC(NONE)", pa.binary()),  # compressed by the SDK already
)
REPLAY_ORDER_BY = "(TenantId, ReplayId, SegmentId)"


def ddl_columns(columns: tuple[tuple[str, str, pa.DataType], ...]) -> tuple[str, ...]:
    return (TENANT_DDL, *(f"{name} {ch}" for name, ch, _ in columns))


def batch(rows: list[dict[str, Any]], columns: tuple[tuple[str, str, pa.DataType], ...]) -> pa.RecordBatch:
    schema = pa.schema([pa.field(name, arrow, nullable=ch.startswith("Nullable")) for name, ch, arrow in columns])
    return pa.RecordBatch.from_pydict({name: [row[name] for row in rows] for name, _, _ in columns}, schema=schema)
