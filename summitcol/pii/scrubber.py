"""Scrub a whole string column with a set of PII detectors.

The work is sized by the PII present, not by the rows:

1. The column is dictionary-encoded (C++ hashing), so repeated values — most attribute values —
   are examined once.
2. One RE2 pass of all detectors' loose prefilters, combined into one alternation, over the
   distinct values (`pyarrow.compute.match_substring_regex`) finds the values that may hold PII.
3. For those values only, each detector in order: its own RE2 pass selects the values it
   touches; `replace` without a validator is an RE2 rewrite in C++; otherwise (validators such
   as Luhn and mod-97, `mask`, `hash`, `remove`) Python's `re` rewrites just those values.
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

from summitcol.pdata.values import bool_mask
from summitcol.pii.detectors import Detector

Action = Literal["replace", "mask", "hash", "remove"]
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
        self._any = "|".join(_re2_flags_free(rule.detector.prefilter or rule.detector.regex) for rule in self.rules)

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

    def _apply(self, rule: Rule, pattern: re.Pattern[str], texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """One detector over candidate texts: (new texts, which ones it matched)."""
        detector = rule.detector
        selected = bool_mask(pc.match_substring_regex(texts, detector.regex))
        hits = np.zeros(len(texts), dtype=bool)
        if not selected.any():
            return texts, hits
        python = selected.copy()
        if rule.action == "replace" and detector.rewrite:
            # C++ path: no validator, or only some values need it (`validate_only`).
            fast = selected.copy()
            if detector.validator is not None:
                if not detector.validate_only:
                    fast[:] = False
                else:
                    fast &= ~bool_mask(pc.match_substring_regex(texts, detector.validate_only))
            if fast.any():
                chosen = pa.array(fast)
                replaced = pc.replace_substring_regex(texts.filter(chosen), detector.regex, detector.rewrite)
                texts = pc.replace_with_mask(texts, chosen, replaced)
                hits |= fast
            python &= ~fast
        if python.any():
            positions = np.flatnonzero(python)
            current = texts.take(pa.array(positions)).to_pylist()
            rewritten = []
            for i, text in zip(positions.tolist(), current, strict=True):
                new_text, hit = self._rewrite(rule, pattern, text)
                hits[i] = hit
                rewritten.append(new_text)
            texts = pc.replace_with_mask(texts, pa.array(python), pa.array(rewritten, pa.string()))
        return texts, hits

    def scrub(self, values: pa.Array | pa.ChunkedArray) -> ScrubResult:
        n = len(values)
        nothing = np.zeros(n, dtype=bool)
        if not self.rules or n == 0:
            return ScrubResult(values, nothing, nothing, {})
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        distinct, indices = encoded.dictionary, encoded.indices
        candidates = np.flatnonzero(bool_mask(pc.match_substring_regex(distinct, self._any)))
        if len(candidates) == 0:
            return ScrubResult(values, nothing, nothing, {})
        original = distinct.take(pa.array(candidates))
        texts = original
        removed = np.zeros(len(candidates), dtype=bool)
        hit_by: dict[str, np.ndarray] = {}
        for rule, pattern in zip(self.rules, self._compiled, strict=True):
            texts, hits = self._apply(rule, pattern, texts)
            if hits.any():
                hit_by[rule.detector.name] = hits
                if rule.action == "remove":
                    removed |= hits
        changed = bool_mask(pc.not_equal(texts, original))
        if not changed.any() and not removed.any():
            return ScrubResult(values, nothing, nothing, {})
        changed_distinct = np.zeros(len(distinct), dtype=bool)
        changed_distinct[candidates] = changed
        removed_distinct = np.zeros(len(distinct), dtype=bool)
        removed_distinct[candidates] = removed
        new_distinct = pc.replace_with_mask(distinct, pa.array(changed_distinct), texts.filter(pa.array(changed)))
        idx = indices.to_numpy(zero_copy_only=False)
        row_hits = {}
        for name, hits in hit_by.items():
            per_distinct = np.zeros(len(distinct), dtype=bool)
            per_distinct[candidates] = hits
            row_hits[name] = int(per_distinct[idx].sum())
        return ScrubResult(pc.take(new_distinct, indices), changed_distinct[idx], removed_distinct[idx], row_hits)
