"""The grouping on the corpus's held-out split (whole bug families the built-in model never saw):
the issue's floors, every variation kept together and every near miss kept apart, per language.
`summitcol errors evaluate` prints the same figures (README, Error tracking)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from summitcol.errors import evaluate as ev
from summitcol.errors.model import PairModel

CORPUS = Path(__file__).parent.parent / "data" / "errors" / "corpus.jsonl.gz"


@pytest.fixture(scope="module")
def held_out():  # type: ignore[no-untyped-def]
    labelled = ev.label(e for e in ev.load_corpus(CORPUS) if e["split"] == "test")
    return labelled, ev.predict_groups(labelled, PairModel.load())


def test_floors_on_the_held_out_split(held_out) -> None:  # type: ignore[no-untyped-def]
    labelled, predicted = held_out
    scores = ev.pairwise([item.group for item in labelled], predicted)
    fingerprints_only = ev.evaluate(labelled, None)
    assert scores.precision >= 0.99 and scores.f1 >= 0.95, ev.report("model", scores)
    assert fingerprints_only.precision >= 0.99  # the fingerprint alone never over-merges
    assert scores.recall > fingerprints_only.recall  # the call paths the fingerprint splits, the model joins
    assert scores.true_groups >= 12 and scores.events >= 300


def test_each_variation_stays_in_its_group_per_language(held_out) -> None:  # type: ignore[no-untyped-def]
    labelled, predicted = held_out
    seen: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for item, group in zip(labelled, predicted, strict=True):
        event = item.event
        for variation in event["variation"].split(","):
            seen[(event["language"], variation)].add((item.group, group))
    assert {lang for lang, _ in seen} == {"python", "node", "java"}
    kinds = {v for _, v in seen}
    assert {"params", "release", "call-path", "tempdir", "host"} <= kinds
    split = {key: sorted(pairs) for key, pairs in seen.items() if len({g for g, _ in pairs}) != len(pairs)}
    assert split == {}, f"bugs split over several groups, by (language, variation): {split}"
    one_group = defaultdict(set)
    for item, group in zip(labelled, predicted, strict=True):
        one_group[item.group].add(group)
    assert {bug: groups for bug, groups in one_group.items() if len(groups) > 1} == {}


def test_near_misses_stay_apart_per_language(held_out) -> None:  # type: ignore[no-untyped-def]
    labelled, predicted = held_out
    families: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for item, group in zip(labelled, predicted, strict=True):
        families[item.event["family"]][item.group].add(group)
    near_misses = {family: bugs for family, bugs in families.items() if len(bugs) > 1}
    assert {f.split("-")[0] for f in near_misses} == {"py", "js", "java"}  # every language has some held out
    for family, bugs in near_misses.items():
        groups = [g for groups in bugs.values() for g in groups]
        assert len(groups) == len(set(groups)), f"{family}: near misses share a group: {dict(bugs)}"


def test_an_independent_corpus_the_model_never_saw() -> None:
    """Another author's programs and bugs (tests/data/errors_independent/): every event is unseen."""
    labelled = ev.label(ev.load_corpus(Path(__file__).parent.parent / "data" / "errors_independent" / "corpus.jsonl.gz"))
    scores = ev.evaluate(labelled, PairModel.load())
    fingerprints_only = ev.evaluate(labelled, None)
    assert scores.precision >= 0.99 and scores.f1 >= 0.95, ev.report("model", scores)
    assert fingerprints_only.precision >= 0.99 and scores.recall > fingerprints_only.recall
    assert scores.true_groups >= 40 and scores.events >= 1000


def test_the_shipped_model_is_what_training_on_the_corpus_gives() -> None:
    """`summitcol errors train` on the committed corpus reproduces the shipped model (same scores):
    a change to the features or the corpus without retraining fails here."""
    import numpy as np

    training = [item for item in ev.label(ev.load_corpus(CORPUS)) if item.split == "train"]
    rows, _ = ev.training_pairs(training)
    fresh = ev.train(training)
    shipped = PairModel.load()
    assert np.allclose(fresh.booster.inplace_predict(rows), shipped.booster.inplace_predict(rows), atol=1e-6)
