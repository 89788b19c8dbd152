"""The `probabilistic_sampler` processor for traces, deciding like contrib's for the same trace ids.

Modes (contrib's keys and defaults):

* `hash_seed`: FNV-1a over the seed and the trace id, 14-bit buckets: a span is kept when
  `hash & 0x3FFF < uint32(float32(pct) × 163.84)` — the same decision as contrib for the same
  trace id and seed, so mixed fleets keep whole traces. Kept spans get `ot=rv:…;th:…`.
* `proportional` (default) / `equalizing`: W3C trace-context randomness (the trace id's last 7
  bytes, or an incoming `rv`), and the threshold written into `tracestate` as `ot=th:…`;
  proportional multiplies an incoming threshold's probability, equalizing sets it absolutely.

`sampling.priority` (an attribute > 0 keeps, = 0 drops) overrides the decision. Summit addition:
`overrides: [{match: {resource: {<key>: <regex>}}, sampling_percentage: N}]`, first match wins,
so "100% for internal tenants, 10% otherwise" is a few lines. Spans whose tracestate cannot be
used (malformed, or with `rv`/`th` in hash_seed mode, or an inconsistent `th`) are dropped, as
contrib does. Everything is computed on whole columns; only rows that arrive with a non-empty
tracestate are parsed one by one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.component import Consumer, CreateSettings, Factory, Kind, Processor, Signal, Stability
from summitcol.exceptions import ConfigError
from summitcol.pdata.attrmap import append_attribute
from summitcol.pdata.signal import LOGS, SPANS, SignalData
from summitcol.pdata.values import lookup_attribute, numeric_attribute
from summitcol.sampling import threshold as th
from summitcol.sampling.tracestate import parse_element
from summitcol.sampling.vectorized import fnv1a32_seeded, hex14, id_bytes, w3c_randomness

log = logging.getLogger("summitcol.processor.probabilistic_sampler")

NUM_HASH_BUCKETS = 0x4000
PERCENTAGE_SCALE = np.float32(NUM_HASH_BUCKETS / 100.0)
PRIORITY_KEY = "sampling.priority"


@dataclass(frozen=True, kw_only=True, slots=True)
class OverrideMatch:
    resource: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Override:
    match: OverrideMatch = field(default_factory=OverrideMatch)
    sampling_percentage: float = 100.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    sampling_percentage: float = 0.0
    hash_seed: int = 0
    mode: Literal["", "hash_seed", "proportional", "equalizing"] = ""
    sampling_precision: int = 4
    fail_closed: bool = True
    attribute_source: Literal["traceID", "record"] = "traceID"
    from_attribute: str = ""
    sampling_priority: str = ""
    overrides: list[Override] = field(default_factory=list)

    def validate(self) -> None:
        for pct in [self.sampling_percentage, *(o.sampling_percentage for o in self.overrides)]:
            if not np.isfinite(pct) or pct < 0:
                raise ConfigError(f"sampling_percentage must be a number from 0 to 100, got {pct}")
        if not 1 <= self.sampling_precision <= 14:
            raise ConfigError("sampling_precision must be between 1 and 14")
        if not 0 <= self.hash_seed <= 0xFFFFFFFF:
            raise ConfigError("hash_seed must fit in 32 bits")
        if not self.fail_closed:
            raise ConfigError("fail_closed: false is not supported yet; spans whose tracestate cannot be used are dropped")
        if self.attribute_source == "record" and not self.from_attribute:
            raise ConfigError("attribute_source: record needs from_attribute, the log attribute to hash")
        for override in self.overrides:
            if not override.match.resource:
                raise ConfigError("overrides: each entry needs match: {resource: {<key>: <regex>}}")

    def effective_mode(self) -> str:
        if self.mode:
            return self.mode
        return "hash_seed" if self.hash_seed else "proportional"


def _fnv1a_element(data: bytes) -> int:
    """FNV-1a 32 of one distinct attribute value (values are hashed once per batch, not per row)."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _tvalues(thresholds: np.ndarray) -> pa.Array:
    """The W3C `th` value of each threshold (computed once per distinct threshold)."""
    unique, inverse = np.unique(thresholds, return_inverse=True)
    return pc.take(pa.array([th.tvalue(int(t)) for t in unique], pa.string()), pa.array(inverse))


