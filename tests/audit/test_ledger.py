"""The audit ledger: a chain that verifies, and every way of changing it that verification must
catch (one byte of one record, a removed, a reordered, an inserted record), with appends from
several processes at once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import orjson
import pytest

from summitcol.audit import Ledger, verify


def fill(path: Path, n: int = 5) -> list[bytes]:
    ledger = Ledger(str(path))
    for i in range(n):
        ledger.append(f"user{i}", "query", "chdb http", "127.0.0.1", "ok", {"sha256": f"{i:064x}"})
    return path.read_bytes().splitlines(keepends=True)


def messages(path: Path) -> list[str]:
    return [str(p) for p in verify(str(path))[1]]


def test_an_untouched_ledger_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = fill(path)
    assert verify(str(path)) == (5, [])
    records = [orjson.loads(line) for line in lines]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["prev"] == "0" * 64 and all(b["prev"] == a["hash"] for a, b in zip(records, records[1:], strict=False))


def test_one_changed_byte_is_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = fill(path)
    lines[2] = lines[2].replace(b'"user2"', b'"user9"')
    path.write_bytes(b"".join(lines))
    assert messages(path) == ["line 3: record 3 was changed: its hash does not match its content"]


@pytest.mark.parametrize(("edit", "expected"), [
    ("remove", ["line 2: record 3 does not follow the record before it (a record was removed, inserted or moved)",
                "line 2: sequence number 3 where 2 was expected"]),
    ("swap", ["line 2: record 3 does not follow the record before it (a record was removed, inserted or moved)",
              "line 2: sequence number 3 where 2 was expected",
              "line 3: record 2 does not follow the record before it (a record was removed, inserted or moved)",
              "line 3: sequence number 2 where 4 was expected",
              "line 4: record 4 does not follow the record before it (a record was removed, inserted or moved)",
              "line 4: sequence number 4 where 3 was expected"]),
    ("garbage", ["line 3: not a ledger record (edited or truncated)"]),
])
def test_removed_moved_and_broken_records_are_found(tmp_path: Path, edit: str, expected: list[str]) -> None:
    path = tmp_path / "audit.jsonl"
    lines = fill(path)
    if edit == "remove":
        del lines[1]
    elif edit == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines[2] = lines[2][:40] + b"\n"
    path.write_bytes(b"".join(lines))
    assert messages(path) == expected


def _append_many(path: str, name: str) -> None:
    ledger = Ledger(path)
    for i in range(50):
        ledger.append(name, "auth.failure", "otlp", "10.0.0.1", "invalid_credentials", {"n": i})


def test_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(path, f"worker{i}")) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert verify(path) == (150, [])
