"""Read YAML config files into plain values plus a map of where each key was written.

Every mapping key and sequence item gets a location (`file:line`) so that any problem found
later, by the decoder or by a component's `validate()`, can be reported where the user wrote it.
Several files merge like the collector's repeated `--config`: maps merge deeply, the later file
wins for scalars and lists. `--set a.b.c=value` overrides one key (the value is parsed as YAML);
what it writes is located at `--set a.b.c`, so problems in it are not blamed on a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from summitcol.config.expand import expand_scalar
from summitcol.exceptions import ConfigError

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
    # Files that could not be read or parsed: the merged values are then incomplete, and checks
    # of the whole (a missing `service`, undefined references) would only be false alarms.
    unreadable: list[str] = field(default_factory=list)
    # Values that referenced environment variables which are unset or empty (no default), by
    # path: the variables' names.
    empty_env: dict[Path, list[str]] = field(default_factory=dict)

    def where(self, path: Path) -> str:
        """The location of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return next(iter(self.locations.values()), "")

    def env_note(self, path: Path) -> str:
        """Which variables left the value at `path` empty, e.g. "the environment variable NOPE
        is not set (${env:NOPE})"; '' when none did."""
        return "; ".join(
            f"the environment variable {name} is {'set but empty' if name in os.environ else 'not set'} (${{env:{name}}})"
            for name in self.empty_env.get(path, [])
        )

    def warn_empty_env(self, reported: set[Path]) -> None:
        """A warning for each value an unset variable emptied that no error already names
        (otelcol logs "Configuration references unset environment variable")."""
        for path in self.empty_env:
            if path not in reported:
                note = f"{self.env_note(path)}: it expands to an empty string"
                self.problems.append(Problem(self.where(path), format_path(path), note, "warning"))


def format_path(path: Path) -> str:
    return "::".join(str(p) for p in path)


def yaml_problem(filename: str, text: str, exc: yaml.YAMLError) -> Problem:
    """One line naming the file, line and column (PyYAML's own text says `"<unicode string>"`
    and quotes the source over several lines)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        message = f"invalid YAML at column {mark.column + 1}: {exc.problem}"
        if exc.context:
            start = exc.context_mark
            where = f" that starts at line {start.line + 1}" if start is not None and start.line != mark.line else ""
            message += f", {exc.context}{where}"
        return Problem(f"{filename}:{mark.line + 1}", "", message)
    position = getattr(exc, "position", None)
    line = f":{text.count(chr(10), 0, position) + 1}" if isinstance(position, int) else ""
    return Problem(f"{filename}{line}", "", f"invalid YAML: {str(exc).splitlines()[0]}")


class _Reader:
    def __init__(self, filename: str, source: Source) -> None:
        self.filename = filename
        self.source = source
        self.problems = source.problems
        self.locations: dict[Path, str] = {}
        self._constructor = yaml.SafeLoader("")

    def read(self, text: str) -> dict[str, Any]:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            self.problems.append(yaml_problem(self.filename, text, exc))
            self.source.unreadable.append(self.filename)
            return {}
        if node is None:
            return {}
        value = self._value(node, ())
        if not isinstance(value, dict):
            self.problems.append(
                Problem(self._loc(node), "", "the top level of a config file must be a mapping")
            )
            self.source.unreadable.append(self.filename)
            return {}
        return value

    def _loc(self, node: yaml.Node) -> str:
        return f"{self.filename}:{node.start_mark.line + 1}"

    def _value(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.MappingNode):
            self._constructor.flatten_mapping(node)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node, path, key=True)
                key = "" if key is None else str(key)
                child = (*path, key)
                if key in out:
                    self.problems.append(
                        Problem(self._loc(key_node), format_path(child), "duplicate key; remove one of them")
                    )
                self.locations[child] = self._loc(key_node)
                self.source.empty_env.pop(child, None)  # a later file's value replaces an earlier one
                out[key] = self._value(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.locations[(*path, index)] = self._loc(item)
                items.append(self._value(item, (*path, index)))
            return items
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path, key: bool = False) -> Any:
        if isinstance(node, yaml.ScalarNode) and "$" in node.value:
            empty: list[str] = []
            try:
                value = expand_scalar(node.value, plain=node.style is None, empty=empty)
            except ConfigError as exc:
                self.problems.append(Problem(self._loc(node), format_path(path), str(exc)))
                return node.value
            if empty and not key:
                self.source.empty_env[path] = list(dict.fromkeys(empty))
            return value
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
            source.unreadable.append(filename)
            continue
        except UnicodeDecodeError as exc:
            source.problems.append(Problem(filename, "", f"config file is not valid UTF-8: {exc}"))
            source.unreadable.append(filename)
            continue
        reader = _Reader(filename, source)
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
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node.get(part), dict):
            node[part] = {}
            source.locations[tuple(parts[: depth + 1])] = f"--set {key}"
        node = node[part]
    node[parts[-1]] = value
    _locate_set(source, tuple(parts), value, f"--set {key}")


def _locate_set(source: Source, path: Path, value: Any, where: str) -> None:
    """`where` for `path` and everything under it (a `--set` value may be a map or a list)."""
    source.locations[path] = where
    source.empty_env.pop(path, None)
    if isinstance(value, dict):
        for child_key, child in value.items():
            _locate_set(source, (*path, str(child_key)), child, where)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _locate_set(source, (*path, index), child, where)
