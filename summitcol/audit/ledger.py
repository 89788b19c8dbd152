"""A JSON-lines file where each record carries the SHA-256 of the one before it and its own:
editing a byte of a record breaks its hash, removing or reordering records breaks the chain and
the sequence numbers. Several processes (the collector's workers, a `summitcol errors` command)
append to one file under an exclusive lock, each reading the chain's head first.

`record()` writes to the ledger the process installed (the `audit` extension does at start) and
does nothing when there is none, so code that audits does not need to know whether auditing is on.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger("summitcol.audit")

GENESIS = "0" * 64
FIELDS = ("seq", "time", "actor", "action", "target", "source", "outcome", "details", "prev")
TAIL_READ = 64 * 1024  # a record is far smaller; the last line is found within this


def _digest(fields: dict[str, Any]) -> str:
    canonical = orjson.dumps({k: fields[k] for k in FIELDS}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _last_line(handle: Any) -> bytes:  # noqa: ANN401 - a binary file
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return b""
    handle.seek(max(0, size - TAIL_READ))
    lines = handle.read().rstrip(b"\n").rsplit(b"\n", 1)
    return lines[-1]


class Ledger:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)

    def append(self, actor: str, action: str, target: str = "", source: str = "", outcome: str = "ok",
               details: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append one record (blocking: a lock, a short read, a write); returns it."""
        with self._lock, open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                last = _last_line(handle)
                head = orjson.loads(last) if last else None
                fields = {
                    "seq": head["seq"] + 1 if head else 1,
                    "time": time.time_ns(),
                    "actor": actor, "action": action, "target": target, "source": source, "outcome": outcome,
                    "details": details or {},
                    "prev": head["hash"] if head else GENESIS,
                }
                fields["hash"] = _digest(fields)
                handle.seek(0, os.SEEK_END)
                handle.write(orjson.dumps(fields) + b"\n")
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return fields


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _records(path: str) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            yield number, line.rstrip(b"\n")


def verify(path: str) -> tuple[int, list[Problem]]:
    """(records read, problems): every record's hash, its link to the one before, and the
    sequence without gaps or repeats. A ledger cut short at its end verifies as a shorter ledger:
    compare the count and head with a copy kept elsewhere (the ClickHouse table) to see that."""
    problems: list[Problem] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for number, line in _records(path):
        count += 1
        try:
            fields = orjson.loads(line)
            recorded = fields["hash"]
            missing = [k for k in FIELDS if k not in fields]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            problems.append(Problem(number, "not a ledger record (edited or truncated)"))
            prev, expected_seq = "", expected_seq + 1
            continue
        if missing:
            problems.append(Problem(number, f"record lacks {', '.join(missing)}"))
            continue
        if _digest(fields) != recorded:
            problems.append(Problem(number, f"record {fields['seq']} was changed: its hash does not match its content"))
        if fields["prev"] != prev and prev:
            problems.append(Problem(number, f"record {fields['seq']} does not follow the record before it "
                                            "(a record was removed, inserted or moved)"))
        if fields["seq"] != expected_seq:
            problems.append(Problem(number, f"sequence number {fields['seq']} where {expected_seq} was expected"))
        prev, expected_seq = recorded, fields["seq"] + 1 if isinstance(fields["seq"], int) else expected_seq + 1
    return count, problems


def current_user() -> str:
    """The OS user running this process (the uid when it has no name, as in some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def hashes(path: str) -> dict[int, str]:
    """seq → hash of every readable record in the file."""
    out = {}
    for _, line in _records(path):
        try:
            fields = orjson.loads(line)
            out[int(fields["seq"])] = str(fields["hash"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return out


_installed: Ledger | None = None


def install(ledger: Ledger | None) -> None:
    global _installed
    _installed = ledger


def installed() -> Ledger | None:
    return _installed


def record(actor: str, action: str, target: str = "", source: str = "", outcome: str = "ok",
           details: dict[str, Any] | None = None) -> None:
    """Append to the installed ledger, if any. A ledger that cannot be written is logged, never
    raised: auditing must not take ingestion down (the log line says what was not recorded)."""
    ledger = _installed
    if ledger is None:
        return
    try:
        ledger.append(actor, action, target, source, outcome, details)
    except OSError as exc:
        log.error("audit: cannot append to %s (%s): %s %s by %s not recorded", ledger.path, exc.strerror, action, target, actor)
