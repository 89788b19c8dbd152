"""perf/sentry_bench.py with tiny numbers: it runs end to end against a real collector, every
envelope is answered 200, and every accepted event and transaction is stored (else it exits 1)."""

from __future__ import annotations

import pytest

from perf.sentry_bench import main


@pytest.mark.timeout(120)
def test_the_bench_runs_and_stores_what_was_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seconds", "1", "--senders", "2", "--processes", "1"]) == 0
    rows = {row[0]: row for row in (line.split() for line in capsys.readouterr().out.splitlines()) if row}
    assert int(rows["events"][-1]) > 0 and int(rows["transactions"][-1]) > 0
