"""Scrub a whole string column with a set of PII detectors.

The work is sized by the PII present, not by the rows:

1. The column is dictionary-encoded (C++ hashing), so repeated values — most attribute values —
   are examined once.
2. One RE2 pass of all detectors' regexes, combined into one alternation, over the distinct
   values (`pyarrow.compute.match_substring_regex`) finds the values that may hold PII; in
   real telemetry that is a small fraction.
3. For those values only, each detector in order: its own RE2 pass selects the values it may
   touch, and Python's `re` rewrites them with its validator (Luhn, mod-97 …) and action.
4. The rewritten distinct values are put back with one `take`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.pii.detectors import Detector

Action = Literal["replace", "mask", "hash", "remove"]
ACTIONS = ("replace", "mask", "hash", "remove")
_MARKER = re.compile(r"\[[a-z0-9_]+\]")


@dataclass(frozen=True, slots=True)
class Rule:
    detector: Detector
    action: Action


@dataclass(frozen=True, slots=True)
class ScrubResult:
    values: pa.Array
    changed: np.ndarray  # bool per row: some detector rewrote the value
    remove: np.ndarray  # bool per row: a detector with action `remove` matched
    hits: dict[str, int]  # detector name → number of rows it matched


def _re2_flags_free(regex: str) -> str:
    """RE2 accepts `(?i)` only at the start of a group; wrap each alternative in its own group."""
    return f"(?:{regex})"


class Scrubber:
    def __init__(self, rules: Sequence[Rule], hasher: Callable[[str], str]) -> None:
        self.rules = list(rules)
        self.hasher = hasher
        self._compiled = [rule.detector.compiled() for rule in self.rules]
        self._any = "|".join(_re2_flags_free(rule.detector.regex) for rule in self.rules)

    def _replacement(self, rule: Rule, secret: str) -> str:
        if rule.action == "replace":
            return f"[{rule.detector.name}]"
        if rule.action == "mask":
            return "*" * len(secret)
        if rule.action == "hash":
            return self.hasher(secret)
        return ""

    def _rewrite(self, rule: Rule, pattern: re.Pattern[str], text: str) -> tuple[str, bool]:
        detector = rule.detector
        hit = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal hit
            if detector.validator is not None and not detector.validator(text, match):
                return match.group(0)
            whole = match.group(0)
            secret = match.group(detector.group)
            if _MARKER.fullmatch(secret):
                return whole  # an earlier detector's `[name]` is not a secret
            hit = True
            if not detector.group:
                return self._replacement(rule, whole)
            start, end = match.start(detector.group) - match.start(0), match.end(detector.group) - match.start(0)
            return whole[:start] + self._replacement(rule, secret) + whole[end:]

        return pattern.sub(substitute, text), hit

    def scrub(self, values: pa.Array | pa.ChunkedArray) -> ScrubResult:
        n = len(values)
        nothing = np.zeros(n, dtype=bool)
        if not self.rules or n == 0:
            return ScrubResult(values, nothing, nothing, {})
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        distinct, indices = encoded.dictionary, encoded.indices
        maybe = pc.match_substring_regex(distinct, self._any).to_numpy(zero_copy_only=False)
        candidates = np.flatnonzero(maybe)
        if len(candidates) == 0:
            return ScrubResult(values, nothing, nothing, {})
        texts: list[str] = distinct.take(pa.array(candidates)).to_pylist()
        changed = np.zeros(len(texts), dtype=bool)
        removed = np.zeros(len(texts), dtype=bool)
        hit_by: dict[str, np.ndarray] = {}
        current = pa.array(texts, pa.string())
        for rule, pattern in zip(self.rules, self._compiled, strict=True):
            selected = np.flatnonzero(pc.match_substring_regex(current, rule.detector.regex).to_numpy(zero_copy_only=False))
            if len(selected) == 0:
                continue
            hits = np.zeros(len(texts), dtype=bool)
            for i in selected:
                rewritten, hit = self._rewrite(rule, pattern, texts[i])
                if hit:
                    hits[i] = True
                    if rewritten != texts[i]:
                        texts[i] = rewritten
                        changed[i] = True
            if hits.any():
                hit_by[rule.detector.name] = hits
                if rule.action == "remove":
                    removed |= hits
                current = pa.array(texts, pa.string())
        if not changed.any() and not removed.any():
            return ScrubResult(values, nothing, nothing, {})
        changed_distinct = np.zeros(len(distinct), dtype=bool)
        changed_distinct[candidates] = changed
        removed_distinct = np.zeros(len(distinct), dtype=bool)
        removed_distinct[candidates] = removed
        new_distinct = pc.replace_with_mask(distinct, pa.array(changed_distinct), pa.array([t for t, c in zip(texts, changed, strict=True) if c], pa.string()))
        idx = indices.to_numpy(zero_copy_only=False)
        row_hits = {}
        for name, hits in hit_by.items():
            per_distinct = np.zeros(len(distinct), dtype=bool)
            per_distinct[candidates] = hits
            row_hits[name] = int(per_distinct[idx].sum())
        return ScrubResult(pc.take(new_distinct, indices), changed_distinct[idx], removed_distinct[idx], row_hits)
