"""perf/webhook_flood_bench.py with tiny numbers: it runs end to end against a real collector, every
OTLP request succeeds, and the flood's deliveries get exactly the answers the bench expects (a good
one 200, a wrong signature 401, malformed JSON 400) — else the bench exits 1."""

from __future__ import annotations

import pytest

from perf.webhook_flood_bench import main


@pytest.mark.timeout(120)
def test_the_bench_runs_and_every_answer_is_the_expected_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seconds", "1", "--rounds", "1", "--senders", "2", "--rate", "1000", "--bad-share", "0.2"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["1"]]
    assert [row[1] for row in rows] == ["alone", "flood"]
    assert rows[0][2] == "10"  # OTLP req/s: 1,000 spans/s in requests of 100
    rejected = dict(item.split(":") for item in rows[1][6:8])
    assert set(rejected) == {"400", "401"}
    assert "flood-p99 / alone-p99: median" in out
