"""Where a new fingerprint's candidates come from, so that deciding costs the same with ten groups
or a million: known fingerprints bucketed by crash frame and by MinHash/LSH bands over their
frames (by language and exception type when they have no frames) (reference/grouping_pii.md §2: DeepLSH, ANN retrieval).

Hashes are CRC32s (deterministic in every process: the same state gives every worker the same
candidates, hence the same decision). A bucket keeps its MAX_BUCKET newest entries.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict

from summitcol.errors.features import ALIGNED_FRAMES, Profile

MINHASH_SEEDS = tuple(range(1, 9))  # 8 hashes …
BAND = 2  # … in 4 bands of 2
MAX_BUCKET = 32
MAX_CANDIDATES = 12


def minhash_bands(signature: tuple[str, ...]) -> list[int]:
    tokens = [token.encode() for token in set(signature[-ALIGNED_FRAMES:])]
    if not tokens:
        return []
    mins = [min(zlib.crc32(token, seed) for token in tokens) for seed in MINHASH_SEEDS]
    return [zlib.crc32(repr(mins[i : i + BAND]).encode(), i) for i in range(0, len(mins), BAND)]


class CandidateIndex:
    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}
        self._buckets: dict[tuple[object, ...], OrderedDict[str, None]] = {}

    def __len__(self) -> int:
        return len(self.profiles)

    def _keys(self, profile: Profile) -> list[tuple[object, ...]]:
        """A trace with frames is found by its crash frame and its frames' bands; one without, by
        its type (an exception type alone, among thousands of traces, is no candidate worth scoring)."""
        if not profile.crash:
            return [("type", profile.language, profile.exception_type)]
        keys: list[tuple[object, ...]] = [("crash", profile.language, profile.crash)]
        keys.extend(("lsh", profile.language, band) for band in minhash_bands(profile.signature))
        return keys

    def add(self, profile: Profile) -> None:
        if profile.fingerprint in self.profiles:
            return
        self.profiles[profile.fingerprint] = profile
        for key in self._keys(profile):
            bucket = self._buckets.setdefault(key, OrderedDict())
            bucket[profile.fingerprint] = None
            if len(bucket) > MAX_BUCKET:
                bucket.popitem(last=False)

    def candidates(self, profile: Profile) -> list[Profile]:
        """Known fingerprints sharing a bucket with `profile`: crash-frame matches first."""
        seen: dict[str, None] = {}
        for key in sorted(self._keys(profile), key=lambda k: {"crash": 0, "type": 1, "lsh": 2}[str(k[0])]):
            for fingerprint in reversed(self._buckets.get(key, {})):
                if fingerprint != profile.fingerprint:
                    seen.setdefault(fingerprint, None)
                if len(seen) >= MAX_CANDIDATES:
                    break
            if len(seen) >= MAX_CANDIDATES:
                break
        return [self.profiles[fp] for fp in seen]
