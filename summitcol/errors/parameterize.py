"""Message parameterization: the variable parts of an exception message become `<kind>` markers,
so "order 1231 not found" and "order 98 not found" share the template "order <int> not found".

Sentry's patterns (`src/sentry/grouping/parameterization.py`), in its order, as one alternation of
named groups (one pass, linear time), plus what Sentry leaves in and users complain about: file
paths, quoted names and `key=value` values. A message is cut to its first two non-empty lines
and MAX_MESSAGE_CHARS first, as Sentry's `trim_message_for_grouping` does, so a multi-megabyte
message costs no more than a short one.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_MESSAGE_CHARS = 1024

_TLDS = (
    "COM|NET|ORG|EDU|GOV|MIL|INT|IO|CO|AI|APP|DEV|CLOUD|INFO|BIZ|ME|TV|US|UK|DE|JP|FR|AU|RU|CH|IT|NL|"
    "SE|NO|ES|CA|CN|IN|BR|PL|BE|AT|DK|FI|CZ|PT|GR|HU|IE|IL|NZ|SG|HK|KR|TW|MX|AR|ZA|TR|UA|RO|SK|LOCAL|INTERNAL"
)

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+"),
    ("url", r"\b(?:wss?|https?|ftp)://[^\s/$.?#][^\s]*"),
    ("hostname", rf"\b(?:[a-zA-Z0-9-]{{1,63}}\.)+(?i:{_TLDS})\b"),
    ("traceparent", r"\b00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]\b|\b1-[0-9a-f]{8}-[0-9a-f]{24}\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("ip", r"\b(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?::\d{1,5})?\b"
     r"|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b"),
    ("sha1", r"\b[0-9a-fA-F]{40}\b"),
    ("md5", r"\b[0-9a-fA-F]{32}\b"),
    ("date", r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
     r"|\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b"),
    ("duration", r"\b\d+(?:\.\d+)?(?:ms|us|µs|ns|s|m|h)\b"),
    ("path", r"(?<![\w.:/])(?:[A-Za-z]:\\|~?/)(?:[\w.@~+-]+[/\\])+[\w.@~+-]*"),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[a-f]*[0-9])[0-9a-f]{8,128}\b|\b(?=[A-F]*[0-9])[0-9A-F]{8,128}\b"),
    ("git_sha", r"\b(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{7}\b"),
    ("float", r"-\d+\.\d+\b|\b\d+\.\d+\b"),
    ("int", r"(?:\b|(?<!\w)-)\d+\b"),
    ("quoted", r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`"),
    ("value", r"(?<==)[^\s,;)\]}]+"),
)
_COMBINED = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS))


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup or "value"
    if kind == "quoted":  # a quoted span keeps its quotes: "unknown field '<str>'"
        return f"{match.group()[0]}<str>{match.group()[0]}"
    return f"<{kind}>"


def trim(message: str) -> str:
    """The first two non-empty lines, at most MAX_MESSAGE_CHARS, with `...` when cut."""
    head = message[: MAX_MESSAGE_CHARS * 2]
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    text = " ".join(lines[:2])
    cut = len(lines) > 2 or len(message) > len(head)
    if len(text) > MAX_MESSAGE_CHARS:
        text, cut = text[:MAX_MESSAGE_CHARS], True
    return text + "..." if cut else text


@lru_cache(maxsize=65536)
def parameterize(message: str) -> str:
    """The message's template: trimmed, each variable part replaced by `<kind>`."""
    return _COMBINED.sub(_replace, trim(message))
