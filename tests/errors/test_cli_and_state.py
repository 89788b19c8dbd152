"""Group state as a user meets it: `summitcol errors list/show/merge/unmerge/resolve` against a
running collector with two workers, a merge followed by new events at once, a regression marked,
and a restart that keeps every group (no duplicates).

The grouping model is off here (`model: none`), so the two call paths of the KeyError are two
fingerprints and two groups: the merge joins them by hand.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import clickhouse_connect

from tests.errors.test_e2e_errors import LOGGED, SPANS_PER_BUG, config, send_real_exceptions
from tests.helpers import Collector, free_port, wait_for


def test_sparkline() -> None:
    from summitcol.errors_command import sparkline

    assert sparkline([0, 1, 4, 8]) == " ▁▄█"
    assert sparkline([0, 0]) == "  "


def cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "summitcol.cli", "errors", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def groups(endpoint: str) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    rows = [json.loads(line) for line in cli("list", "--endpoint", endpoint, "--format", "json").splitlines()]
    return {(row["Title"].split(":")[0], row["GroupId"]): row for row in rows}


def test_list_show_merge_unmerge_resolve_regress_restart(tmp_path: Path) -> None:
    grpc_port, ch_port = free_port(), free_port()
    endpoint = f"127.0.0.1:{ch_port}"
    text = config(tmp_path, grpc_port, ch_port, model="none", workers=2).replace(
        "grouping: {model: none}", "grouping: {model: none}\n    refresh_interval: 100ms"
    )
    per_release = 5 * SPANS_PER_BUG + LOGGED
    with Collector(tmp_path, text) as collector:
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        assert send_real_exceptions(grpc_port, "1.0.0") == per_release
        assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1") == per_release, timeout=60)
        listed = groups(endpoint)
        counts = sorted((kind, row["Count"]) for (kind, _), row in listed.items())
        # KeyError: handler path (20 spans + 10 logs) and job path (20) are two groups without the model
        assert counts == [("KeyError", 20), ("KeyError", 30), ("ValueError", 20), ("ValueError", 20), ("ZeroDivisionError", 20)]
        # every event is from the last 2 hours: the last of the 12 two-hour buckets of the trend
        assert {row["Trend"] for row in listed.values()} == {" " * 11 + "█"}
        table = cli("list", "--endpoint", endpoint)
        assert table.splitlines()[0].split()[:4] == ["GroupId", "Title", "Count", "Trend"] and "(5 rows)" in table
        key_errors = sorted((row["Count"], gid) for (kind, gid), row in listed.items() if kind == "KeyError")
        (_, job_group), (_, handler_group) = key_errors

        shown = cli("show", handler_group, "--endpoint", endpoint)
        assert shown.startswith("KeyError: 'logged-") or shown.startswith("KeyError: 'order-")
        assert "culprit: test_e2e_errors.py:lookup_order" in shown
        assert re.search(r"^  \* /\S+/tests/errors/test_e2e_errors\.py:\d+ in lookup_order$", shown, re.M), shown
        assert "1.0.0" in shown and "sample trace ids:" in shown

        # merge: the job path's group joins the handler's; new events follow it once the collector has read it
        assert "merged" in cli("merge", handler_group, job_group, "--endpoint", endpoint)
        merged = groups(endpoint)
        assert sorted((k, r["Count"]) for (k, _), r in merged.items() if k == "KeyError") == [("KeyError", 50)]
        assert wait_for(lambda: "moved by merge/unmerge" in collector.log(), timeout=30)
        send_real_exceptions(grpc_port, "1.0.0")
        assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1") == 2 * per_release, timeout=60)
        # the newest KeyError rows (this round's 40 spans and 10 logs) all carry the merged group
        new_rows = client.query(
            "SELECT GroupId, count() FROM (SELECT GroupId, Timestamp FROM otel.events_error_v1 WHERE ExceptionType = 'KeyError' "
            f"ORDER BY Timestamp DESC LIMIT {2 * SPANS_PER_BUG + LOGGED}) GROUP BY GroupId"
        ).result_rows
        assert [group for group, _ in new_rows] == [handler_group]

        assert "unmerged 1" in cli("unmerge", handler_group, "--endpoint", endpoint)
        assert sorted(r["Count"] for (k, _), r in groups(endpoint).items() if k == "KeyError") == [40, 60]

        # resolve the ZeroDivisionError in 1.0.0; the same release again is no regression, 1.1.0 is
        zero = next(gid for (kind, gid) in groups(endpoint) if kind == "ZeroDivisionError")
        assert "resolved in release '1.0.0'" in cli("resolve", zero, "--endpoint", endpoint)
        assert wait_for(lambda: "group status change(s) loaded" in collector.log(), timeout=30)
        send_real_exceptions(grpc_port, "1.0.0")
        assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1") == 3 * per_release, timeout=60)
        assert groups(endpoint)[("ZeroDivisionError", zero)]["Status"] == "resolved"
        send_real_exceptions(grpc_port, "1.1.0")
        assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1") == 4 * per_release, timeout=60)
        row = groups(endpoint)[("ZeroDivisionError", zero)]
        assert (row["Status"], row["Regressed"], row["LastRelease"]) == ("unresolved", 1, "1.1.0")
        before = sorted(groups(endpoint))
        client.close()
        assert collector.stop() == 0, collector.log()

    # a restart: the same exceptions make no new group, and no fingerprint gets a second group
    with Collector(tmp_path, text) as collector:
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        send_real_exceptions(grpc_port, "1.1.0")
        assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1") == 5 * per_release, timeout=60)
        assert sorted(groups(endpoint)) == before
        by_config = [json.loads(line) for line in cli("list", "--config", str(collector.config_path), "--format", "json").splitlines()]
        assert sorted((r["Title"].split(":")[0], r["GroupId"]) for r in by_config) == before
        assert client.command(
            "SELECT count() FROM (SELECT Fingerprint FROM otel.error_fingerprints WHERE Manual = 0 "
            "GROUP BY Fingerprint HAVING uniqExact(GroupId) > 1)"
        ) == 0
        client.close()
        assert collector.stop() == 0, collector.log()
    # no collector running: the commands open the data path
    offline = [json.loads(line) for line in cli("list", "--endpoint", "", "--path", str(tmp_path / "clickhouse"), "--format", "json").splitlines()]
    assert sorted((r["Title"].split(":")[0], r["GroupId"]) for r in offline) == before
