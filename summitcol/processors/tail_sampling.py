"""The `tail_sampling` processor: keeps or drops whole traces once they are complete.

Spans are held per trace for `decision_wait` after the trace's first span arrives, then every
policy is evaluated on the whole trace at once — column-wise: each policy is a per-span condition
aggregated per trace (`any`, `min`, `max`, `count`) with Arrow's group-by, never a per-span loop.
contrib's rule decides: any `drop` policy that matches drops the trace; otherwise any policy that
samples keeps it. Spans arriving after the decision follow it (decision caches). Memory is bounded
by `num_traces`: past it the oldest traces are decided early (counted in
`summitcol_tail_sampling_early_decisions_total`), never an OOM.

Tail sampling holds data after acknowledging it (it must, to wait for the rest of the trace); at
a clean stop every pending trace is decided and flushed. For the same reason a refusal by the next
stage must not lose sampled spans: they wait in an outbox and are retried, and new data is refused
retryably while too many wait (as the batch processor does). Run it in one place per trace: with
several Summit instances, put a `loadbalancing` exporter keyed by traceID in front.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.component import Consumer, CreateSettings, Factory, Host, Kind, Processor, Signal, Stability
from summitcol.exceptions import ConfigError, PartialRejectionError, RetryableError
from summitcol.pdata.signal import SPANS, SignalData, concat
from summitcol.pdata.values import lookup_attribute
from summitcol.processors.retrying import consume_retrying
from summitcol.sampling.vectorized import fnv1a32_seeded, id_bytes

log = logging.getLogger("summitcol.processor.tail_sampling")

_STATUS = {"UNSET": "Unset", "OK": "Ok", "ERROR": "Error"}
DEFAULT_DECISION_CACHE = 100_000
# Sampled spans the next stage has not taken yet (it refused them retryably): past this many, new
# data is refused retryably, as the batch processor does past `max_pending_items`.
MAX_UNDELIVERED_SPANS = 100_000
SHUTDOWN_RETRY_S = 30.0  # at a stop, how long refused spans are retried before they are given up
_MIX = np.uint64(0x9E3779B97F4A7C15)


# Each policy type's settings (contrib's keys); checked by `validate`, read as plain values.
POLICY_KEYS: dict[str, set[str]] = {
    "always_sample": set(),
    "latency": {"threshold_ms", "upper_threshold_ms"},
    "status_code": {"status_codes"},
    "string_attribute": {"key", "values", "enabled_regex_matching", "cache_max_size", "invert_match"},
    "numeric_attribute": {"key", "min_value", "max_value", "invert_match"},
    "boolean_attribute": {"key", "value", "invert_match"},
    "probabilistic": {"hash_salt", "sampling_percentage"},
    "rate_limiting": {"spans_per_second"},
    "span_count": {"min_spans", "max_spans"},
    "trace_state": {"key", "values"},
    "and": {"and_sub_policy"},
    "drop": {"drop_sub_policy"},
    "composite": {"max_total_spans_per_second", "policy_order", "composite_sub_policy", "rate_allocation"},
}


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionCacheConfig:
    sampled_cache_size: int = 0
    non_sampled_cache_size: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    decision_wait: timedelta = timedelta(seconds=30)
    num_traces: int = 50_000
    expected_new_traces_per_sec: int = 0
    decision_cache: DecisionCacheConfig = field(default_factory=DecisionCacheConfig)
    sample_on_first_match: bool = False
    policies: list[dict[str, Any]] = field(default_factory=list)

    def validate(self) -> None:
        if self.decision_wait <= timedelta(0):
            raise ConfigError("decision_wait must be greater than 0")
        if self.num_traces <= 0:
            raise ConfigError("num_traces must be greater than 0")
        if not self.policies:
            raise ConfigError("policies: at least one policy is needed, e.g. [{name: all, type: always_sample}]")
        for policy in self.policies:
            _check_policy(policy)


def _check_policy(policy: Any) -> None:
    if not isinstance(policy, dict):
        raise ConfigError(f"policies: each policy is a mapping with name and type, got {policy!r}")
    name, kind = policy.get("name", "?"), policy.get("type")
    if kind not in POLICY_KEYS:
        raise ConfigError(f"policy {name!r}: unknown type {kind!r} (known: {', '.join(POLICY_KEYS)})")
    extra = set(policy) - {"name", "type", kind}
    if extra:
        raise ConfigError(f"policy {name!r}: unknown key(s) {', '.join(sorted(extra))}")
    settings = policy.get(kind) or {}
    unknown = set(settings) - POLICY_KEYS[kind]
    if unknown:
        raise ConfigError(f"policy {name!r}: unknown {kind} key(s) {', '.join(sorted(unknown))} (valid: {', '.join(sorted(POLICY_KEYS[kind]))})")
    for sub in settings.get(f"{kind}_sub_policy", []) if kind in ("and", "drop", "composite") else []:
        _check_policy(sub)
    if kind == "composite":
        names = {sub.get("name") for sub in settings.get("composite_sub_policy", [])}
        missing = [n for n in settings.get("policy_order", []) if n not in names]
        if missing:
            raise ConfigError(f"policy {name!r}: policy_order names unknown sub-policies {', '.join(map(str, missing))}")


# -- policies: each returns one boolean per trace (traces in `groups` order) -----------------------


@dataclass
class Traces:
    """The spans being decided, and their per-trace grouping."""

    spans: pa.Table
    trace_ids: pa.Array  # one per trace
    index: pa.Array  # per span: its trace's position in trace_ids

    def any(self, per_span: pa.Array) -> np.ndarray:
        table = pa.table({"t": self.index, "v": pc.fill_null(per_span, False)})
        grouped = table.group_by("t").aggregate([("v", "any")])
        out = np.zeros(len(self.trace_ids), dtype=bool)
        out[grouped.column("t").to_numpy()] = grouped.column("v_any").to_numpy(zero_copy_only=False)
        return out

    def aggregate(self, values: pa.Array, how: str, dtype: type = np.float64) -> np.ndarray:
        table = pa.table({"t": self.index, "v": values})
        grouped = table.group_by("t").aggregate([("v", how)])
        out = np.zeros(len(self.trace_ids), dtype=dtype)
        out[grouped.column("t").to_numpy()] = grouped.column(f"v_{how}").to_numpy(zero_copy_only=False)
        return out


def _attribute(traces: Traces, key: str) -> tuple[pa.Array, pa.Array]:
    """(type, text) of `key` per span: the span's attribute, else its resource's."""
    span_type, span_text = lookup_attribute(traces.spans.column("SpanAttributes"), key)
    resource_type, resource_text = lookup_attribute(traces.spans.column("ResourceAttributes"), key)
    on_span = pc.is_valid(span_type)
    return pc.if_else(on_span, span_type, resource_type), pc.if_else(on_span, span_text, resource_text)


def evaluate(policy: dict[str, Any], traces: Traces, state: dict[str, Any]) -> np.ndarray:
    kind = policy["type"]
    spec = policy.get(kind) or {}
    if kind == "always_sample":
        return np.ones(len(traces.trace_ids), dtype=bool)
    if kind == "latency":
        start = pc.cast(traces.spans.column("Timestamp"), pa.int64())
        end = pc.add(start, pc.cast(traces.spans.column("Duration"), pa.int64()))
        # contrib compares time.Duration.Milliseconds(): whole milliseconds, in integers (a float
        # of today's nanosecond timestamps is off by ~100 ns: a 500 ms trace read 500.000064)
        duration_ms = (traces.aggregate(end, "max", np.int64) - traces.aggregate(start, "min", np.int64)) // 1_000_000
        upper = spec.get("upper_threshold_ms", 0)
        lower = spec.get("threshold_ms", 0)
        if not upper:
            return duration_ms >= lower
        return (duration_ms > lower) & (duration_ms <= upper)  # contrib: strictly above the lower bound
    if kind == "status_code":
        codes = [_STATUS.get(str(c).upper(), str(c)) for c in spec.get("status_codes", [])]
        return traces.any(pc.is_in(traces.spans.column("StatusCode"), pa.array(codes, pa.string())))
    if kind == "string_attribute":
        _, text = _attribute(traces, spec["key"])
        values = spec.get("values", [])
        if spec.get("enabled_regex_matching"):
            hit = pc.match_substring_regex(text, "|".join(f"(?:{v})" for v in values)) if values else pc.is_valid(text)
        else:
            hit = pc.is_in(text, pa.array(values, pa.string()))
        matched = traces.any(hit)
        return ~matched if spec.get("invert_match") else matched
    if kind == "numeric_attribute":
        types, text = _attribute(traces, spec["key"])
        is_number = pc.fill_null(pc.is_in(types, pa.array([2, 3], pa.uint8())), False)
        number = pc.cast(pc.if_else(is_number, text, "nan"), pa.float64())
        low, high = spec.get("min_value", float("-inf")), spec.get("max_value", float("inf"))
        matched = traces.any(pc.and_(pc.greater_equal(number, low), pc.less_equal(number, high)))
        return ~matched if spec.get("invert_match") else matched
    if kind == "boolean_attribute":
        types, text = _attribute(traces, spec["key"])
        wanted = "true" if spec.get("value", True) else "false"
        matched = traces.any(pc.and_(pc.equal(types, 4), pc.equal(text, wanted)))
        return ~matched if spec.get("invert_match") else matched
    if kind == "probabilistic":
        ids, _ = id_bytes(traces.trace_ids, 16)
        salt = sum(spec.get("hash_salt", "").encode()) if spec.get("hash_salt") else 0
        hashed = fnv1a32_seeded(ids, salt) & np.uint32(0x3FFF)
        return hashed < np.uint32(float(spec.get("sampling_percentage", 0)) * 163.84)
    if kind == "span_count":
        counts = traces.aggregate(pa.array(np.ones(len(traces.index), dtype=np.int64)), "sum")
        keep = counts >= spec.get("min_spans", 0)
        return keep & (counts <= spec["max_spans"]) if spec.get("max_spans") else keep
    if kind == "trace_state":
        values = spec.get("values", [])
        pattern = "|".join(f"(?:^|,)\\s*{spec.get('key', '')}={v}\\s*(?:,|$)" for v in values)
        return traces.any(pc.match_substring_regex(traces.spans.column("TraceState"), pattern)) if values else np.zeros(len(traces.trace_ids), bool)
    if kind == "rate_limiting":
        return _rate_limit(traces, spec.get("spans_per_second", 0), state)
    if kind == "and":
        keep = np.ones(len(traces.trace_ids), dtype=bool)
        for sub in spec.get("and_sub_policy", []):
            keep &= evaluate(sub, traces, state)
        return keep
    if kind == "drop":
        matched = np.ones(len(traces.trace_ids), dtype=bool)
        for sub in spec.get("drop_sub_policy", []):
            matched &= evaluate(sub, traces, state)
        return matched
    if kind == "composite":
        return _composite(traces, spec, state)
    raise ConfigError(f"unknown policy type {kind!r}")


def _composite(traces: Traces, spec: dict[str, Any], state: dict[str, Any]) -> np.ndarray:
    """contrib's composite: sub-policies in `policy_order`, each with a share of
    `max_total_spans_per_second` (`rate_allocation` percent; unlisted ones share what is left);
    a trace goes to the first sub-policy that samples it and still has budget this second."""
    subs = {sub["name"]: sub for sub in spec.get("composite_sub_policy", [])}
    order = spec.get("policy_order") or list(subs)
    total = int(spec.get("max_total_spans_per_second", 0))
    allocated = {a["policy"]: total * int(a.get("percent", 0)) // 100 for a in spec.get("rate_allocation", [])}
    unlisted = [n for n in order if n not in allocated]
    leftover = max(0, total - sum(allocated.values()))
    for name in unlisted:
        allocated[name] = leftover // len(unlisted)
    now = int(time.monotonic())
    if state.get("second") != now:
        state["second"], state["spent"] = now, dict.fromkeys(order, 0)
    counts = traces.aggregate(pa.array(np.ones(len(traces.index), dtype=np.int64)), "sum").astype(np.int64)
    decisions = {name: evaluate(subs[name], traces, state.setdefault(f"sub:{name}", {})) for name in order}
    keep = np.zeros(len(counts), dtype=bool)
    for trace, count in enumerate(counts):  # budget accounting: a loop over traces, not spans
        for name in order:
            if decisions[name][trace] and state["spent"][name] + count <= allocated[name]:
                state["spent"][name] += int(count)
                keep[trace] = True
                break
    return keep


def _rate_limit(traces: Traces, per_second: int, state: dict[str, Any]) -> np.ndarray:
    """Whole traces while this second's span budget lasts (a loop over traces, not spans)."""
    counts = traces.aggregate(pa.array(np.ones(len(traces.index), dtype=np.int64)), "sum").astype(np.int64)
    now = int(time.monotonic())
    if state.get("second") != now:
        state["second"], state["spent"] = now, 0
    keep = np.zeros(len(counts), dtype=bool)
    for i, count in enumerate(counts):
        if state["spent"] + count <= per_second:
            state["spent"] += int(count)
            keep[i] = True
    return keep


