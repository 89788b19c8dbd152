"""perf/runaway_query_bench.py with tiny numbers: it runs end to end against a real collector,
every OTLP request succeeds, and every runaway query is stopped by a limit (else it exits 1)."""

from __future__ import annotations

import pytest

from perf.runaway_query_bench import main


@pytest.mark.timeout(120)
def test_the_bench_runs_and_runaway_queries_are_stopped_by_their_limits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seconds", "2", "--rounds", "1", "--rate", "500", "--max-execution-time", "0.5"]) == 0
    out = capsys.readouterr().out
    rows = {row[1]: row for row in (line.split() for line in out.splitlines()) if row[:1] == ["1"]}
    assert list(rows) == ["alone", "runaway"]
    assert int(rows["runaway"][4]) >= 2  # 2 s of back-to-back queries, each stopped after 0.5 s
    assert "runaway-p99 / alone-p99: median" in out
