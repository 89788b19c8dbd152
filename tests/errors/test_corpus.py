"""The committed grouping corpus: its size and fields, every variation kind, both splits in every
language, and that regenerating a bug from its real program reproduces the committed lines."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from summitcol.errors.evaluate import load_corpus

DATA = Path(__file__).parent.parent / "data" / "errors"
FIELDS = {"id", "group", "family", "language", "sdk_language", "service", "release", "host", "variation", "split",
          "type", "message", "stacktrace"}


def test_size_fields_and_splits() -> None:
    events = load_corpus(DATA / "corpus.jsonl.gz")
    assert len(events) >= 1000 and all(set(e) == FIELDS for e in events)
    groups = Counter(e["group"] for e in events)
    assert len(groups) >= 40 and min(groups.values()) >= 12
    languages = defaultdict(set)
    for e in events:
        languages[e["group"]].add(e["language"])
    assert all(len(v) == 1 for v in languages.values())
    assert {(e["language"], e["split"]) for e in events} == {(lang, split) for lang in ("python", "node", "java") for split in ("train", "test")}
    families = defaultdict(set)
    for e in events:
        families[e["family"]].add(e["split"])
    assert all(len(splits) == 1 for splits in families.values())  # near misses never straddle the split
    kinds = {v for e in events for v in e["variation"].split(",")}
    assert kinds == {"params", "release", "call-path", "recursion", "tempdir", "host", "library-frames", "chained"}
    assert {e["release"] for e in events} == {"1.0.0", "1.1.0", "1.2.0"}


def test_regenerating_a_bug_reproduces_its_lines() -> None:
    bug = "py-stock-reserve"
    done = subprocess.run([sys.executable, str(DATA / "generate.py"), "--only", bug], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    fresh = [json.loads(line) for line in done.stdout.splitlines()]
    committed = [{k: v for k, v in e.items() if k != "id"} for e in load_corpus(DATA / "corpus.jsonl.gz") if e["group"] == bug]
    assert len(fresh) == 26 and fresh == committed
