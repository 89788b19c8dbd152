"""Training and evaluating the grouping model on a labelled corpus (tests/data/errors/).

A corpus is JSON lines (gzip allowed), one exception per line, as the SDKs record them
(`type`, `message`, `stacktrace`, `sdk_language`, `service`, `release`), labelled with the true
bug (`group`) and a `split` (train / test: whole groups held out, so the evaluation measures
bugs the model never saw).

Both use the grouping exactly as the processor runs it: events arrive in a fixed order, each new
fingerprint is compared with its index candidates and joins or founds a group. Training pairs
are those comparisons, labelled by whether the two fingerprints are the same true bug, plus
every same-bug pair of fingerprints (so a call path the index did not surface still teaches).
Scores are pairwise over events: precision = pairs put together that belong together / pairs
put together; recall = … / pairs that belong together.
"""

from __future__ import annotations

import gzip
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from summitcol.errors.features import Profile, comparable, features
from summitcol.errors.fingerprint import fingerprint
from summitcol.errors.grouping import Grouper
from summitcol.errors.index import CandidateIndex
from summitcol.errors.model import DEFAULT_THRESHOLD, PairModel
from summitcol.errors.normalize import InAppRules
from summitcol.errors.parsers import parse

ORDER_SEED = 20261203


@dataclass(frozen=True, slots=True)
class Labelled:
    group: str
    split: str
    profile: Profile
    event: dict = field(default_factory=dict, compare=False, repr=False)  # type: ignore[type-arg]  # the corpus line


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    groups: int
    true_groups: int
    events: int


def load_corpus(path: str | Path) -> list[dict]:  # type: ignore[type-arg]
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return [orjson.loads(line) for line in raw.splitlines() if line.strip()]


def label(events: Iterable[dict], in_app: InAppRules = InAppRules()) -> list[Labelled]:  # type: ignore[type-arg]  # noqa: B008
    """Each event fingerprinted as the processor would, in a fixed shuffled arrival order."""
    out = []
    for event in events:
        parsed = parse(event.get("stacktrace", ""), language=event.get("sdk_language") or None,
                       exc_type=event.get("type", ""), message=event.get("message", ""))
        item = fingerprint(parsed, in_app=in_app)
        out.append(Labelled(event["group"], event.get("split", "train"), Profile.of(item, event.get("service", "")), event))
    random.Random(ORDER_SEED).shuffle(out)
    return out


def _majority(items: Sequence[Labelled]) -> dict[str, str]:
    """Fingerprint → its most common true group (a fingerprint shared by two bugs is a
    fingerprint-level merge the model cannot undo; the evaluation still counts it)."""
    votes: dict[str, Counter[str]] = {}
    for item in items:
        votes.setdefault(item.profile.fingerprint, Counter())[item.group] += 1
    return {fp: counter.most_common(1)[0][0] for fp, counter in votes.items()}


def training_pairs(items: Sequence[Labelled]) -> tuple[np.ndarray, np.ndarray]:
    truth = _majority(items)
    index = CandidateIndex()
    rows: list[list[float]] = []
    labels: list[int] = []
    seen: dict[str, Profile] = {}
    for item in items:
        profile = item.profile
        if profile.fingerprint in seen:
            continue
        for candidate in (c for c in index.candidates(profile) if comparable(profile, c)):
            rows.append(features(profile, candidate))
            labels.append(int(truth[profile.fingerprint] == truth[candidate.fingerprint]))
        index.add(profile)
        seen[profile.fingerprint] = profile
    by_group: dict[str, list[Profile]] = {}
    for fp, profile in seen.items():
        by_group.setdefault(truth[fp], []).append(profile)
    for members in by_group.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                rows.append(features(a, b))
                labels.append(1)
    return np.array(rows, dtype=np.float32), np.array(labels, dtype=np.float32)


def train(items: Sequence[Labelled], extra: tuple[np.ndarray, np.ndarray] | None = None) -> PairModel:
    rows, labels = training_pairs(items)
    if extra is not None and len(extra[0]):
        rows, labels = np.vstack([rows, extra[0]]), np.concatenate([labels, extra[1]])
    return PairModel.train(rows, labels)


def predict_groups(items: Sequence[Labelled], model: PairModel | None, threshold: float = DEFAULT_THRESHOLD) -> list[str]:
    grouper = Grouper(model, threshold)
    out = []
    for item in items:
        grouper.assign([item.profile])
        out.append(grouper.groups[item.profile.fingerprint])
    return out


def pairwise(truth: Sequence[str], predicted: Sequence[str]) -> Scores:
    def pairs(counts: Iterable[int]) -> int:
        return sum(n * (n - 1) // 2 for n in counts)

    together = pairs(Counter(zip(truth, predicted, strict=True)).values())
    predicted_pairs = pairs(Counter(predicted).values())
    true_pairs = pairs(Counter(truth).values())
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, len(set(predicted)), len(set(truth)), len(truth))


def evaluate(items: Sequence[Labelled], model: PairModel | None, threshold: float = DEFAULT_THRESHOLD) -> Scores:
    return pairwise([item.group for item in items], predict_groups(items, model, threshold))


def report(name: str, scores: Scores) -> str:
    return (f"{name:<18} precision {scores.precision:.4f}  recall {scores.recall:.4f}  F1 {scores.f1:.4f}  "
            f"groups {scores.groups} (true {scores.true_groups}) over {scores.events} events")
