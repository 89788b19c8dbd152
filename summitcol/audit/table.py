"""The ledger's copy in ClickHouse (`otel.audit_v1`): the same records, one row each, so they can
be queried beside the data, and a second place the chain's head lives (a ledger file cut short
at its end no longer matches the table's last record)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import pyarrow as pa

TABLE = "audit_v1"
SCHEMA = pa.schema([
    ("Seq", pa.uint64()), ("Timestamp", pa.timestamp("ns")), ("Actor", pa.string()), ("Action", pa.string()),
    ("Target", pa.string()), ("Source", pa.string()), ("Outcome", pa.string()), ("Details", pa.string()),
    ("Prev", pa.string()), ("Hash", pa.string()),
])


def ddl(database: str) -> str:
    """ReplacingMergeTree on Seq: the copier re-sending a record after a restart does not double it."""
    return (
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{TABLE}` (Seq UInt64, Timestamp DateTime64(9), "
        "Actor String, Action LowCardinality(String), Target String, Source String, Outcome LowCardinality(String), "
        "Details String, Prev String, Hash String) ENGINE = ReplacingMergeTree ORDER BY Seq"
    )


def rows(records: Iterable[dict[str, Any]]) -> pa.Table:
    records = list(records)
    return pa.table({
        "Seq": [r["seq"] for r in records], "Timestamp": [r["time"] for r in records],
        "Actor": [r["actor"] for r in records], "Action": [r["action"] for r in records],
        "Target": [r["target"] for r in records], "Source": [r["source"] for r in records],
        "Outcome": [r["outcome"] for r in records],
        "Details": [orjson.dumps(r["details"], option=orjson.OPT_SORT_KEYS).decode() for r in records],
        "Prev": [r["prev"] for r in records], "Hash": [r["hash"] for r in records],
    }, schema=SCHEMA)


class Tail:
    """Complete records appended to the ledger file since the last call (a partly written last
    line waits for the next call)."""

    def __init__(self, path: str, after_seq: int = 0) -> None:
        self.path = path
        self.offset = 0
        self.after_seq = after_seq

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        out = []
        for line in complete.splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # verify reports it; the table keeps what is readable
            if isinstance(record, dict) and record.get("seq", 0) > self.after_seq:
                out.append(record)
        return out
