"""Build events onto the SignalData a CI receiver passes on, and JUnit uploads into events.

The rows come from `summitcol.cicd.rows.build_tables` and ride as `SignalData.side` (keyed by
table name), which the clickhouse exporter writes to the build tables.
"""

from __future__ import annotations

from datetime import datetime

from summitcol.cicd import junit
from summitcol.cicd.model import build_pb2 as pb
from summitcol.cicd.model.build_pb2 import BuildEvent
from summitcol.cicd.rows import build_tables
from summitcol.pdata.signal import SignalData


def with_build_rows(data: SignalData, events: list[BuildEvent]) -> SignalData:
    """`data` with the events' build-table rows as side rows (unchanged when there are none)."""
    if not events:
        return data
    side = {**data.side, **build_tables(events)}
    return SignalData(data.signal, data.tables, data.client, side)


PROVIDERS = {"github": pb.PROVIDER_GITHUB, "gitlab": pb.PROVIDER_GITLAB, "circleci": pb.PROVIDER_CIRCLECI,
             "jenkins": pb.PROVIDER_JENKINS}


def junit_events(body: bytes, query: dict[str, str], provider: str, observed: datetime) -> list[BuildEvent]:
    """`cicd.junit.parse` of an upload, with the run it belongs to from the query parameters
    run_id, attempt, job, provider (default: the receiver's) and revision. ValueError for a
    report it cannot read."""
    attempt_text = query.get("attempt", "") or "1"
    if not attempt_text.isdigit():
        raise ValueError(f"query parameter attempt must be a whole number, got '{attempt_text}'")
    name = query.get("provider") or provider
    run = junit.RunContext(
        provider=PROVIDERS.get(name, pb.PROVIDER_OTEL),
        provider_name=name,
        run_id=query.get("run_id", ""),
        attempt=int(attempt_text),
        job_id=query.get("job", ""),
        revision=query.get("revision", ""),
    )
    return junit.parse(body, run=run, observed=observed)
