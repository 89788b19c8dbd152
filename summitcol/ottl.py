"""An OTTL condition subset, compiled to whole-column evaluation.

Supported: comparisons `==` `!=` `<` `<=` `>` `>=`; `and`, `or`, `not`, parentheses; literals
(strings, ints, floats, `true`/`false`, `nil`) and enums (`SPAN_KIND_*`, `STATUS_CODE_*`,
`SEVERITY_NUMBER_*`, `METRIC_DATA_TYPE_*`); the function `IsMatch(target, "regex")`; the paths
each context defines (`CONTEXT_PATHS`), including `attributes["k"]` and
`resource.attributes["k"]`. Anything else — another function, a path the context lacks, an
editor — is a `ConfigError` naming it, never a silent pass.

Evaluation follows OTTL: every operand is a typed column (type code as in `pdata.values`, null
for nil, plus the value's text); `==` is true for equal types and values, ints and doubles
compare numerically, `nil == nil` is true, and `!=` is its negation; ordering compares numbers
with numbers and strings with strings, anything else is false.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.exceptions import ConfigError
from summitcol.pdata.values import BOOL, DOUBLE, INT, STRING, bool_mask, lookup_attribute

ENUMS = {
    **{f"SPAN_KIND_{n}": i for i, n in enumerate(["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"])},
    **{f"STATUS_CODE_{n}": i for i, n in enumerate(["UNSET", "OK", "ERROR"])},
    **{f"METRIC_DATA_TYPE_{n}": i for i, n in enumerate(["NONE", "GAUGE", "SUM", "HISTOGRAM", "EXPONENTIAL_HISTOGRAM", "SUMMARY"])},
    "SEVERITY_NUMBER_UNSPECIFIED": 0,
    **{
        f"SEVERITY_NUMBER_{level}{'' if k == 0 else k + 1}": base + k
        for base, level in zip(range(1, 25, 4), ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], strict=True)
        for k in range(4)
    },
}


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed column: `types` (uint8, null = nil) and `text`."""

    types: pa.Array
    text: pa.Array


Context = dict[str, Callable[[], Typed]]  # path → lazily computed typed column
Evaluator = Callable[["Row"], "np.ndarray"]

# Paths each context supports (attribute paths are written `attributes[...]`).
CONTEXT_PATHS = {
    "span": {"name", "kind", "status.code", "status.message", "trace_state", "trace_id.string", "span_id.string",
             "parent_span_id.string", "start_time_unix_nano", "end_time_unix_nano", "instrumentation_scope.name",
             "instrumentation_scope.version", "attributes", "resource.attributes"},
    "spanevent": {"name", "time_unix_nano", "attributes", "span.name", "span.kind", "span.status.code",
                  "span.attributes", "resource.attributes", "instrumentation_scope.name"},
    "log": {"body", "severity_number", "severity_text", "event_name", "trace_id.string", "span_id.string",
            "time_unix_nano", "observed_time_unix_nano", "attributes", "resource.attributes",
            "instrumentation_scope.name", "instrumentation_scope.version"},
    "metric": {"name", "description", "unit", "type", "resource.attributes", "instrumentation_scope.name"},
    "datapoint": {"attributes", "metric.name", "metric.description", "metric.unit", "metric.type", "value_double",
                  "value_int", "count", "sum", "time_unix_nano", "start_time_unix_nano", "resource.attributes",
                  "instrumentation_scope.name"},
}  # fmt: skip


class Row:
    """What an evaluator reads: `typed(path)` and `attribute(map_path, key)` for n rows."""

    def __init__(self, n: int, typed: Callable[[str], Typed], maps: Callable[[str], pa.Array]) -> None:
        self.n = n
        self._typed = typed
        self._maps = maps

    def typed(self, path: str) -> Typed:
        return self._typed(path)

    def attribute(self, map_path: str, key: str) -> Typed:
        types, text = lookup_attribute(self._maps(map_path), key)
        return Typed(types, text)


