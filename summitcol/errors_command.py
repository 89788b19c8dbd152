"""`summitcol errors …`: the issue list, one issue, merge/unmerge/resolve/ignore, train, evaluate.

Like `summitcol query`, every command that reads the store finds it from `--config FILE` (the
running collector's chdb HTTP endpoint, else its data path), `--endpoint host:port` or `--path
DIR`; the store's tables are the fingerprint processor's (summitcol/errors/schema.py). A merge or
unmerge is a manual decision row: the collector reads it within its `refresh_interval` and new
events follow it; `train --from-store` learns from it.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from summitcol import audit
from summitcol.errors import schema
from summitcol.errors.store import GroupStore
from summitcol.query import QueryFailed, Target, execute, render_table, run_query
from summitcol.sqltext import sql_string

_GROUP_ID = re.compile(r"^[0-9a-f]{16}$")
_SINCE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "SECOND", "m": "MINUTE", "h": "HOUR", "d": "DAY", "w": "WEEK"}


class QueryClient:
    """The store's SqlClient over `summitcol query`'s way of reaching the store."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def command(self, sql: str) -> None:
        execute(self.target, sql)

    def query_arrow(self, sql: str) -> pa.Table:
        raw = run_query(self.target, sql, "arrow")
        return pa.ipc.open_stream(raw).read_all() if raw else pa.table({})

    def insert(self, database: str, table: str, data: pa.Table) -> None:
        columns = ", ".join(f"`{name}`" for name in data.schema.names)
        rows = ", ".join("(" + ", ".join(_literal(v) for v in row.values()) + ")" for row in data.to_pylist())
        execute(self.target, f"INSERT INTO `{database}`.`{table}` ({columns}) VALUES {rows}")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return "'" + value.strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return sql_string(str(value))


def _group(value: str) -> str:
    if not _GROUP_ID.match(value):
        raise QueryFailed(f"{value!r} is not a group id (16 hex digits, as `summitcol errors list` shows)")
    return value


def _since(value: str) -> str:
    found = _SINCE.match(value)
    if not found:
        raise QueryFailed(f"--since {value!r}: expected a number and a unit, e.g. 30m, 24h, 7d")
    return f"INTERVAL {found.group(1)} {_UNITS[found.group(2)]}"


def print_rows(table: pa.Table, fmt: str) -> None:
    if fmt == "json":
        for row in table.to_pylist():
            sys.stdout.write(orjson.dumps(row, default=str).decode() + "\n")
    else:
        sys.stdout.write(render_table(table))


SPARK = " ▁▂▃▄▅▆▇█"
TREND_BUCKETS = 12


def sparkline(counts: list[int]) -> str:
    """Counts as block characters, scaled to the largest (a zero stays blank)."""
    top = max(counts) if counts else 0
    return "".join(SPARK[0] if not c else SPARK[max(1, round(c / top * (len(SPARK) - 1)))] for c in counts)


def _trends(client: QueryClient, db: str, groups: list[str], window: str) -> dict[str, str]:
    """Each group's events over the window (default the last 24 h) in TREND_BUCKETS buckets."""
    if not groups:
        return {}
    ids = ", ".join(_literal(g) for g in groups)
    table = client.query_arrow(
        f"WITH now() - {window} AS start, (toUnixTimestamp(now()) - toUnixTimestamp(start)) / {TREND_BUCKETS} AS width "
        f"SELECT c.GroupId AS GroupId, toUInt32(least({TREND_BUCKETS - 1}, intDiv(toUnixTimestamp(e.Timestamp) - "
        f"toUnixTimestamp(start), width))) AS Bucket, count() AS Events FROM `{db}`.`{schema.EVENTS_TABLE}` AS e "
        f"INNER JOIN ({schema.current_groups_sql(db)}) AS c ON e.Fingerprint = c.Fingerprint "
        f"WHERE c.GroupId IN ({ids}) AND e.Timestamp >= start GROUP BY GroupId, Bucket"
    )
    counts = {g: [0] * TREND_BUCKETS for g in groups}
    for row in table.to_pylist():
        counts[row["GroupId"]][row["Bucket"]] = row["Events"]
    return {g: sparkline(c) for g, c in counts.items()}


