"""Configuration sections that include other sections, resolved recursively."""

from __future__ import annotations

from typing import Any

from shop.errors import ConfigError

# @release-insert


def build_tree(depth: int, missing: str) -> dict[str, dict[str, Any]]:
    sections = {f"layer{i}": {"include": f"layer{i + 1}", "value": i} for i in range(depth)}
    sections[f"layer{depth - 1}"]["include"] = missing
    return sections


def expand(sections: dict[str, dict[str, Any]], name: str, parent: str) -> dict[str, Any]:
    section = sections.get(name)
    if section is None:
        raise ConfigError(f"section {parent!r} includes unknown section {name!r}")
    merged = dict(section)
    if "include" in section:
        merged.update(expand(sections, section["include"], name))
    return merged


def load(depth: int, missing: str) -> dict[str, Any]:
    sections = build_tree(depth, missing)
    return expand(sections, "layer0", "<root>")
