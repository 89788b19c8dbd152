"""probabilistic_sampler: contrib's hash_seed decisions, W3C thresholds in tracestate, priority,
per-resource overrides — on whole batches."""

from __future__ import annotations

import random

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from summitcol.component import ComponentID, CreateSettings
from summitcol.pdata.traces import traces_from_otlp
from summitcol.processors.probabilistic_sampler import Config, Override, OverrideMatch, ProbabilisticSampler
from summitcol.telemetry import Telemetry

N = 10_000


def contrib_hash_seed_keeps(trace_id: bytes, seed: int, percentage: float) -> bool:
    """contrib's algorithm written out plainly (fnvhasher.go, sampler_mode.go): FNV-1a 32 over the
    seed's 4 little-endian bytes then the trace id; kept when the low 14 bits are below
    uint32(float32(pct) * (0x4000 / 100.0))."""
    import numpy as np

    h = 0x811C9DC5
    for byte in seed.to_bytes(4, "little") + trace_id:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    scaled = int(np.float32(percentage) * np.float32(0x4000 / 100.0))
    return (h & 0x3FFF) < scaled


def batch_of(trace_ids: list[bytes], states: list[str] | None = None, resources: list[str] | None = None, priority: dict[int, AnyValue] | None = None):  # type: ignore[no-untyped-def]
    request = ExportTraceServiceRequest()
    for i, trace_id in enumerate(trace_ids):
        rs = request.resource_spans.add()
        rs.resource.attributes.add(key="tenant", value=AnyValue(string_value=(resources or ["external"] * len(trace_ids))[i]))
        span = rs.scope_spans.add().spans.add(name=f"s{i}", trace_id=trace_id, span_id=(i + 1).to_bytes(8, "big"))
        span.trace_state = (states or [""] * len(trace_ids))[i]
        if priority and i in priority:
            span.attributes.add(key="sampling.priority", value=priority[i])
    return traces_from_otlp(request)[0]


def sampler(**config) -> ProbabilisticSampler:  # type: ignore[no-untyped-def]
    return ProbabilisticSampler(CreateSettings(id=ComponentID("probabilistic_sampler"), telemetry=Telemetry()), Config(**config), next_consumer=None)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trace_ids() -> list[bytes]:
    rng = random.Random(20261127)
    return [rng.randbytes(16) for _ in range(N)]


@pytest.mark.parametrize(("seed", "percentage"), [(0, 10.0), (22, 25.0), (12345, 50.0), (7, 33.3), (1, 0.01), (99, 100.0)])
def test_hash_seed_decisions_equal_contribs(trace_ids, seed: int, percentage: float) -> None:  # type: ignore[no-untyped-def]
    batch = batch_of(trace_ids)
    kept = sampler(sampling_percentage=percentage, hash_seed=seed, mode="hash_seed").sample(batch)
    expected = {t.hex() for t in trace_ids if contrib_hash_seed_keeps(t, seed, percentage)}
    assert set(kept.column("TraceId").to_pylist()) == expected


@pytest.mark.parametrize("percentage", [10.0, 25.0, 50.0])
@pytest.mark.parametrize("mode", ["hash_seed", "proportional", "equalizing"])
def test_keep_rate_within_one_percent(trace_ids, mode: str, percentage: float) -> None:  # type: ignore[no-untyped-def]
    kept = sampler(sampling_percentage=percentage, hash_seed=42, mode=mode).sample(batch_of(trace_ids))
    assert abs(kept.num_rows / N - percentage / 100) <= 0.01


def test_tracestate_thresholds() -> None:
    ids = [random.Random(i).randbytes(16) for i in range(400)]
    kept = sampler(sampling_percentage=25, mode="proportional").sample(batch_of(ids))
    assert set(kept.column("TraceState").to_pylist()) == {"ot=th:c"}  # 25% = th:c (OTel spec example)
    hashed = sampler(sampling_percentage=25, hash_seed=1, mode="hash_seed").sample(batch_of(ids)).column("TraceState").to_pylist()
    assert all(s.startswith("ot=rv:") and s.endswith(";th:c") and len(s) == len("ot=rv:") + 14 + len(";th:c") for s in hashed)


def test_proportional_multiplies_an_incoming_threshold_and_keeps_other_vendors() -> None:
    ids = [bytes(9) + b"\xff" * 7, bytes(9) + b"\x10" + bytes(6)]  # randomness ~1.0 and ~0.06
    kept = sampler(sampling_percentage=50, mode="proportional").sample(batch_of(ids, states=["ot=th:8,vendor=x", "ot=th:8"]))
    # 50% of an incoming 50% is 25%: th:c; the second span's randomness is below its own th:8,
    # an inconsistent arrival, and is dropped
    assert kept.column("TraceState").to_pylist() == ["ot=th:c,vendor=x"]
    equal = sampler(sampling_percentage=50, mode="equalizing").sample(batch_of(ids[:1], states=["ot=th:c"]))
    assert equal.column("TraceState").to_pylist() == ["ot=th:c"]  # already sampled at less: kept as is


