"""Read YAML config files into plain values plus a map of where each key was written.

Every mapping key and sequence item gets a location (`file:line`) so that any problem found
later, by the decoder or by a component's `validate()`, can be reported where the user wrote it.
Several files merge like the collector's repeated `--config`: maps merge deeply, the later file
wins for scalars and lists. `--set a.b.c=value` overrides one key (the value is parsed as YAML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from summitcol.config.expand import expand_scalar
from summitcol.errors import ConfigError

Path = tuple[str | int, ...]


@dataclass(slots=True)
class Problem:
    """One thing wrong with the configuration, with where it was written."""

    location: str
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"{self.path}: " if self.path else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{what}{self.message}"


@dataclass(slots=True)
class Source:
    """The merged configuration values and the location of each path in it."""

    values: dict[str, Any] = field(default_factory=dict)
    locations: dict[Path, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path) -> str:
        """The location of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return next(iter(self.locations.values()), "")


def format_path(path: Path) -> str:
    return "::".join(str(p) for p in path)


class _Reader:
    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        self.locations: dict[Path, str] = {}
        self._constructor = yaml.SafeLoader("")

    def read(self, text: str) -> dict[str, Any]:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            self.problems.append(Problem(f"{self.filename}{line}", "", f"invalid YAML: {exc}"))
            return {}
        if node is None:
            return {}
        value = self._value(node, ())
        if not isinstance(value, dict):
            self.problems.append(
                Problem(self._loc(node), "", "the top level of a config file must be a mapping")
            )
            return {}
        return value

    def _loc(self, node: yaml.Node) -> str:
        return f"{self.filename}:{node.start_mark.line + 1}"

    def _value(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.MappingNode):
            self._constructor.flatten_mapping(node)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node, path)
                key = "" if key is None else str(key)
                child = (*path, key)
                if key in out:
                    self.problems.append(
                        Problem(self._loc(key_node), format_path(child), "duplicate key; remove one of them")
                    )
                self.locations[child] = self._loc(key_node)
                out[key] = self._value(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.locations[(*path, index)] = self._loc(item)
                items.append(self._value(item, (*path, index)))
            return items
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.ScalarNode) and "$" in node.value:
            try:
                return expand_scalar(node.value, plain=node.style is None)
            except ConfigError as exc:
                self.problems.append(Problem(self._loc(node), format_path(path), str(exc)))
                return node.value
        return self._constructor.construct_object(node, deep=True)


def merge_into(target: dict[str, Any], other: dict[str, Any]) -> None:
    """Deep-merge `other` into `target`: maps merge, anything else is replaced."""
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_into(target[key], value)
        else:
            target[key] = value


def load_sources(files: list[str], sets: list[str] | None = None) -> Source:
    """Read and merge the given files, then apply `--set key.path=value` overrides."""
    source = Source()
    for filename in files:
        try:
            with open(filename, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            source.problems.append(Problem(filename, "", f"cannot read config file: {exc.strerror}"))
            continue
        except UnicodeDecodeError as exc:
            source.problems.append(Problem(filename, "", f"config file is not valid UTF-8: {exc}"))
            continue
        reader = _Reader(filename, source.problems)
        merge_into(source.values, reader.read(text))
        source.locations.update(reader.locations)
    for assignment in sets or []:
        _apply_set(source, assignment)
    return source


def _apply_set(source: Source, assignment: str) -> None:
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        source.problems.append(
            Problem("--set", "", f"{assignment!r} is not key=value; write e.g. processors.batch.timeout=2s")
        )
        return
    parts = key.split("::") if "::" in key else key.split(".")
    try:
        value = yaml.safe_load(raw) if raw else None
    except yaml.YAMLError:
        value = raw
    node = source.values
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
    source.locations[tuple(parts)] = f"--set {key}"
