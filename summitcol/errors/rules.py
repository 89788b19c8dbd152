"""Custom fingerprint rules, in a subset of Sentry's rule language (`fingerprint-rules.mdx`):

    error.type:DatabaseUnavailable                        -> system-down
    error.type:ConnectionError error.value:"*timeout*"    -> connection-timeout, {{ default }}
    stack.module:"myapp.payments*" stack.function:charge  -> payments-charge title="Charge failed"
    tags.server_name:"web-*"                              -> {{ default }}, web

Matchers: `error.type` (glob, case-sensitive), `error.value` / `message` (glob, case-insensitive),
`stack.module`, `stack.function` (glob on the normalized frames; all stack matchers of a rule must
hit the same frame), `tags.<key>` (glob on the record's or resource's attribute). `!` negates.
Values: literals and the variables `{{ default }}`, `{{ error.type }}`, `{{ error.value }}`,
`{{ stack.function }}`, `{{ stack.module }}` (of the crash frame) and `{{ tags.<key> }}`.
The first rule that matches wins. A rule without `{{ default }}` replaces the grouping entirely,
so the model never moves its events (as Sentry skips Seer for custom fingerprints).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from summitcol.errors.normalize import crash_frame
from summitcol.errors.parsers.frames import ParsedTrace
from summitcol.exceptions import ConfigError

_STACK = ("stack.module", "stack.function")
_MATCHERS = ("error.type", "error.value", "message", *_STACK)
_VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
_TITLE = re.compile(r"""\s+title\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')\s*$""")


@dataclass(frozen=True, slots=True)
class Matcher:
    key: str
    pattern: str
    negated: bool

    def test(self, value: str) -> bool:
        if self.key in ("error.value", "message"):
            hit = fnmatch.fnmatch(value.lower(), self.pattern.lower())
        else:
            hit = fnmatch.fnmatchcase(value, self.pattern)
        return hit != self.negated


@dataclass(frozen=True, slots=True)
class Rule:
    matchers: tuple[Matcher, ...]
    values: tuple[str, ...]
    title: str
    text: str


def parse_rule(text: str) -> Rule:
    if "->" not in text:
        raise ConfigError(f"fingerprint rule {text!r}: expected `matchers -> values` (Sentry's fingerprint rule syntax)")
    left, right = text.split("->", 1)
    title = ""
    found = _TITLE.search(right)
    if found:
        title = found.group(1)[1:-1]
        right = right[: found.start()]
    try:
        tokens = shlex.split(left)
    except ValueError as exc:
        raise ConfigError(f"fingerprint rule {text!r}: {exc}") from None
    matchers = []
    for token in tokens:
        negated = token.startswith("!")
        key, sep, pattern = token.lstrip("!").partition(":")
        if not sep or not (key in _MATCHERS or (key.startswith("tags.") and len(key) > 5)):
            known = ", ".join((*_MATCHERS, "tags.<key>"))
            raise ConfigError(f"fingerprint rule {text!r}: unknown matcher {token!r} (known: {known})")
        matchers.append(Matcher(key, pattern, negated))
    if not matchers:
        raise ConfigError(f"fingerprint rule {text!r}: no matcher before ->")
    values = tuple(value.strip() for value in right.split(",") if value.strip())
    if not values:
        raise ConfigError(f"fingerprint rule {text!r}: no fingerprint value after ->")
    for value in values:
        for name in _VARIABLE.findall(value):
            if not (name in ("default", "error.type", "error.value", *_STACK) or name.startswith("tags.")):
                raise ConfigError(f"fingerprint rule {text!r}: unknown variable {{{{ {name} }}}}")
    return Rule(tuple(matchers), values, title, text)


class FingerprintRules:
    def __init__(self, texts: Sequence[str]) -> None:
        lines = [line.strip() for text in texts for line in text.splitlines()]
        self.rules = [parse_rule(line) for line in lines if line and not line.startswith("#")]

    def apply(self, trace: ParsedTrace, tags: Mapping[str, str], default: str) -> tuple[list[str], str] | None:
        """The first matching rule's values (variables resolved, `{{ default }}` kept) and title."""
        reported = trace.reported
        exc_type = reported.type if reported else ""
        value = reported.message if reported else ""
        frames = [frame for exc in trace.exceptions for frame in exc.frames]
        for rule in self.rules:
            if self._matches(rule, exc_type, value, frames, tags):
                crash = crash_frame(reported) if reported else None
                variables = {
                    "error.type": exc_type,
                    "error.value": value,
                    "stack.function": crash.function if crash else "",
                    "stack.module": crash.module if crash else "",
                }

                def resolve(match: re.Match[str], variables: dict[str, str] = variables) -> str:
                    name = match.group(1)
                    if name == "default":
                        return "{{ default }}"
                    if name.startswith("tags."):
                        return tags.get(name[5:], "")
                    return variables.get(name, "")

                return [_VARIABLE.sub(resolve, part) for part in rule.values], rule.title
        return None

    @staticmethod
    def _matches(rule: Rule, exc_type: str, value: str, frames: list, tags: Mapping[str, str]) -> bool:  # type: ignore[type-arg]
        stack = [m for m in rule.matchers if m.key in _STACK]
        for matcher in rule.matchers:
            if matcher.key == "error.type" and not matcher.test(exc_type):
                return False
            if matcher.key in ("error.value", "message") and not matcher.test(value):
                return False
            if matcher.key.startswith("tags.") and not matcher.test(tags.get(matcher.key[5:], "")):
                return False
        if stack:
            return any(all(m.test(getattr(f, m.key[6:])) for m in stack) for f in frames)
        return True
