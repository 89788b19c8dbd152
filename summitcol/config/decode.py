"""Turn config values into a component's config dataclass, collecting every problem at once.

Type hints drive the checks: bool, int, float, str, `timedelta` (Go duration strings such as
`200ms`, `1m30s`), `Literal[...]`, `X | None`, `list[X]`, `dict[str, X]` and nested dataclasses.
A key the dataclass does not have is an error that lists the closest valid key. A key written
with no value (`grpc:`) for a nested dataclass means "on, with defaults", as in the collector.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from datetime import timedelta
from typing import Any, Literal, TypeVar, Union

from summitcol.config.source import Path, Problem, Source, format_path
from summitcol.exceptions import ConfigError

T = TypeVar("T")

_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    """Parse a Go duration (`300ms`, `1.5s`, `1h30m`); raise ConfigError on anything else."""
    stripped = text.strip()
    sign = -1.0 if stripped.startswith("-") else 1.0
    body = stripped.lstrip("+-")
    if body == "0":
        return timedelta(0)
    pos, seconds = 0, 0.0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            raise ConfigError(f"'{text}' is not a duration; write e.g. 200ms, 5s, 1m30s or 2h")
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not body:
        raise ConfigError(f"'{text}' is not a duration; write e.g. 200ms, 5s, 1m30s or 2h")
    return timedelta(seconds=sign * seconds)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is bool:
        return "a boolean (true/false)"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is timedelta:
        return "a duration such as 200ms or 5s"
    if origin in (list, tuple):
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    return str(tp)


class Decoder:
    """Decodes values from one Source; problems accumulate in `source.problems`."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.env_reported: set[Path] = set()  # paths whose error already names an unset variable

    def problem(self, path: Path, message: str, severity: str = "error") -> None:
        self.source.problems.append(Problem(self.source.where(path), format_path(path), message, severity))

    def decode(self, cls: type[T], value: Any, path: Path) -> T | None:
        """Build `cls` from `value`; None (with problems recorded) when it cannot be built."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping of settings, got {value!r}")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        kwargs: dict[str, Any] = {}
        ok = True
        for key, raw in value.items():
            if key not in fields:
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                valid = ", ".join(sorted(fields)) or "none"
                self.problem((*path, key), f"unknown key '{key}'{hint} (valid keys: {valid})")
                ok = False
                continue
            converted, good = self.convert(hints[key], raw, (*path, key))
            ok = ok and good
            if good:
                kwargs[key] = converted
        if not ok:
            return None
        try:
            instance = cls(**kwargs)
        except (TypeError, ValueError) as exc:
            self.problem(path, str(exc))
            return None
        validate = getattr(instance, "validate", None)
        if validate is not None:
            try:
                validate()
            except ConfigError as exc:
                self.problem(path, str(exc))
                return None
        return instance

    def convert(self, tp: Any, raw: Any, path: Path) -> tuple[Any, bool]:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if tp is Any:
            return raw, True
        if origin in (Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            if raw is None:
                if len(inner) == 1 and dataclasses.is_dataclass(inner[0]):
                    return self.decode(inner[0], {}, path), True
                return None, True
            if len(inner) == 1:
                return self.convert(inner[0], raw, path)
            for candidate in inner:
                if _matches(candidate, raw):
                    return self.convert(candidate, raw, path)
            return self._wrong(tp, raw, path)
        if dataclasses.is_dataclass(tp):
            result = self.decode(tp, raw, path)  # type: ignore[arg-type]
            return result, result is not None
        if origin is Literal:
            if raw in args:
                return raw, True
            return self._wrong(tp, raw, path)
        if origin in (list, tuple):
            if raw is None:
                return ([] if origin is list else ()), True
            if not isinstance(raw, list):
                return self._wrong(tp, raw, path)
            items, ok = [], True
            for index, item in enumerate(raw):
                converted, good = self.convert(args[0] if args else Any, item, (*path, index))
                items.append(converted)
                ok = ok and good
            return (items if origin is list else tuple(items)), ok
        if origin is dict:
            if raw is None:
                return {}, True
            if not isinstance(raw, dict):
                return self._wrong(tp, raw, path)
            out, ok = {}, True
            for key, item in raw.items():
                converted, good = self.convert(args[1] if args else Any, item, (*path, key))
                out[str(key)] = converted
                ok = ok and good
            return out, ok
        if tp is timedelta:
            if isinstance(raw, str):
                try:
                    return parse_duration(raw), True
                except ConfigError as exc:
                    self.problem(path, str(exc))
                    return None, False
            if raw == 0 and not isinstance(raw, bool):
                return timedelta(0), True
            return self._wrong(tp, raw, path)
        if _matches(tp, raw):
            return (float(raw) if tp is float else raw), True
        return self._wrong(tp, raw, path)

    def _wrong(self, tp: Any, raw: Any, path: Path) -> tuple[None, bool]:
        note = self.source.env_note(path)
        if note:  # "expected a string, got None" would not say why it is None
            self.env_reported.add(path)
            name = self.source.empty_env[path][0]
            self.problem(path, f"expected {_type_name(tp)}, but {note}; set it, or give a default: ${{env:{name}:-value}}")
        else:
            self.problem(path, f"expected {_type_name(tp)}, got {raw!r}")
        return None, False


def _matches(tp: Any, raw: Any) -> bool:
    if tp is bool:
        return isinstance(raw, bool)
    if tp is int:
        return isinstance(raw, int) and not isinstance(raw, bool)
    if tp is float:
        return isinstance(raw, (int, float)) and not isinstance(raw, bool)
    if tp is str:
        return isinstance(raw, str)
    if tp is timedelta:
        return isinstance(raw, str)
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        return isinstance(raw, list)
    if origin is dict or dataclasses.is_dataclass(tp):
        return isinstance(raw, dict)
    if origin is Literal:
        return raw in typing.get_args(tp)
    return True
