"""perf/tenant_limits_bench.py with tiny numbers: it runs end to end against a real collector, the
quiet tenant gets no error, and the noisy tenant is answered 200 up to its limit and 429 past it
(the bench exits 1 on anything else)."""

from __future__ import annotations

import pytest

from perf.tenant_limits_bench import main


@pytest.mark.timeout(120)
def test_the_bench_runs_and_the_noisy_tenant_is_refused_past_its_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seconds", "2", "--rounds", "1", "--quiet-rate", "500", "--limit", "500", "--over", "4"]) == 0
    out = capsys.readouterr().out
    rows = {row[1]: row for row in (line.split() for line in out.splitlines()) if row[:1] == ["1"]}
    assert list(rows) == ["alone", "at-limit", "over"]
    assert rows["alone"][4:6] == ["-", "-"]
    assert rows["at-limit"][5] == "0"  # 5 requests/s at its limit: none refused
    assert 10 <= float(rows["over"][5]) <= 16  # 20 requests/s against 5/s allowed (plus one burst in 2 s)
    assert "quiet p99, over / at-limit: median" in out
