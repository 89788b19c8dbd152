"""tail_sampling's policies one by one, at their edges: thresholds at the boundary (inclusive or
not), defaults, attributes on the span or its resource, value types, inverted matches, the
per-second budgets of rate_limiting and composite (with a fixed clock), and contrib's rule in
`decide`. `evaluate` is called on the traces directly: one boolean per trace, in order."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from summitcol.component import ComponentID, CreateSettings
from summitcol.exceptions import ConfigError
from summitcol.pdata.traces import traces_from_otlp
from summitcol.processors import tail_sampling
from summitcol.processors.tail_sampling import Config, TailSampler, Traces, evaluate
from summitcol.telemetry import Telemetry

MS = 1_000_000
# 10^15 ns: durations exact in float64 (the latency policy aggregates timestamps as float64: at
# today's ~1.7e18 ns the spacing is 256 ns, so 500 ms can read 500.000064 ms; see the README)
T0 = 10**15


def value(v: object) -> AnyValue:
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    return AnyValue(string_value=str(v))


def traces(*specs: dict[str, Any]) -> Traces:
    """One trace per spec, traces numbered from 1 in order: {"spans": [(start_ms, duration_ms)...],
    "status": [codes], "attrs": [dicts], "resource": dict, "state": tracestate}."""
    request = ExportTraceServiceRequest()
    for number, spec in enumerate(specs, start=1):
        resource_spans = request.resource_spans.add()
        for key, v in spec.get("resource", {}).items():
            resource_spans.resource.attributes.add(key=key, value=value(v))
        scope = resource_spans.scope_spans.add()
        timing = spec.get("spans", [(0, 5)])
        for i, (start_ms, duration_ms) in enumerate(timing):
            span = scope.spans.add(
                name=f"t{number}-s{i}", trace_id=number.to_bytes(16, "big"), span_id=(number * 100 + i + 1).to_bytes(8, "big"),
                start_time_unix_nano=T0 + int(start_ms * MS), end_time_unix_nano=T0 + int((start_ms + duration_ms) * MS),
                trace_state=spec.get("state", ""),
            )
            span.status.code = spec.get("status", [0] * len(timing))[i]
            for key, v in spec.get("attrs", [{}] * len(timing))[i].items():
                span.attributes.add(key=key, value=value(v))
    table = pa.Table.from_batches([traces_from_otlp(request)[0]])
    unique = pc.unique(table.column("TraceId"))
    return Traces(table, unique, pc.index_in(table.column("TraceId"), unique))


def kept(result: np.ndarray) -> list[int]:
    """Trace numbers (from 1) a policy keeps."""
    assert result.dtype == bool
    return [i + 1 for i, keep in enumerate(result.tolist()) if keep]


def policy(kind: str, **settings: object) -> dict[str, Any]:
    return {"name": kind, "type": kind, kind: settings}


def one_span(**spec: object) -> dict[str, Any]:
    return {key: [v] if key in ("status", "attrs") else v for key, v in spec.items()}


# --- latency: the trace's span from its first start to its last end, in ms, both ends inclusive

LATENCIES = traces(
    {"spans": [(0, 499)]}, {"spans": [(0, 500)]}, {"spans": [(0, 501)]},
    {"spans": [(10, 100), (300, 200), (50, 20)]},  # 10 ms to 500 ms: 490 ms, though no span is long
    {"spans": [(0, 1000)]},
)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"threshold_ms": 500}, [2, 3, 5]),
        ({"threshold_ms": 490}, [1, 2, 3, 4, 5]),
        ({"threshold_ms": 491}, [1, 2, 3, 5]),
        ({"threshold_ms": 501}, [3, 5]),
        # with an upper bound contrib keeps `threshold_ms < d <= upper_threshold_ms` (latency.go)
        ({"threshold_ms": 500, "upper_threshold_ms": 501}, [3]),
        ({"threshold_ms": 499, "upper_threshold_ms": 500}, [2]),
        ({"upper_threshold_ms": 499}, [1, 4]),
        ({}, [1, 2, 3, 4, 5]),
    ],
)
def test_latency_thresholds_as_contrib(settings: dict[str, int], expected: list[int]) -> None:
    assert kept(evaluate(policy("latency", **settings), LATENCIES, {})) == expected


def test_latency_in_whole_milliseconds_at_todays_timestamps(monkeypatch: pytest.MonkeyPatch) -> None:
    """contrib compares Duration.Milliseconds() (truncated integers); a float of 1.8e18 ns is off
    by ~100 ns, which put a 500 ms trace above `upper_threshold_ms: 500`."""
    monkeypatch.setattr(sys.modules[__name__], "T0", 1_796_000_000_123_456_789)
    now = traces({"spans": [(0, 500)]}, {"spans": [(0, 501)]}, {"spans": [(0, 500.5)]}, {"spans": [(0, 0.5)]})
    assert kept(evaluate(policy("latency", threshold_ms=499, upper_threshold_ms=500), now, {})) == [1, 3]  # 500.5 ms is 500
    assert kept(evaluate(policy("latency", threshold_ms=500), now, {})) == [1, 2, 3]
    assert kept(evaluate(policy("latency", threshold_ms=501), now, {})) == [2]
    assert kept(evaluate(policy("latency"), now, {})) == [1, 2, 3, 4]  # no threshold: 0 ms (0.5 truncated) is kept


# --- status codes, in any case; an unknown name matches nothing

STATUSES = traces(one_span(status=0), one_span(status=1), one_span(status=2), {"spans": [(0, 1), (1, 1)], "status": [1, 2]})


@pytest.mark.parametrize(
    ("codes", "expected"),
    [(["ERROR"], [3, 4]), (["error"], [3, 4]), (["Ok"], [2, 4]), (["UNSET", "ok"], [1, 2, 4]), (["bogus"], []), ([], [])],
)
def test_status_code_names_in_any_case(codes: list[str], expected: list[int]) -> None:
    assert kept(evaluate(policy("status_code", status_codes=codes), STATUSES, {})) == expected


# --- attributes: the span's, else its resource's; typed; inverted

ATTRIBUTES = traces(
    one_span(attrs={"tenant": "acme", "retries": 5, "cached": True}),
    one_span(attrs={"tenant": "acme-eu", "retries": 10, "cached": False}),
    one_span(attrs={"retries": 4, "cached": "true"}, resource={"tenant": "beta"}),
    one_span(attrs={"tenant": "gamma", "retries": 11}, resource={"tenant": "acme"}),  # the span's value wins
    one_span(attrs={"retries": "7"}, resource={"cached": True, "retries": 7.5}),
    one_span(attrs={}),
    one_span(attrs={}, resource={"retries": 7.5}),  # a double
)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"key": "tenant", "values": ["acme"]}, [1]),
        ({"key": "tenant", "values": ["acme", "beta"]}, [1, 3]),
        ({"key": "tenant", "values": ["ac"]}, []),  # exact, not a prefix
        ({"key": "tenant", "values": ["acme"], "invert_match": True}, [2, 3, 4, 5, 6, 7]),
        ({"key": "tenant", "values": ["^acme"], "enabled_regex_matching": True}, [1, 2]),
        ({"key": "tenant", "values": ["^beta$", "mm"], "enabled_regex_matching": True}, [3, 4]),
        ({"key": "tenant", "values": [], "enabled_regex_matching": True}, [1, 2, 3, 4]),  # present at all
        ({"key": "tenant", "values": ["a"], "enabled_regex_matching": True, "invert_match": True}, [5, 6, 7]),
        ({"key": "missing", "values": ["x"]}, []),
    ],
)
def test_string_attribute(settings: dict[str, object], expected: list[int]) -> None:
    assert kept(evaluate(policy("string_attribute", **settings), ATTRIBUTES, {})) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"key": "retries", "min_value": 5, "max_value": 10}, [1, 2, 7]),  # both ends inclusive; "7" is text
        ({"key": "retries", "min_value": 6, "max_value": 9}, [7]),  # 7.5 from the resource; 5's own "7" hides its 7.5
        ({"key": "retries", "min_value": 10}, [2, 4]),
        ({"key": "retries", "max_value": 5}, [1, 3]),
        ({"key": "retries"}, [1, 2, 3, 4, 7]),
        ({"key": "retries", "min_value": 5, "max_value": 10, "invert_match": True}, [3, 4, 5, 6]),
    ],
)
def test_numeric_attribute_bounds_are_inclusive_and_numbers_only(settings: dict[str, object], expected: list[int]) -> None:
    assert kept(evaluate(policy("numeric_attribute", **settings), ATTRIBUTES, {})) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"key": "cached", "value": True}, [1, 5]),  # "true" (text) on trace 3 is not a boolean; 5's is its resource's
        ({"key": "cached"}, [1, 5]),
        ({"key": "cached", "value": False}, [2]),
        ({"key": "cached", "value": True, "invert_match": True}, [2, 3, 4, 6, 7]),
    ],
)
def test_boolean_attribute_matches_booleans_only(settings: dict[str, object], expected: list[int]) -> None:
    assert kept(evaluate(policy("boolean_attribute", **settings), ATTRIBUTES, {})) == expected


# --- probabilistic: a hash of the trace id (and salt) under the percentage; stable

MANY = traces(*[{} for _ in range(400)])


def test_probabilistic_keeps_the_percentage_by_trace_id_hash() -> None:
    def share(**settings: object) -> list[int]:
        return kept(evaluate(policy("probabilistic", **settings), MANY, {}))

    assert share(sampling_percentage=100) == list(range(1, 401))
    assert share(sampling_percentage=0) == share() == []
    half = share(sampling_percentage=50)
    assert len(half) == 193
    assert set(share(sampling_percentage=25)) < set(half)  # a lower percentage keeps a subset
    assert len(share(sampling_percentage=25)) == 95
    assert share(sampling_percentage=1) == [23, 120, 173, 325]
    salted = share(sampling_percentage=50, hash_salt="summit")
    assert len(salted) == 206 and salted != half
    assert share(sampling_percentage=50, hash_salt="summit") == salted  # the same traces every time
    assert share(sampling_percentage=50, hash_salt="") == half


# --- span_count, trace_state

COUNTS = traces(*[{"spans": [(i, 1) for i in range(n)]} for n in (1, 2, 3, 4)])


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({"min_spans": 2, "max_spans": 3}, [2, 3]), ({"min_spans": 3}, [3, 4]), ({"max_spans": 2}, [1, 2]), ({}, [1, 2, 3, 4])],
)
def test_span_count_bounds_are_inclusive(settings: dict[str, int], expected: list[int]) -> None:
    assert kept(evaluate(policy("span_count", **settings), COUNTS, {})) == expected


STATES = traces({"state": "vendor=x"}, {"state": "ot=th:8, vendor=x ,z=1"}, {"state": "vendor=xy"}, {"state": "xvendor=x"},
                {"state": "vendor=y"}, {"state": ""})


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({"key": "vendor", "values": ["x"]}, [1, 2]), ({"key": "vendor", "values": ["x", "y"]}, [1, 2, 5]), ({"key": "vendor", "values": []}, [])],
)
def test_trace_state_matches_whole_entries(settings: dict[str, object], expected: list[int]) -> None:
    assert kept(evaluate(policy("trace_state", **settings), STATES, {})) == expected


# --- and / drop / unknown

def test_and_needs_every_sub_policy_and_an_empty_and_keeps_all() -> None:
    slow_errors = policy("and", and_sub_policy=[policy("status_code", status_codes=["ERROR"]), policy("span_count", min_spans=2)])
    assert kept(evaluate(slow_errors, STATUSES, {})) == [4]
    assert kept(evaluate(policy("and", and_sub_policy=[]), STATUSES, {})) == [1, 2, 3, 4]
    assert kept(evaluate(policy("drop", drop_sub_policy=[policy("status_code", status_codes=["OK"]),
                                                         policy("span_count", max_spans=1)]), STATUSES, {})) == [2]


def test_an_unknown_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        evaluate({"name": "x", "type": "nope"}, STATUSES, {})
    assert str(error.value) == "unknown policy type 'nope'"


def test_decide_drops_what_a_drop_policy_matches_and_keeps_what_any_other_samples() -> None:
    config = Config(policies=[
        policy("status_code", status_codes=["ERROR"]),
        policy("span_count", min_spans=2),
        {"name": "no ok", "type": "drop", "drop": {"drop_sub_policy": [policy("status_code", status_codes=["OK"])]}},
    ])
    processor = TailSampler(CreateSettings(id=ComponentID("tail_sampling"), telemetry=Telemetry()), config, next_consumer=None)  # type: ignore[arg-type]
    assert kept(processor.decide(STATUSES)) == [3]  # 4 is sampled twice but has an Ok span; 1 and 2 are not sampled
    assert kept(processor.decide(COUNTS)) == [2, 3, 4]


def test_config_needs_a_positive_wait_and_num_traces() -> None:
    ok = [policy("always_sample")]
    with pytest.raises(ConfigError, match="^decision_wait must be greater than 0$"):
        Config(decision_wait=timedelta(0), policies=ok).validate()
    with pytest.raises(ConfigError, match="^num_traces must be greater than 0$"):
        Config(num_traces=0, policies=ok).validate()
    Config(decision_wait=timedelta(microseconds=1), num_traces=1, policies=ok).validate()


# --- per-second budgets (a fixed clock: the budget is per whole second of time.monotonic)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.25]
    monkeypatch.setattr(tail_sampling.time, "monotonic", lambda: now[0])
    return now


SIZES = traces(*[{"spans": [(i, 1) for i in range(n)]} for n in (2, 2, 1, 3, 1)])


def test_rate_limiting_spends_a_budget_per_second_inclusive(clock: list[float]) -> None:
    state: dict[str, Any] = {}
    limit = policy("rate_limiting", spans_per_second=5)
    assert kept(evaluate(limit, SIZES, state)) == [1, 2, 3]  # 2+2+1 = 5 exactly; 3 and 1 more do not fit
    assert kept(evaluate(limit, SIZES, state)) == []  # the same second: spent
    clock[0] = 1000.99
    assert kept(evaluate(limit, SIZES, state)) == []
    clock[0] = 1001.0  # the next second: a fresh budget
    assert kept(evaluate(limit, SIZES, state)) == [1, 2, 3]
    assert kept(evaluate(policy("rate_limiting"), SIZES, {})) == []  # no budget set: nothing


def composite(total: int, allocation: list[dict[str, object]], order: list[str] | None = None) -> dict[str, Any]:
    subs = [
        {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "big", "type": "span_count", "span_count": {"min_spans": 2}},
        {"name": "all", "type": "always_sample"},
    ]
    spec: dict[str, Any] = {"max_total_spans_per_second": total, "composite_sub_policy": subs, "rate_allocation": allocation}
    if order is not None:
        spec["policy_order"] = order
    return {"name": "c", "type": "composite", "composite": spec}


# traces of 2 spans (error), 2 (ok), 1 (error), 3 (ok), 1 (ok)
MIXED = traces(
    {"spans": [(0, 1), (1, 1)], "status": [2, 0]}, {"spans": [(0, 1), (1, 1)]}, one_span(status=2),
    {"spans": [(0, 1), (1, 1), (2, 1)]}, {},
)


@pytest.mark.parametrize(
    ("total", "allocation", "order", "expected"),
    [
        # errors 3 (traces 1 and 3: 2+1), big 3 (trace 2; 4's 3 spans would pass it), all the 4 left (4, then 5: exactly 4)
        (10, [{"policy": "errors", "percent": 30}, {"policy": "big", "percent": 30}], ["errors", "big", "all"], [1, 2, 3, 4, 5]),
        # the same without policy_order: the sub-policies' own order
        (10, [{"policy": "errors", "percent": 30}, {"policy": "big", "percent": 30}], None, [1, 2, 3, 4, 5]),
        # errors 20% of 7 = 1 (trace 3 only; 1 falls through to "all"), big 0, all 6 left: 1, 2, then 4 (3 spans) does not fit, 5 does
        (7, [{"policy": "errors", "percent": 20}, {"policy": "big", "percent": 0}], ["errors", "big", "all"], [1, 2, 3, 5]),
        # two unlisted share what is left: (10 - 4) // 2 = 3 each; all takes 4 (3), then 5 does not fit
        (10, [{"policy": "errors", "percent": 40}], ["errors", "big", "all"], [1, 2, 3, 4]),
        # "all" first spends its 5 (2+2+1); errors (5) samples none of the rest
        (10, [{"policy": "all", "percent": 50}, {"policy": "errors", "percent": 50}], ["all", "errors"], [1, 2, 3]),
        # percent rounds down: errors 33% of 5 = 1 (trace 3), big 67% of 5 = 3 (trace 1, its 2 spans; then 2 does not fit)
        (5, [{"policy": "errors", "percent": 33}, {"policy": "big", "percent": 67}], ["errors", "big"], [1, 3]),
        # allocations over 100%: nothing left for the unlisted "all"
        (4, [{"policy": "errors", "percent": 100}, {"policy": "big", "percent": 50}], ["errors", "big", "all"], [1, 2, 3]),
        (0, [], ["errors", "big", "all"], []),
    ],
)
def test_composite_allocates_the_budget_in_policy_order(
    clock: list[float], total: int, allocation: list[dict[str, object]], order: list[str] | None, expected: list[int]
) -> None:
    assert kept(evaluate(composite(total, allocation, order), MIXED, {})) == expected


def test_composite_budget_is_per_second(clock: list[float]) -> None:
    state: dict[str, Any] = {}
    limited = composite(3, [{"policy": "errors", "percent": 100}], ["errors"])
    assert kept(evaluate(limited, MIXED, state)) == [1, 3]
    assert kept(evaluate(limited, MIXED, state)) == []
    clock[0] = 1001.5
    assert kept(evaluate(limited, MIXED, state)) == [1, 3]
