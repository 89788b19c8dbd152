"""Fingerprint → group: known fingerprints keep their group; a new one joins the group of its most
similar known fingerprint when the model says they are the same bug, else founds a group.

The `Grouper` is in-memory and needs no store (the evaluation runs it over a corpus); the
processor feeds it the store's decisions (`learn`) and writes back the ones it makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from summitcol.errors.features import Profile, comparable
from summitcol.errors.index import CandidateIndex
from summitcol.errors.model import DEFAULT_THRESHOLD, PairModel
from summitcol.errors.store import group_id_for


@dataclass(frozen=True, slots=True)
class Assignment:
    fingerprint: str
    group_id: str
    source: str  # "new" | "model" | "rule"
    score: float
    joined: str = ""  # the known fingerprint the model matched


class Grouper:
    def __init__(self, model: PairModel | None, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.model = model
        self.threshold = threshold
        self.index = CandidateIndex()
        self.groups: dict[str, str] = {}  # fingerprint → group
        self.manual: set[str] = set()  # fingerprints a person placed: automatic decisions never move them

    def known(self, fingerprint: str) -> str | None:
        return self.groups.get(fingerprint)

    def learn(self, fingerprint: str, group_id: str, profile: Profile | None, manual: bool) -> bool:
        """A decision made elsewhere (the store: another worker, a restart, a merge); True when it
        changed where the fingerprint goes."""
        before = self.groups.get(fingerprint)
        if manual:
            self.manual.add(fingerprint)
            self.groups[fingerprint] = group_id
        elif fingerprint not in self.manual and fingerprint not in self.groups:
            self.groups[fingerprint] = group_id
        if profile is not None:
            self.index.add(profile)
        return self.groups.get(fingerprint) != before

    def assign(self, profiles: Sequence[Profile], custom: Iterable[str] = ()) -> list[Assignment]:
        """Decide the new fingerprints among `profiles`, in order (a fingerprint decided earlier in
        the batch is a candidate for the later ones). Fingerprints set by a custom rule (or an
        SDK's fingerprint) found their own group and are no candidates for others; everything
        founds its own group when there is no model."""
        custom = set(custom)
        out: list[Assignment] = []
        for profile in profiles:
            if profile.fingerprint in self.groups:
                continue
            assignment = self._decide(profile, profile.fingerprint in custom)
            self.groups[profile.fingerprint] = assignment.group_id
            if profile.fingerprint not in custom:  # a group a rule or the SDK made takes no one else in
                self.index.add(profile)
            out.append(assignment)
        return out

    def _decide(self, profile: Profile, custom: bool) -> Assignment:
        own = Assignment(profile.fingerprint, group_id_for(profile.fingerprint), "rule" if custom else "new", 0.0)
        if self.model is None or custom:
            return own
        candidates = [c for c in self.index.candidates(profile) if c.fingerprint in self.groups and comparable(profile, c)]
        if not candidates:
            return own
        scores = self.model.scores([(profile, candidate) for candidate in candidates])
        best = int(scores.argmax())
        score = float(scores[best])
        if score < self.threshold:
            return Assignment(own.fingerprint, own.group_id, own.source, score)
        chosen = candidates[best].fingerprint
        return Assignment(profile.fingerprint, self.groups[chosen], "model", score, chosen)