_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+\.\d*(?:[eE][-+]?\d+)?|-?\d+)|(?P<op>==|!=|<=|>=|<|>)|(?P<punct>[()\[\],.])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"""
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ConfigError(f"OTTL condition {text!r}: cannot read {text[pos:pos + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _num(types: pa.Array) -> np.ndarray:
    return bool_mask(pc.is_in(types, pa.array([INT, DOUBLE], pa.uint8())))


def _as_float(value: Typed) -> pa.Array:
    numeric = pc.fill_null(pc.is_in(value.types, pa.array([INT, DOUBLE], pa.uint8())), False)
    return pc.cast(pc.if_else(numeric, value.text, "nan"), pa.float64())


def equal(a: Typed, b: Typed) -> np.ndarray:
    a_nil, b_nil = bool_mask(pc.is_null(a.types)), bool_mask(pc.is_null(b.types))
    same = bool_mask(pc.and_(pc.equal(a.types, b.types), pc.equal(a.text, b.text)))
    numeric = _num(a.types) & _num(b.types) & bool_mask(pc.equal(_as_float(a), _as_float(b)))
    return (a_nil & b_nil) | (~a_nil & ~b_nil & (same | numeric))


def order(a: Typed, b: Typed, op: str) -> np.ndarray:
    compare = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal}[op]
    numeric = _num(a.types) & _num(b.types) & bool_mask(compare(_as_float(a), _as_float(b)))
    strings = (
        bool_mask(pc.equal(a.types, pa.scalar(STRING, pa.uint8())))
        & bool_mask(pc.equal(b.types, pa.scalar(STRING, pa.uint8())))
        & bool_mask(compare(a.text, b.text))
    )
    return numeric | strings


class _Parser:
    def __init__(self, text: str, context: str) -> None:
        self.text = text
        self.context = context
        self.tokens = _tokens(text)
        self.pos = 0

    def error(self, message: str) -> ConfigError:
        return ConfigError(f"OTTL condition {self.text!r} ({self.context} context): {message}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise self.error(f"expected {value or 'more'}, found {token[1] if token else 'the end'}")
        self.pos += 1
        return token

    def parse(self) -> Evaluator:
        evaluator = self.or_()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return evaluator

    def or_(self) -> Evaluator:
        parts = [self.and_()]
        while self.peek() == ("name", "or"):
            self.take()
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]
        return lambda row: np.logical_or.reduce([p(row) for p in parts])

    def and_(self) -> Evaluator:
        parts = [self.not_()]
        while self.peek() == ("name", "and"):
            self.take()
            parts.append(self.not_())
        if len(parts) == 1:
            return parts[0]
        return lambda row: np.logical_and.reduce([p(row) for p in parts])

    def not_(self) -> Evaluator:
        if self.peek() == ("name", "not"):
            self.take()
            inner = self.not_()
            return lambda row: ~inner(row)
        return self.comparison()

    def comparison(self) -> Evaluator:
        if self.peek() == ("punct", "("):
            # a parenthesised boolean expression (values are never parenthesised in OTTL)
            self.take("(")
            inner = self.or_()
            self.take(")")
            return inner
        left = self.value()
        token = self.peek()
        if token is not None and token[0] == "op":
            op = self.take()[1]
            right = self.value()
            if op == "==":
                return lambda row: equal(left(row), right(row))
            if op == "!=":
                return lambda row: ~equal(left(row), right(row))
            return lambda row: order(left(row), right(row), op)
        # a bare boolean value: a function result or true/false
        return lambda row: equal(left(row), _literal(BOOL, "true")(row))

    def value(self) -> Callable[[Row], Typed]:
        kind, token = self.take()
        if kind == "string":
            return _literal(STRING, _unquote(token))
        if kind == "number":
            return _literal(DOUBLE if "." in token or "e" in token.lower() else INT, token)
        if kind != "name":
            raise self.error(f"unexpected {token!r}")
        if token in ("true", "false"):
            return _literal(BOOL, token)
        if token == "nil":
            return lambda row: Typed(pa.nulls(row.n, pa.uint8()), pa.nulls(row.n, pa.string()))
        if token in ENUMS:
            return _literal(INT, str(ENUMS[token]))
        if self.peek() == ("punct", "("):
            return self.function(token)
        return self.path(token)

    def function(self, name: str) -> Callable[[Row], Typed]:
        self.take("(")
        if name != "IsMatch":
            raise self.error(f"function {name}() is not supported (supported: IsMatch)")
        target = self.value()
        self.take(",")
        kind, pattern = self.take()
        if kind != "string":
            raise self.error("IsMatch needs a string literal pattern")
        regex = _unquote(pattern)
        try:
            pc.match_substring_regex(pa.array([""]), regex)
        except pa.ArrowInvalid as exc:
            raise self.error(f"invalid IsMatch pattern {regex!r}: {exc}") from None
        self.take(")")

        def is_match(row: Row) -> Typed:
            value = target(row)
            # OTTL's IsMatch converts ints, doubles and bools to their string form.
            hit = bool_mask(pc.and_(pc.is_in(value.types, pa.array([STRING, INT, DOUBLE, BOOL], pa.uint8())), pc.match_substring_regex(value.text, regex)))
            return Typed(pa.array(np.full(row.n, BOOL, np.uint8)), pa.array(np.where(hit, "true", "false")))

        return is_match

    def path(self, first: str) -> Callable[[Row], Typed]:
        parts = [first]
        while self.peek() == ("punct", "."):
            self.take(".")
            parts.append(self.take()[1])
        name = ".".join(parts)
        allowed = CONTEXT_PATHS[self.context]
        if self.peek() == ("punct", "["):
            self.take("[")
            kind, key = self.take()
            if kind != "string":
                raise self.error("map keys must be string literals")
            self.take("]")
            if self.peek() == ("punct", "["):
                raise self.error(f"nested map access {name}[...][...] is not supported")
            if name not in allowed or not name.endswith("attributes"):
                raise self.error(f"path {name}[...] is not available here (available: {', '.join(sorted(allowed))})")
            attribute_key = _unquote(key)
            return lambda row: row.attribute(name, attribute_key)
        if name not in allowed or name.endswith("attributes"):
            raise self.error(f"path {name} is not supported here (available: {', '.join(sorted(allowed))})")
        return lambda row: row.typed(name)


def _literal(type_: int, text: str) -> Callable[[Row], Typed]:
    return lambda row: Typed(pa.array(np.full(row.n, type_, np.uint8)), pa.repeat(pa.scalar(text, pa.string()), row.n))


def compile_condition(text: str, context: str) -> Evaluator:
    """A condition → a function of a `Row` giving a bool numpy mask; ConfigError if unsupported."""
    return _Parser(text, context).parse()