def list_groups(client: QueryClient, db: str, service: str, since: str, status: str, limit: int, fmt: str) -> None:
    window = _since(since) if since else "INTERVAL 24 HOUR"
    where = [f"LastSeen >= now() - {window}"] if since else []
    if service:
        where.append(f"ServiceName = {_literal(service)}")
    if status:
        where.append(f"Status = {_literal(status)}")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    table = client.query_arrow(
        f"SELECT GroupId, Title, Count, ServiceName AS Service, FirstSeen, LastSeen, FirstRelease, LastRelease, "
        f"Status, Regressed FROM `{db}`.`{schema.GROUPS_VIEW}` {clause} ORDER BY Count DESC, GroupId LIMIT {int(limit)}"
    )
    if table.num_rows:
        trends = _trends(client, db, table.column("GroupId").to_pylist(), window)
        table = table.add_column(3, "Trend", pa.array([trends[g] for g in table.column("GroupId").to_pylist()]))
    print_rows(table, fmt)


def show_group(client: QueryClient, db: str, group_id: str, fmt: str) -> None:
    group_id = _group(group_id)
    members = (f"Fingerprint IN (SELECT Fingerprint FROM ({schema.current_groups_sql(db)}) "
               f"WHERE GroupId = '{group_id}')")
    summary = client.query_arrow(f"SELECT * FROM `{db}`.`{schema.GROUPS_VIEW}` WHERE GroupId = '{group_id}'")
    if not summary.num_rows:
        raise QueryFailed(f"no group {group_id} (summitcol errors list shows the groups)")
    events = f"`{db}`.`{schema.EVENTS_TABLE}`"
    latest = client.query_arrow(
        f"SELECT Stacktrace, Frames.Module AS Modules, Frames.Function AS Functions, Frames.File AS Files, "
        f"Frames.Line AS Lines, Frames.InApp AS InApp FROM {events} WHERE {members} ORDER BY Timestamp DESC LIMIT 1"
    ).to_pylist()[0]
    releases = client.query_arrow(
        f"SELECT ServiceVersion AS Release, count() AS Count, min(Timestamp) AS FirstSeen FROM {events} "
        f"WHERE {members} GROUP BY Release ORDER BY FirstSeen")
    days = client.query_arrow(
        f"SELECT toDate(Timestamp) AS Day, count() AS Count FROM {events} WHERE {members} GROUP BY Day ORDER BY Day")
    traces = client.query_arrow(
        f"SELECT DISTINCT TraceId, max(Timestamp) AS Seen FROM {events} WHERE {members} AND TraceId != '' "
        f"GROUP BY TraceId ORDER BY Seen DESC LIMIT 5")
    info = summary.to_pylist()[0]
    frames = [
        {"in_app": bool(a), "module": m, "function": f, "file": fi, "line": li}
        for m, f, fi, li, a in zip(latest["Modules"], latest["Functions"], latest["Files"], latest["Lines"],
                                   latest["InApp"], strict=True)
    ]
    if fmt == "json":
        out = {**info, "frames": frames, "releases": releases.to_pylist(), "days": days.to_pylist(),
               "trace_ids": traces.column("TraceId").to_pylist()}
        sys.stdout.write(orjson.dumps(out, default=str).decode() + "\n")
        return
    w = sys.stdout.write
    w(f"{info['Title']}\n")
    w(f"group {group_id} · {info['Status']}{' · regressed' if info['Regressed'] else ''} · {info['Count']} events · "
      f"{info['Fingerprints']} fingerprint(s)\n")
    w(f"culprit: {info['Culprit']}\nfirst seen {info['FirstSeen']} in {info['FirstRelease'] or '-'}, "
      f"last seen {info['LastSeen']} in {info['LastRelease'] or '-'}\n\n")
    w("stack trace (most recent call last; * = in-app):\n")
    for frame in frames:
        where = frame["module"] or frame["file"]
        w(f"  {'*' if frame['in_app'] else ' '} {where}:{frame['line']} in {frame['function'] or '?'}\n")
    w("\nper release:\n" + render_table(releases) + "\nper day:\n" + render_table(days))
    w("\nsample trace ids:\n" + "".join(f"  {t}\n" for t in traces.column("TraceId").to_pylist()))


