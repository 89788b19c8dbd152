"""The grouping model (v0.1): an XGBoost classifier over pairwise features (features.py) giving the
probability that two fingerprints are the same bug.

The trained model ships in the package (`grouping-v0.1.json`, a few hundred kB, loaded at start;
nothing downloads). `summitcol errors train` rebuilds it from the corpus and the store's manual
merges/unmerges.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from summitcol.errors.features import FEATURE_NAMES, Profile, features

MODEL_VERSION = "v0.1"
MODEL_FILE = f"grouping-{MODEL_VERSION}.json"
DEFAULT_THRESHOLD = 0.5
TRAIN_PARAMS = {
    "objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 5, "eta": 0.2,
    "subsample": 0.9, "colsample_bytree": 0.9, "min_child_weight": 2, "seed": 7, "nthread": 1,
}
TRAIN_ROUNDS = 120


def builtin_model_path() -> Path:
    return Path(str(resources.files("summitcol.errors").joinpath(MODEL_FILE)))


class PairModel:
    def __init__(self, booster: object) -> None:
        self.booster = booster

    @classmethod
    def load(cls, path: str | Path | None = None) -> PairModel:
        import xgboost

        booster = xgboost.Booster(params={"nthread": 1})
        booster.load_model(str(path or builtin_model_path()))
        return cls(booster)

    @classmethod
    def train(cls, rows: np.ndarray, labels: np.ndarray, rounds: int = TRAIN_ROUNDS) -> PairModel:
        import xgboost

        matrix = xgboost.DMatrix(rows, label=labels, feature_names=list(FEATURE_NAMES))
        return cls(xgboost.train(TRAIN_PARAMS, matrix, num_boost_round=rounds))

    def save(self, path: str | Path) -> None:
        self.booster.save_model(str(path))  # type: ignore[attr-defined]

    def scores(self, pairs: Sequence[tuple[Profile, Profile]]) -> np.ndarray:
        """P(same bug) for each pair, in one prediction call."""
        if not pairs:
            return np.zeros(0)
        rows = np.array([features(a, b) for a, b in pairs], dtype=np.float32)
        # inplace_predict: building a DMatrix costs ~40 ms a call (its thread pool), this ~0.1 ms
        return self.booster.inplace_predict(rows, validate_features=False)  # type: ignore[attr-defined]
