"""Memory admission is fair between connections (issue #12 item 7): while one client keeps 24
requests in flight whose records are all rejected, a well-behaved client on its own connection
gets every request accepted, and the heavy client is the one refused (UNAVAILABLE, retryable).

The rule (memory_limiter): over the soft limit, a connection holding less than its share of the
room, (soft limit - idle RSS) / connections with requests in flight, is still admitted up to
halfway to the hard limit. Latency beside the heavy client: perf/fairness_bench.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from perf.fairness_bench import Heavy, config, well_behaved
from tests.helpers import Collector, free_port, wait_for

# RSS-bounded under load: run alone, after the parallel part of `make test` (see the Makefile)
pytestmark = pytest.mark.serial

REQUESTS = 40


def test_a_heavy_client_cannot_starve_a_well_behaved_one(tmp_path: Path) -> None:
    port = free_port()
    with Collector(tmp_path, config(port, tmp_path / "parquet", free_port())):
        assert dict(well_behaved(port, REQUESTS)[0]) == {"OK": REQUESTS}  # alone, as in the bench
        with Heavy(port, streams=24) as heavy:
            assert wait_for(lambda: heavy.outcomes["UNAVAILABLE"] > 0, timeout=60), f"never refused: {heavy.outcomes}"
            outcomes, _ = well_behaved(port, REQUESTS)
    assert dict(outcomes) == {"OK": REQUESTS}
    assert set(heavy.outcomes) <= {"OK", "UNAVAILABLE"}, heavy.outcomes

