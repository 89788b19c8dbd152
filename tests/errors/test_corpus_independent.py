"""The independent error-grouping corpus (tests/data/errors_independent/, built by another author
from other programs than the training corpus): its shape, its labels, its variations, and that it
regenerates. The built-in model is only evaluated on it, never trained, so a silent change in it
would change that figure without any code change.
"""

from __future__ import annotations

import collections
import gzip
import importlib.util
import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "errors_independent"
CORPUS = DATA / "corpus.jsonl.gz"
FIELDS = ["id", "group", "language", "sdk_language", "service", "release", "host", "variation", "split", "type",
          "message", "stacktrace"]


def _load_generator():
    spec = importlib.util.spec_from_file_location("errors_independent_generate", DATA / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building the classes
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def records() -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def by_group(records) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = collections.defaultdict(list)
    for r in records:
        out[r["group"]].append(r)
    return out


def kinds(record: dict) -> set[str]:
    return {part.split("=", 1)[0] for part in record["variation"].split(";")}


def test_records_have_exactly_the_documented_fields(records):
    assert all(list(r) == FIELDS for r in records)
    assert len({r["id"] for r in records}) == len(records)
    assert {r["language"] for r in records} == {"python", "node", "java"}
    assert {(r["language"], r["sdk_language"]) for r in records} == {
        ("python", "python"), ("node", "nodejs"), ("java", "java")}
    assert {r["split"] for r in records} == {"train", "test"}
    assert {r["release"] for r in records} == {"v1.0", "v1.1", "v1.2"}
    assert all(isinstance(r["message"], str) and r["stacktrace"] and r["type"] for r in records)


def test_counts(records, by_group):
    assert len(records) == 1450
    assert len(by_group) == 65
    per_language = collections.Counter(rs[0]["language"] for rs in by_group.values())
    assert per_language == {"python": 27, "node": 19, "java": 19}
    assert min(len(rs) for rs in by_group.values()) == 22
    assert set(by_group) == {g.label for g in gen.GROUPS}


def test_each_group_is_one_language_service_type_and_split(by_group):
    for label, rs in by_group.items():
        for key in ("language", "sdk_language", "service", "type", "split"):
            assert len({r[key] for r in rs}) == 1, (label, key)
        assert rs[0]["language"] == gen.GROUPS_BY_LABEL[label].language
        assert sum(r["variation"] == "base" for r in rs) == 1, label


def test_every_variation_kind_occurs_in_every_language(records):
    seen = collections.defaultdict(set)
    for r in records:
        seen[r["language"]] |= kinds(r)
    for language in ("python", "node", "java"):
        assert seen[language] == {*gen.VARIATION_KINDS, "base"}, language


def test_variations_change_what_they_claim(by_group):
    base = {label: next(r for r in rs if r["variation"] == "base") for label, rs in by_group.items()}
    for label, rs in by_group.items():
        b = base[label]
        for r in rs:
            k = kinds(r)
            assert ("params" in k) == (r["message"] != b["message"]), r["id"]
            if k == {"host"}:
                assert r["host"] != b["host"] and r["stacktrace"] == b["stacktrace"], r["id"]
            if k == {"release"} and r["language"] != "java":  # every app line number shifts
                lines = re.compile(r"line (\d+)|\.js:(\d+):")
                assert lines.findall(r["stacktrace"]) != lines.findall(b["stacktrace"]), r["id"]
            if k == {"tmpdir"} and r["language"] in ("python", "node"):
                assert "/srv/" in b["stacktrace"] and "/srv/" not in r["stacktrace"], r["id"]


def test_release_copies_shift_line_numbers_by_the_inserted_lines(by_group):
    rs = by_group["java.accounts/withdraw-frozen"]
    base = next(r for r in rs if r["variation"] == "base")["stacktrace"]
    v11 = next(r for r in rs if r["variation"] == "release=v1.1+7")["stacktrace"]
    assert "AccountService.withdraw(AccountService.java:22)" in base
    assert "AccountService.withdraw(AccountService.java:29)" in v11


def test_recursion_depths(by_group):
    depths = collections.defaultdict(set)
    for label, rs in by_group.items():
        for r in rs:
            m = re.search(r"depth=(\d+)", r["variation"])
            depths[label].add(int(m.group(1)) if m else gen.BASE_DEPTH)
    recursive = [g.label for g in gen.GROUPS if g.recursive]
    assert {gen.GROUPS_BY_LABEL[label].language for label in recursive} == {"python", "node", "java"}
    for label in recursive:
        assert depths[label] == {3, 10, 50}, label
    deep = next(r for r in by_group["java.tree/sum-null-parent"] if r["variation"] == "depth=50")
    assert deep["stacktrace"].count("at com.acme.ledger.tree.TreeSum.sum(") == 51


def test_message_parameter_kinds_all_vary(by_group):
    varied = set()
    for g in gen.GROUPS:
        if any("params" in kinds(r) for r in by_group[g.label]):
            varied |= set(g.param_kinds)
    assert {"id", "number", "uuid", "path", "email", "username", "hex", "duration"} <= varied


def test_library_frames_and_chains(by_group):
    library_markers = {"python": "/site-packages/acmelib/", "node": "/node_modules/acme-", "java": "at com.vendor."}
    chain_markers = {"python": ("The above exception was the direct cause", "During handling of the above"),
                     "java": ("Caused by: ",)}
    for g in gen.GROUPS:
        rs = by_group[g.label]
        if "library" in g.traits:
            assert all(library_markers[g.language] in r["stacktrace"] for r in rs), g.label
        if "chained" in g.traits and g.language in chain_markers:
            assert all(any(m in r["stacktrace"] for m in chain_markers[g.language]) for r in rs), g.label
    assert {g.language for g in gen.GROUPS if "library" in g.traits} == {"python", "node", "java"}
    java_chained = by_group["java.repo/account-query-failed"][0]["stacktrace"]
    assert "Caused by: java.sql.SQLException: " in java_chained and re.search(r"\t\.\.\. \d+ more\n", java_chained)


def test_near_misses_are_distinct_groups_in_one_split(by_group):
    pairs = [(g.label, *g.near_miss) for g in gen.GROUPS if g.near_miss]
    assert {kind for _, _, kind in pairs} == set(gen.NEAR_MISS_KINDS)
    for language in ("python", "node", "java"):
        assert {k for a, _, k in pairs if gen.GROUPS_BY_LABEL[a].language == language} == set(gen.NEAR_MISS_KINDS)
    for a, b, kind in pairs:
        ra, rb = by_group[a][0], by_group[b][0]
        assert ra["split"] == rb["split"], (a, b)
        if kind == gen.SAME_SITE:
            assert ra["type"] != rb["type"], (a, b)
        else:
            assert ra["type"] == rb["type"], (a, b)
            template = re.compile(r"\".*\"|'[^']*'|[0-9a-f]{8,}|\d+")  # quoted values (greedy: V8 nests them)
            assert template.sub("#", ra["message"]) == template.sub("#", rb["message"]), (a, b)


def test_split_is_by_family_about_30_percent_per_language(by_group):
    split_of = {label: rs[0]["split"] for label, rs in by_group.items()}
    families = collections.defaultdict(set)
    for label, split in split_of.items():
        families[gen.GROUPS_BY_LABEL[label].family].add(split)
    assert all(len(s) == 1 for s in families.values())
    for language in ("python", "node", "java"):
        labels = [g.label for g in gen.GROUPS if g.language == language]
        test = sum(split_of[label] == "test" for label in labels)
        assert 0.25 <= test / len(labels) <= 0.4, (language, test, len(labels))


def _version(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return (proc.stdout + proc.stderr).strip()


def _runtime_mismatch(language: str) -> str | None:
    """Why this machine cannot reproduce the committed traces of `language`, or None."""
    if platform.python_version() != gen.RUNTIMES["python"]:
        return f"python {platform.python_version()} != {gen.RUNTIMES['python']}"
    if language == "node":
        if shutil.which("node") is None:
            return "node is not installed"
        if (found := _version(["node", "--version"])) != gen.RUNTIMES["node"]:
            return f"node {found} != {gen.RUNTIMES['node']}"
    if language == "java":
        if shutil.which("javac") is None or shutil.which("java") is None:
            return "javac/java are not installed"
        if f'"{gen.RUNTIMES["java"]}"' not in _version(["java", "-version"]):
            return f"java is not {gen.RUNTIMES['java']}"
    return None


def _regenerate(only: list[str]) -> list[str]:
    cmd = [sys.executable, str(DATA / "generate.py"), "--out", "-"]
    for label in only:
        cmd += ["--only", label]
    proc = subprocess.run(cmd, capture_output=True, check=True, timeout=120)
    return proc.stdout.decode().splitlines()


@pytest.mark.parametrize("language, only", [
    ("node", ["py.validate/orders-missing-field", "py.lib/retry-exhausted", "node.cart/bad-page-size"]),
    ("java", ["java.lib/retry-exhausted"]),
], ids=["python+node", "java"])
def test_regenerating_groups_reproduces_the_committed_lines(records, language, only):
    reason = _runtime_mismatch(language)
    if reason:
        pytest.skip(f"the corpus was generated with other runtimes ({reason}); traces name their frames")
    committed = [json.dumps(r, ensure_ascii=False) for r in records if r["group"] in only]
    assert len(committed) == 22 * len(only)
    assert _regenerate(only) == committed
