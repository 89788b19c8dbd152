"""What one CI delivery becomes: the contract between the CI payload mappers (`cicd.github`,
`cicd.gitlab`, `cicd.circleci`, `cicd.junit`, `cicd.spans`) and the components that carry their
output through a pipeline.

A mapper turns a provider's payload into canonical `BuildEvent`s (proto/summit/build/v1), and,
where the provider has a contrib receiver that makes traces, into the same OTLP trace contrib
would make (so dashboards built on contrib's spans keep working). The receiver decodes the trace
like any OTLP request and attaches `cicd.rows.build_tables(events)` to it as side rows
(`SignalData.side`), which the clickhouse exporter writes to the build tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.cicd.model.build_pb2 import BuildEvent


@dataclass(slots=True)
class Mapped:
    """A mapper's output for one delivery."""

    # The contrib-identical trace, or None when the event makes no spans (push, deployment, a
    # workflow_run that is not completed yet).
    spans: ExportTraceServiceRequest | None = None
    # The canonical build events, in the order they happened.
    events: list[BuildEvent] = field(default_factory=list)