def test_sampling_priority_overrides_the_decision() -> None:
    ids = [bytes(16) for _ in range(3)]  # all-zero ids: no randomness, never sampled on their own
    priority = {0: AnyValue(int_value=1), 1: AnyValue(string_value="0"), 2: AnyValue(double_value=0.0)}
    kept = sampler(sampling_percentage=100, mode="proportional").sample(batch_of(ids, priority=priority))
    assert kept.column("SpanName").to_pylist() == ["s0"]
    assert kept.column("TraceState").to_pylist() == ["ot=th:0"]


def test_overrides_first_match_wins(trace_ids) -> None:  # type: ignore[no-untyped-def]
    tenants = ["internal" if i % 2 else "acme-eu" for i in range(N)]
    config = dict(
        sampling_percentage=10,
        mode="proportional",
        overrides=[
            Override(match=OverrideMatch(resource={"tenant": "internal"}), sampling_percentage=100),
            Override(match=OverrideMatch(resource={"tenant": "acme-.*"}), sampling_percentage=50),
            Override(match=OverrideMatch(resource={"tenant": ".*"}), sampling_percentage=0),
        ],
    )
    kept = sampler(**config).sample(batch_of(trace_ids, resources=tenants))
    names = kept.column("SpanName").to_pylist()
    internal = sum(1 for n in names if int(n[1:]) % 2)
    assert internal == N // 2
    assert abs((len(names) - internal) / (N // 2) - 0.5) <= 0.02


def logs_of(trace_ids: list[bytes], users: list[str] | None = None, priorities: dict[int, AnyValue] | None = None):  # type: ignore[no-untyped-def]
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    from summitcol.pdata.logs import logs_from_otlp

    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for i, trace_id in enumerate(trace_ids):
        record = scope.log_records.add(trace_id=trace_id)
        record.body.string_value = f"log {i}"
        if users:
            record.attributes.add(key="user.id", value=AnyValue(string_value=users[i]))
        if priorities and i in priorities:
            record.attributes.add(key="prio", value=priorities[i])
    return logs_from_otlp(request)[0]


@pytest.mark.parametrize("mode", ["hash_seed", "proportional"])
def test_logs_keep_rate_and_threshold_attribute(trace_ids, mode: str) -> None:  # type: ignore[no-untyped-def]
    kept = sampler(sampling_percentage=25, hash_seed=3, mode=mode).sample_logs(logs_of(trace_ids))
    assert abs(kept.num_rows / N - 0.25) <= 0.01
    thresholds = {dict(m)["sampling.threshold"]["value"] for m in kept.column("LogAttributes").to_pylist()}
    assert thresholds == {"c"}


def test_logs_by_record_attribute_hash_like_contrib() -> None:
    users = [f"user-{i}" for i in range(N)]
    kept = sampler(sampling_percentage=10, hash_seed=5, attribute_source="record", from_attribute="user.id").sample_logs(
        logs_of([b""] * N, users=users)
    )
    expected = {u for u in users if contrib_hash_seed_keeps(u.encode(), 5, 10.0)}
    assert {dict(m)["user.id"]["value"] for m in kept.column("LogAttributes").to_pylist()} == expected


def test_logs_sampling_priority_attribute() -> None:
    ids = [bytes(15) + b"\x01"] * 3
    priorities = {0: AnyValue(int_value=100), 1: AnyValue(int_value=0)}
    kept = sampler(sampling_percentage=0.01, hash_seed=1, mode="hash_seed", sampling_priority="prio").sample_logs(logs_of(ids, priorities=priorities))
    assert kept.column("Body").to_pylist() == ["log 0"]


def test_internal_tenants_at_100_others_at_10(trace_ids) -> None:  # type: ignore[no-untyped-def]
    tenants = ["internal" if i % 4 == 0 else f"customer-{i % 7}" for i in range(N)]
    config = dict(sampling_percentage=10, overrides=[Override(match=OverrideMatch(resource={"tenant": "internal"}), sampling_percentage=100)])
    kept = sampler(**config).sample(batch_of(trace_ids, resources=tenants))
    rows = [int(n[1:]) for n in kept.column("SpanName").to_pylist()]
    assert sum(1 for r in rows if r % 4 == 0) == N // 4
    others = sum(1 for r in rows if r % 4)
    assert abs(others / (N - N // 4) - 0.10) <= 0.01
    assert set(kept.column("TraceState").to_pylist()) == {"ot=th:0", "ot=th:e666"}  # 100% and 10% recorded