def _digests(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit digest of each hex trace id (both halves of the 128 bits mixed), column-wise; as
    int64, which Python ints convert to and from quickly (uint64 past 2^63 takes a slow path)."""
    raw, _ = id_bytes(ids, 16)
    halves = np.ascontiguousarray(raw).view(np.uint64)
    with np.errstate(over="ignore"):
        return (halves[:, 0] ^ (halves[:, 1] * _MIX)).view(np.int64)


class DecisionCache:
    """Trace ids decided one way, the oldest forgotten first past `limit`, probed column-wise.

    A batch is probed with one `searchsorted` into a sorted array of the ids' digests (not, as
    before, by turning 100,000 ids into an Arrow array and hashing them for `is_in` on every
    batch: ~50 ms a batch). New decisions are merged into that array; forgotten ids stay in it
    until it holds twice `limit` and is rebuilt, which is harmless: every digest match is
    confirmed against the ids themselves, so neither a stale digest nor a collision sends a
    span the wrong way."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, int] = OrderedDict()
        self._sorted: np.ndarray | None = None  # digests of (at least) every id in `_ids`

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: pa.Array) -> None:
        digests = _digests(ids)
        for trace_id, digest in zip(ids.to_pylist(), digests.tolist(), strict=True):
            self._ids[trace_id] = digest
            self._ids.move_to_end(trace_id)
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        if self._sorted is not None and len(self._sorted) + len(digests) <= 2 * self.limit:
            new = np.sort(digests)
            self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)
        else:
            self._sorted = None  # rebuilt from `_ids` at the next probe

    def probe(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Per id of `ids`: whether it is in the cache."""
        if not self._ids:
            return pa.array(np.zeros(len(ids), dtype=bool))
        if self._sorted is None:
            self._sorted = np.sort(np.fromiter(self._ids.values(), dtype=np.int64, count=len(self._ids)))
        digests = _digests(ids)
        position = np.minimum(np.searchsorted(self._sorted, digests), len(self._sorted) - 1)
        hit = self._sorted[position] == digests
        candidates = np.flatnonzero(hit)
        if len(candidates):
            confirmed = [trace_id in self._ids for trace_id in ids.take(pa.array(candidates)).to_pylist()]
            hit[candidates] = confirmed
        return pa.array(hit)


class TailSampler(Processor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        self.settings = settings
        self.config = config
        self.next_consumer = next_consumer
        self.label = str(settings.id)
        self._pending: list[SignalData] = []
        self._first_seen: OrderedDict[str, float] = OrderedDict()
        # Summit: decided ids are remembered by default (ids only, ~100 bytes each), so that late
        # spans follow their trace's decision even when traces were decided early.
        default = max(config.num_traces, DEFAULT_DECISION_CACHE)
        self._sampled = DecisionCache(config.decision_cache.sampled_cache_size or default)
        self._dropped = DecisionCache(config.decision_cache.non_sampled_cache_size or default)
        self._policy_state: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Sampled spans on their way to the next stage, in order; one task delivers them.
        self._outbox: deque[pa.RecordBatch] = deque()
        self._outbox_spans = 0
        self.max_undelivered = MAX_UNDELIVERED_SPANS
        self._outbox_ready = asyncio.Event()
        self._deliverer: asyncio.Task[None] | None = None
        self._stop_by: float | None = None  # at a stop: when retrying refused spans ends

    async def start(self, host: Host) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def consume(self, data: SignalData) -> None:
        batch = data.tables.get(SPANS)
        if batch is None or batch.num_rows == 0:
            return
        if self._outbox_spans >= self.max_undelivered:
            raise RetryableError(
                f"tail_sampling processor {self.label} holds {self._outbox_spans} sampled spans that the next stage "
                "has not taken yet; retry later",
                retry_after=1.0,
            )
        self.settings.telemetry.processor_items("incoming", self.label, data.signal, batch.num_rows)
        ids = batch.column("TraceId")
        late_kept = self._sampled.probe(ids)
        late_dropped = self._dropped.probe(ids)
        if pc.any(late_kept).as_py():
            self._emit(batch.filter(late_kept))
        rest = batch.filter(pc.invert(pc.or_(late_kept, late_dropped)))
        if rest.num_rows == 0:
            return
        now = time.monotonic()
        async with self._lock:
            self._pending.append(SignalData(Signal.TRACES, {SPANS: rest}))
            for trace_id in pc.unique(rest.column("TraceId")).to_pylist():
                self._first_seen.setdefault(trace_id, now)
            overflow = len(self._first_seen) - self.config.num_traces
        if overflow > 0:
            oldest = list(self._first_seen)[:overflow]
            self.settings.telemetry.count_plain("summitcol_tail_sampling_early_decisions", len(oldest), processor=self.label)
            await self._decide(oldest)

    async def _tick(self) -> None:
        wait = self.config.decision_wait.total_seconds()
        while True:
            await asyncio.sleep(min(1.0, wait / 4))
            now = time.monotonic()
            ready = [t for t, seen in self._first_seen.items() if now - seen >= wait]
            if ready:
                await self._decide(ready)

    async def _decide(self, trace_ids: list[str]) -> None:
        async with self._lock:
            if not self._pending:
                return
            ready = pa.array(trace_ids, pa.string())
            table = pa.Table.from_batches([concat(self._pending).tables[SPANS]])
            is_ready = pc.is_in(table.column("TraceId"), ready)
            spans = table.filter(is_ready)
            remaining = table.filter(pc.invert(is_ready))
            self._pending = [SignalData(Signal.TRACES, {SPANS: b}) for b in remaining.to_batches() if b.num_rows]
            for trace_id in trace_ids:
                self._first_seen.pop(trace_id, None)
        if spans.num_rows == 0:
            return
        unique = pc.unique(spans.column("TraceId"))
        traces = Traces(spans, unique, pc.index_in(spans.column("TraceId"), unique))
        keep = self.decide(traces)
        kept_ids = pc.filter(unique, pa.array(keep))
        self._sampled.add(kept_ids)
        self._dropped.add(pc.filter(unique, pa.array(~keep)))
        kept = spans.filter(pc.is_in(spans.column("TraceId"), kept_ids))
        if kept.num_rows:
            self._emit(kept.combine_chunks().to_batches()[0])

    def decide(self, traces: Traces) -> np.ndarray:
        """contrib's rule: a matching drop policy drops; else any sampling policy keeps."""
        sampled = np.zeros(len(traces.trace_ids), dtype=bool)
        dropped = np.zeros(len(traces.trace_ids), dtype=bool)
        for policy in self.config.policies:
            state = self._policy_state.setdefault(policy.get("name", policy["type"]), {})
            result = evaluate(policy, traces, state)
            if policy["type"] == "drop":
                dropped |= result
            else:
                sampled |= result
        return sampled & ~dropped

    def _emit(self, batch: pa.RecordBatch) -> None:
        """Queue sampled spans for the next stage. They were acknowledged long ago, so a refusal
        must not lose them: the deliverer retries retryable refusals (and consume refuses new
        data while too many wait); only a permanent failure, or a stop that cannot deliver
        within SHUTDOWN_RETRY_S, drops them (logged, `summitcol_processor_tail_sampling_dropped_spans`)."""
        self._outbox.append(batch)
        self._outbox_spans += batch.num_rows
        self._outbox_ready.set()
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.get_running_loop().create_task(self._deliver())

    async def _deliver(self) -> None:
        while True:
            await self._outbox_ready.wait()
            while self._outbox:
                batch = self._outbox[0]
                what = f"{self.label}: {batch.num_rows} sampled spans"
                try:
                    await consume_retrying(self.next_consumer, SignalData(Signal.TRACES, {SPANS: batch}), lambda: self._stop_by, log, what)
                except PartialRejectionError:
                    pass  # the next stage took the rest and counted what it rejected
                except RetryableError as exc:  # still refused when the stop's time ran out
                    self._drop_outbox(exc)
                    break
                except Exception as exc:
                    log.error("%s: the next stage failed on %d sampled spans", self.label, batch.num_rows, exc_info=exc)
                    self._lost(batch.num_rows, exc)
                else:
                    self.settings.telemetry.processor_items("outgoing", self.label, Signal.TRACES, batch.num_rows)
                self._outbox.popleft()
                self._outbox_spans -= batch.num_rows
            if self._stop_by is not None:
                return
            self._outbox_ready.clear()

    def _drop_outbox(self, error: BaseException) -> None:
        self._lost(self._outbox_spans, error)
        self._outbox.clear()
        self._outbox_spans = 0

    def _lost(self, spans: int, error: BaseException) -> None:
        self.settings.telemetry.count_plain("summitcol_processor_tail_sampling_dropped_spans", spans, processor=self.label)
        log.error("%s: %d acknowledged sampled spans could not be delivered and are dropped: %s", self.label, spans, error)

    async def shutdown(self) -> None:
        """Decide every pending trace, then deliver what waits (retrying for up to SHUTDOWN_RETRY_S)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self._decide(list(self._first_seen))
        self._stop_by = asyncio.get_running_loop().time() + SHUTDOWN_RETRY_S
        self._outbox_ready.set()
        if self._deliverer is not None:
            await self._deliverer


def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> TailSampler:
    return TailSampler(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="tail_sampling",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES}),
    stability=Stability.ALPHA,
    description="keeps or drops whole traces after decision_wait, by policies evaluated column-wise",
    single_process="every span of a trace must reach the same process (put a loadbalancing exporter in front to scale it)",
)
