"""Pairwise features for the grouping model: how alike two fingerprints' exceptions are.

A fingerprint is described by a `Profile` (what the decisions table keeps of its founding
event). The features follow the crash-deduplication literature (reference/grouping_pii.md §2):
frame-sequence similarity aligned from the crash frame with position weights (frames near the
crash matter most, as in TraceSim and FaST), the crash frame's equality, the exception type's,
and the message template's similarity; plus language and service. Everything is computed on
normalized tokens, so line numbers and paths never enter.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from summitcol.errors.fingerprint import Fingerprinted

MAX_FRAMES = 30  # kept per profile, crash side (Seer sends at most 30)
ALIGNED_FRAMES = 16  # aligned: the crash side decides, and the table grows with the square
_WORD = re.compile(r"<\w+>|\w+")

FEATURE_NAMES = (
    "same_type", "same_type_leaf", "same_crash", "same_crash_function", "same_crash_module",
    "same_language", "same_service", "template_equal", "template_jaccard", "template_affix", "template_ends",
    "suffix_len", "suffix_ratio", "weighted_alignment", "frame_jaccard", "len_a", "len_b", "len_diff",
    "no_frames",
)


@dataclass(frozen=True, slots=True)
class Profile:
    fingerprint: str
    language: str
    service: str
    exception_type: str
    template: str
    crash: str  # frame token `module-or-file:function`, "" without frames
    signature: tuple[str, ...]  # crash last
    tenant: str = ""  # "" for the default tenant: the model never joins two tenants' errors

    @classmethod
    def of(cls, item: Fingerprinted, service: str = "", tenant: str = "") -> Profile:
        return cls(item.fingerprint, item.language, service, item.exception_type, item.template,
                   item.crash_token, item.signature[-MAX_FRAMES:], tenant)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_WEIGHTS = [1.0 / (1.0 + i) ** 0.8 for i in range(MAX_FRAMES)]  # index 0 = the crash frame


def weighted_alignment(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """A position-weighted edit similarity (TraceSim's idea, without IDF): insertions, deletions
    and substitutions cost the weight of the frame's distance from the crash; 1 = identical.
    Plain floats: numpy's per-element overhead is larger than this 30×30 table."""
    x, y = a[::-1][:ALIGNED_FRAMES], b[::-1][:ALIGNED_FRAMES]
    if not x and not y:
        return 1.0
    wx, wy = _WEIGHTS[: len(x)], _WEIGHTS[: len(y)]
    previous = [0.0]
    for w in wy:
        previous.append(previous[-1] + w)
    for i, token in enumerate(x):
        wi = wx[i]
        current = [previous[0] + wi]
        for j, other in enumerate(y):
            sub = previous[j] + (0.0 if token == other else max(wi, wy[j]))
            current.append(min(previous[j + 1] + wi, current[j] + wy[j], sub))
        previous = current
    return 1.0 - previous[-1] / (sum(wx) + sum(wy))


def _leaf(exc_type: str) -> str:
    return re.split(r"[.$:/]", exc_type)[-1]


def _affix_ratio(a: str, b: str) -> float:
    """How much of the longer template a common prefix and suffix cover (difflib's ratio for the
    usual case of one parameter changing in the middle, at a fraction of its cost)."""
    if a == b:
        return 1.0
    longest = max(len(a), len(b))
    prefix = len(os.path.commonprefix([a, b]))
    suffix = len(os.path.commonprefix([a[prefix:][::-1], b[prefix:][::-1]]))
    return (prefix + suffix) / longest


def _ends(template: str) -> tuple[str, str]:
    """The first and last words: "checkout <x> failed" and "checkout n/ay failed" share them."""
    words = template.split()
    return (words[0], words[-1]) if words else ("", "")


def comparable(a: Profile, b: Profile) -> bool:
    """Whether the model may join `a` to `b` at all: two tenants', two exception types, or two
    languages' errors are never one bug (Sentry groups by type too). The type is compared by its last name, so
    `app.errors.StockError` (a span's) and `StockError` (a log record's) agree."""
    return a.tenant == b.tenant and a.language == b.language and _leaf(a.exception_type) == _leaf(b.exception_type)


def features(a: Profile, b: Profile) -> list[float]:
    sa, sb = a.signature, b.signature
    suffix = 0
    for x, y in zip(reversed(sa), reversed(sb), strict=False):
        if x != y:
            break
        suffix += 1
    crash_fn_a, crash_fn_b = a.crash.rsplit(":", 1)[-1], b.crash.rsplit(":", 1)[-1]
    crash_mod_a, crash_mod_b = a.crash.rsplit(":", 1)[0], b.crash.rsplit(":", 1)[0]
    return [
        float(a.exception_type == b.exception_type),
        float(_leaf(a.exception_type) == _leaf(b.exception_type)),
        float(bool(a.crash) and a.crash == b.crash),
        float(bool(crash_fn_a) and crash_fn_a == crash_fn_b),
        float(bool(crash_mod_a) and crash_mod_a == crash_mod_b),
        float(a.language == b.language),
        float(a.service == b.service),
        float(a.template == b.template),
        _jaccard(_words(a.template), _words(b.template)),
        _affix_ratio(a.template, b.template),
        float(_ends(a.template) == _ends(b.template)),
        float(suffix),
        suffix / max(1, min(len(sa), len(sb))),
        weighted_alignment(sa, sb),
        _jaccard(set(sa), set(sb)),
        float(len(sa)),
        float(len(sb)),
        float(abs(len(sa) - len(sb))),
        float(not sa or not sb),
    ]