def run(args: Any, target: Target) -> int:  # noqa: ANN401 - argparse namespace
    client = QueryClient(target)
    store = GroupStore(client, args.database)
    try:
        if args.action == "list":
            list_groups(client, args.database, args.service, args.since, args.status, args.limit, args.format)
        elif args.action == "show":
            show_group(client, args.database, args.group, args.format)
        elif args.action == "merge":
            moved = store.merge(_group(args.target), _group(args.source))
            if not moved:
                raise QueryFailed(f"group {args.source} has no fingerprints to merge")
            audit.record(audit.current_user(), "errors.merge", f"{args.source} -> {args.target}", "cli", "ok", {"moved": moved})
            print(f"merged {args.source} into {args.target} ({moved} fingerprint(s)); new events follow within the "
                  "collector's refresh_interval")
        elif args.action == "unmerge":
            moved = store.unmerge(_group(args.group), args.fingerprint or None)
            audit.record(audit.current_user(), "errors.unmerge", args.group, "cli", "ok", {"moved": moved})
            print(f"unmerged {moved} fingerprint(s) from {args.group} into groups of their own")
        elif args.action in ("resolve", "ignore", "unresolve"):
            status = {"resolve": "resolved", "ignore": "ignored", "unresolve": "unresolved"}[args.action]
            group = _group(args.group)
            release = args.release or _last_release(client, args.database, group)
            store.set_status(group, status, release=release)
            audit.record(audit.current_user(), f"errors.{args.action}", group, "cli", "ok", {"release": release})
            suffix = f" in release {release!r}: a later release that raises it again marks it regressed" if status == "resolved" else ""
            print(f"group {group} is {status}{suffix}")
    except QueryFailed as exc:
        print(f"summitcol errors {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


def _last_release(client: QueryClient, db: str, group_id: str) -> str:
    table = client.query_arrow(f"SELECT LastRelease FROM `{db}`.`{schema.GROUPS_VIEW}` WHERE GroupId = '{group_id}'")
    if not table.num_rows:
        raise QueryFailed(f"no group {group_id} (summitcol errors list shows the groups)")
    return str(table.column(0)[0].as_py())


def store_pairs(store: GroupStore) -> tuple[Any, Any]:
    """Training rows from the store's manual decisions: a merged fingerprint and the founder of the
    group it joined are the same bug; an unmerged one and the founder of the group it left are not."""
    import numpy as np

    from summitcol.errors.features import FEATURE_NAMES, Profile, features
    from summitcol.errors.store import group_id_for

    rows = store.decisions().to_pylist()
    profiles = {
        row["Fingerprint"]: Profile(row["Fingerprint"], row["Language"], row["ServiceName"], row["ExceptionType"],
                                    row["MessageTemplate"], row["Culprit"], tuple(row["Signature"]))
        for row in rows if not row["Manual"]
    }
    founders = {group_id_for(fp): profile for fp, profile in profiles.items()}
    group_before: dict[str, str] = {}
    out_rows, labels = [], []
    for row in rows:
        fp, group = row["Fingerprint"], row["GroupId"]
        if row["Manual"] and fp in profiles:
            other = founders.get(group if row["Source"] == "merge" else group_before.get(fp, ""))
            if other is not None and other.fingerprint != fp:
                out_rows.append(features(profiles[fp], other))
                labels.append(1 if row["Source"] == "merge" else 0)
        group_before[fp] = group
    return np.array(out_rows, dtype=np.float32).reshape(-1, len(FEATURE_NAMES)), np.array(labels, dtype=np.float32)


def learn(args: Any, target: Any) -> int:  # noqa: ANN401 - argparse namespace, a Target factory
    from summitcol.errors import evaluate as ev
    from summitcol.errors.model import PairModel, builtin_model_path

    corpus = args.corpus
    try:
        items = ev.label(ev.load_corpus(corpus))
    except (OSError, ValueError, KeyError) as exc:
        print(f"summitcol errors {args.action}: cannot read the corpus {corpus}: {exc}", file=sys.stderr)
        return 1
    wanted = "test" if args.action == "train" else args.split  # after training: the split it did not see
    held_out = [item for item in items if wanted == "all" or item.split == wanted]
    if args.action == "train":
        extra = None
        if args.from_store:
            where = target()
            if where is None:
                return 1
            try:
                extra = store_pairs(GroupStore(QueryClient(where), args.database))
            except QueryFailed as exc:
                print(f"summitcol errors train: {exc}", file=sys.stderr)
                return 1
            print(f"{len(extra[1])} label(s) from the store's merges and unmerges", file=sys.stderr)
        training = [item for item in items if item.split == "train"]
        print(f"training on {len(training)} events of {len({i.group for i in training})} groups …", file=sys.stderr)
        model = ev.train(training, extra)
        out = args.out or str(builtin_model_path())
        model.save(out)
        print(f"model written to {out}")
    else:
        model = PairModel.load(args.model or None)
    if not held_out:
        print(f"(no events in the {'test' if args.action == 'train' else args.split} split to evaluate)")
        return 0
    print(ev.report("fingerprint only", ev.evaluate(held_out, None)))
    print(ev.report("model " + ("(new)" if args.action == "train" else "v0.1"), ev.evaluate(held_out, model)))
    return 0
