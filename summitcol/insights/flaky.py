"""The flaky test radar.

A test (repository, suite, class, name) is flaky when, within the window (default 14 days), it
both passed and failed on the same commit, re-run attempts included (Google's and Harness's
definition); it stops being flaky once its last `clear_after` executions (default 5, Harness's)
have passed since its last failure. An error counts as a failure; skips do not count.

For each flaky test: executions, failures, the flake rate (failures / executions), the impact
(distinct pipeline runs it failed), the commits it flaked on, and the flip rate (result changes
between consecutive executions / (executions - 1), flakiness.io's): a test failing in a block
after a change flips once, an alternating one often. Ranked by flake rate, then impact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from summitcol.sqltext import sql_string

DEFAULT_WINDOW_DAYS = 14
DEFAULT_CLEAR_AFTER = 5


@dataclass(frozen=True, slots=True)
class RadarQuery:
    database: str = "otel"
    window_days: int = DEFAULT_WINDOW_DAYS
    clear_after: int = DEFAULT_CLEAR_AFTER
    limit: int = 50
    now: datetime | None = None  # the end of the window (tests and the daily job pass theirs)
    repository: str = ""

    def sql(self) -> str:
        """One SELECT, ranked, with the columns the module docstring names."""
        end = f"toDateTime64('{self.now:%Y-%m-%d %H:%M:%S.%f}', 9, 'UTC')" if self.now else "now64(9)"
        repo = f" AND Repository = {sql_string(self.repository)}" if self.repository else ""
        table = f"`{self.database}`.`tests_v1`"
        return f"""
WITH executions AS (
    SELECT Repository, Suite, ClassName, Name, Commit, RunId, Timestamp, EventId,
           Result IN ('fail', 'error') AS failed
    FROM {table} FINAL
    WHERE Result IN ('pass', 'fail', 'error')
      AND Timestamp > {end} - INTERVAL {int(self.window_days)} DAY AND Timestamp <= {end}{repo}
),
per_commit AS (
    SELECT Repository, Suite, ClassName, Name, Commit, countIf(failed) > 0 AND countIf(NOT failed) > 0 AS mixed
    FROM executions GROUP BY Repository, Suite, ClassName, Name, Commit
),
flaked AS (
    SELECT Repository, Suite, ClassName, Name, groupArrayIf(Commit, mixed) AS flaky_commits
    FROM per_commit GROUP BY Repository, Suite, ClassName, Name HAVING length(flaky_commits) > 0
),
tests AS (
    SELECT Repository, Suite, ClassName, Name,
           count() AS executions, countIf(failed) AS failures, uniqExactIf(RunId, failed) AS failed_runs,
           arrayMap(t -> t.3, arraySort(groupArray((Timestamp, EventId, failed)))) AS outcomes,
           length(outcomes) - arrayLastIndex(x -> x = 1, outcomes) AS passes_since_failure,
           arraySum(arrayMap((a, b) -> a != b, arrayPopBack(outcomes), arrayPopFront(outcomes))) AS flips
    FROM executions GROUP BY Repository, Suite, ClassName, Name
)
SELECT t.Repository AS Repository, t.Suite AS Suite, t.ClassName AS ClassName, t.Name AS Name,
       t.executions AS Executions, t.failures AS Failures, round(t.failures / t.executions, 4) AS FlakeRate,
       t.failed_runs AS FailedRuns, length(f.flaky_commits) AS FlakyCommits,
       round(t.flips / greatest(t.executions - 1, 1), 4) AS FlipRate, t.passes_since_failure AS PassesSinceFailure
FROM tests AS t INNER JOIN flaked AS f USING (Repository, Suite, ClassName, Name)
WHERE t.passes_since_failure < {int(self.clear_after)}
ORDER BY FlakeRate DESC, FailedRuns DESC, Repository, Suite, ClassName, Name
LIMIT {int(self.limit)}
"""