class ProbabilisticSampler(Processor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        self.settings = settings
        self.config = config
        self.next_consumer = next_consumer
        self.label = str(settings.id)
        self.mode = config.effective_mode()

    def _percentages(self, batch: pa.RecordBatch) -> np.ndarray:
        pct = np.full(batch.num_rows, min(self.config.sampling_percentage, 100.0), dtype=np.float64)
        decided = np.zeros(batch.num_rows, dtype=bool)
        resources = batch.column("ResourceAttributes")
        for override in self.config.overrides:
            matched = np.ones(batch.num_rows, dtype=bool)
            for key, pattern in override.match.resource.items():
                _, text = lookup_attribute(resources, key)
                hit = pc.fill_null(pc.match_substring_regex(text, f"^(?:{pattern})$"), False)
                matched &= hit.to_numpy(zero_copy_only=False)
            chosen = matched & ~decided
            pct[chosen] = min(override.sampling_percentage, 100.0)
            decided |= matched
        return pct

    def _priorities(self, batch: pa.RecordBatch) -> np.ndarray:
        """+1 keep, -1 drop, 0 let the sampler decide (contrib's parseSpanSamplingPriority)."""
        values = numeric_attribute(batch.column("SpanAttributes"), PRIORITY_KEY)
        priority = np.zeros(batch.num_rows, dtype=np.int8)
        priority[values > 0] = 1
        priority[values == 0] = -1
        return priority

    def sample(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        n = batch.num_rows
        pct = self._percentages(batch)
        priority = self._priorities(batch)
        ids, valid = id_bytes(batch.column("TraceId"), 16)
        states = batch.column("TraceState")
        has_state = pc.not_equal(states, "").to_numpy(zero_copy_only=False)
        thresholds = np.zeros(n, dtype=np.uint64)  # every threshold fits: at most 2**56 (never sample)
        rvalues: pa.Array | None = None
        if self.mode == "hash_seed":
            hashes = fnv1a32_seeded(ids, self.config.hash_seed)
            hashed = (hashes & np.uint32(NUM_HASH_BUCKETS - 1)).astype(np.uint64)
            scaled = (pct.astype(np.float32) * PERCENTAGE_SCALE).astype(np.uint32).astype(np.uint64)
            sampled = hashed < scaled
            unused = (hashes >> np.uint32(14)).astype(np.uint64)
            rnd = ((np.uint64(NUM_HASH_BUCKETS - 1) - hashed) << np.uint64(42)) | ((unused ^ (unused << np.uint64(10))) << np.uint64(14)) | hashed
            rvalues = hex14(rnd)
            for value in np.unique(scaled):
                thresholds[scaled == value] = (NUM_HASH_BUCKETS - int(value)) << 42 if value else th.NEVER_SAMPLE
            usable = np.ones(n, dtype=bool)
            for row in np.flatnonzero(has_state):  # tracestate rows only: rv/th present → contrib refuses
                state = parse_element(states[int(row)].as_py())
                usable[row] = state is not None and not state.rvalue and not state.tvalue
            sampled &= usable
        else:
            rnd = w3c_randomness(ids)
            incoming = np.full(n, -1, dtype=np.int64)
            usable = valid & ids.any(axis=1)
            for row in np.flatnonzero(has_state):
                state = parse_element(states[int(row)].as_py())
                if state is None:
                    usable[row] = False
                    continue
                if state.randomness is not None:
                    rnd[row] = state.randomness
                if state.threshold is not None:
                    if int(rnd[row]) < state.threshold:  # inconsistent arriving t-value
                        usable[row] = False
                    incoming[row] = state.threshold
            ratio = np.maximum(pct / 100.0, th.MIN_PROBABILITY)
            for value in np.unique(ratio):  # a few distinct (ratio, incoming) pairs per batch
                at_ratio = ratio == value
                for arriving in np.unique(incoming[at_ratio]):
                    thresholds[at_ratio & (incoming == arriving)] = self._threshold(float(value), int(arriving))
            sampled = usable & (rnd >= thresholds)
            sampled[pct == 0] = False
        keep = (priority == 1) | ((priority == 0) & sampled)
        thresholds[priority == 1] = th.ALWAYS_SAMPLE  # a forced keep carries th:0, as in contrib
        if not keep.any():
            return batch.slice(0, 0)
        mask = pa.array(keep)
        kept = batch.filter(mask)
        new_states = self._tracestates(
            pc.filter(states, mask), thresholds[keep], has_state[keep],
            pc.filter(rvalues, mask) if rvalues is not None else None,
        )
        return kept.set_column(kept.schema.get_field_index("TraceState"), kept.schema.field("TraceState"), new_states)

    def sample_logs(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Logs: randomness from the trace id (`attribute_source: traceID`) or from hashing the
        `from_attribute` value (`record`); the decision is written as `sampling.threshold`."""
        n = batch.num_rows
        pct = self._percentages(batch)
        if self.config.sampling_priority:  # a numeric attribute overriding the percentage per record
            values = numeric_attribute(batch.column("LogAttributes"), self.config.sampling_priority)
            chosen = ~np.isnan(values)
            pct[chosen] = np.clip(values[chosen], 0, 100)
        if self.config.attribute_source == "record":
            _, text = lookup_attribute(batch.column("LogAttributes"), self.config.from_attribute)
            present = pc.is_valid(text).to_numpy(zero_copy_only=False)
            filled = pc.fill_null(text, "")
            unique = pc.unique(filled)
            seed = self.config.hash_seed.to_bytes(4, "little")
            table = np.array([_fnv1a_element(seed + v.encode()) for v in unique.to_pylist()], dtype=np.uint32)
            hashes = table[pc.index_in(filled, unique).to_numpy(zero_copy_only=False)]
        else:
            ids, present = id_bytes(batch.column("TraceId"), 16)
            hashes = fnv1a32_seeded(ids, self.config.hash_seed)
            if self.mode != "hash_seed":
                present = present & ids.any(axis=1)
        if self.mode == "hash_seed" or self.config.attribute_source == "record":
            hashed = (hashes & np.uint32(NUM_HASH_BUCKETS - 1)).astype(np.uint64)
            scaled = (pct.astype(np.float32) * PERCENTAGE_SCALE).astype(np.uint32).astype(np.uint64)
            keep = present & (hashed < scaled)
            thresholds = np.where(scaled > 0, (np.uint64(NUM_HASH_BUCKETS) - scaled) << np.uint64(42), np.uint64(th.NEVER_SAMPLE))
        else:
            rnd = w3c_randomness(ids)
            ratio = np.maximum(pct / 100.0, th.MIN_PROBABILITY)
            thresholds = np.zeros(n, dtype=np.uint64)
            for value in np.unique(ratio):
                thresholds[ratio == value] = self._threshold(float(value), -1)
            keep = present & (rnd >= thresholds) & (pct > 0)
        if not keep.any():
            return batch.slice(0, 0)
        kept = batch.filter(pa.array(keep))
        tvalues = _tvalues(thresholds[keep])
        return kept.set_column(
            kept.schema.get_field_index("LogAttributes"),
            kept.schema.field("LogAttributes"),
            append_attribute(kept.column("LogAttributes"), "sampling.threshold", tvalues),
        )

    def _threshold(self, ratio: float, incoming: int) -> int:
        if self.mode == "equalizing":
            value = th.probability_to_threshold(ratio, self.config.sampling_precision)
        else:
            probability = ratio * (th.threshold_probability(incoming) if incoming >= 0 else 1.0)
            value = th.probability_to_threshold(probability, self.config.sampling_precision)
        return th.NEVER_SAMPLE if value is None else value

    def _tracestates(self, states: pa.Array, thresholds: np.ndarray, has_state: np.ndarray, rvalues: pa.Array | None) -> pa.Array:
        """`ot=th:…` (and `rv:…` in hash_seed mode) on the kept spans."""
        per_row = _tvalues(thresholds)
        if rvalues is not None:
            fresh = pc.binary_join_element_wise("ot=rv:", rvalues, ";th:", per_row, "")
        else:
            fresh = pc.binary_join_element_wise("ot=th:", per_row, "")
        if not has_state.any():
            return fresh
        merged = fresh.to_pylist()
        originals = states.to_pylist()
        for row in np.flatnonzero(has_state):  # rows that arrived with a tracestate
            state = parse_element(originals[row])
            if state is None:
                continue
            if rvalues is not None and not state.rvalue:
                state.rvalue = rvalues[int(row)].as_py()
            current = state.threshold
            if current is None or current <= int(thresholds[row]):
                state.set_threshold(int(thresholds[row]))
            merged[row] = state.serialize()
        return pa.array(merged, pa.string())

    async def consume(self, data: SignalData) -> None:
        if data.signal is Signal.LOGS and data.tables.get(LOGS) is not None:
            batch = data.tables[LOGS]
            self.settings.telemetry.processor_items("incoming", self.label, data.signal, batch.num_rows)
            kept = await asyncio.to_thread(self.sample_logs, batch)
            self.settings.telemetry.processor_items("outgoing", self.label, data.signal, kept.num_rows)
            out = data.with_tables({LOGS: kept})
            if not out.empty():
                await self.next_consumer.consume(out)
            return
        batch = data.tables.get(SPANS)
        if data.signal is not Signal.TRACES or batch is None or batch.num_rows == 0:
            await self.next_consumer.consume(data)
            return
        self.settings.telemetry.processor_items("incoming", self.label, data.signal, batch.num_rows)
        kept = await asyncio.to_thread(self.sample, batch)
        self.settings.telemetry.processor_items("outgoing", self.label, data.signal, kept.num_rows)
        out = data.with_tables({**data.tables, SPANS: kept})
        if not out.empty():
            await self.next_consumer.consume(out)


def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> ProbabilisticSampler:
    return ProbabilisticSampler(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="probabilistic_sampler",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES, Signal.LOGS}),
    stability=Stability.ALPHA,
    description="consistent probability sampling of traces and logs (hash_seed, proportional, equalizing) with per-resource overrides",
)
