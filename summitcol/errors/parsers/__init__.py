"""Stack-trace text → `ParsedTrace`, for the formats OpenTelemetry SDKs put in
`exception.stacktrace`: Python (`traceback.format_exception`), Java/Kotlin (`printStackTrace`),
Node.js and Chrome (V8 `err.stack`), Firefox and Safari, Go (panics and `debug.Stack()`), .NET
(`Exception.ToString()`) and Ruby.

The language is OpenTelemetry's `telemetry.sdk.language` when the SDK said it, else detected
from the text. Every parser is line-based with linear-time patterns and reads at most
MAX_TEXT_CHARS, MAX_FRAMES frames per exception (the crash side) and MAX_CHAIN exceptions, so
hostile input costs no more than a large ordinary trace. Text no parser understands falls back to
the type and message alone (`fallback=True`). Nothing here raises on any input.
"""

from __future__ import annotations

from summitcol.errors.parsers import dotnet, go, java, python, ruby, v8
from summitcol.errors.parsers.common import MAX_TEXT_CHARS, clean
from summitcol.errors.parsers.frames import ExceptionInfo, ParsedTrace

SDK_LANGUAGES = {
    "python": "python", "java": "java", "kotlin": "java", "nodejs": "node", "node": "node",
    "webjs": "javascript", "javascript": "javascript", "js": "javascript", "go": "go",
    "dotnet": "dotnet", "csharp": "dotnet", "ruby": "ruby",
}
_PARSERS = {
    "python": python.parse, "java": java.parse, "node": v8.parse, "javascript": v8.parse,
    "go": go.parse, "dotnet": dotnet.parse, "ruby": ruby.parse,
}


# in the order detection tries them: the more distinctive formats first
_LOOKS_LIKE = {
    "python": python.looks_like, "go": go.looks_like, "dotnet": dotnet.looks_like, "java": java.looks_like,
    "node": v8.looks_like_node, "javascript": v8.looks_like, "ruby": ruby.looks_like,
}


def detect_language(text: str) -> str:
    """The language whose trace format `text` is in, or "unknown"."""
    head = text[:MAX_TEXT_CHARS]
    for language, looks_like in _LOOKS_LIKE.items():
        if looks_like(head):
            return language
    return "unknown"


def parse(text: str, *, language: str | None = None, exc_type: str = "", message: str = "") -> ParsedTrace:
    """Parse `text`; `exc_type`/`message` (the exception.* attributes) fill what it lacks."""
    try:
        cleaned = clean(text or "")
        hinted = SDK_LANGUAGES.get((language or "").lower())
        if hinted and cleaned and _LOOKS_LIKE[hinted](cleaned):
            detected = hinted  # the text is in the SDK's language's format: no need to try the others
        else:
            detected = detect_language(cleaned) if cleaned else "unknown"
        # the SDK's language wins, except where the text is plainly another format (a JS error
        # relayed through a Python service, say)
        chosen = hinted if hinted and (detected == "unknown" or _compatible(hinted, detected)) else detected
        parser = _PARSERS.get(chosen)
        if parser is not None:
            exceptions = parser(cleaned, exc_type, message)
            if exceptions and any(exc.frames for exc in exceptions):
                return ParsedTrace(chosen, tuple(exceptions))
        return _fallback(hinted or chosen, cleaned, exc_type, message)
    except Exception:  # noqa: BLE001 - a parser bug must not lose the exception: fall back
        return ParsedTrace(SDK_LANGUAGES.get((language or "").lower(), "unknown"), (ExceptionInfo(exc_type, message),), fallback=True)


def _compatible(hinted: str, detected: str) -> bool:
    return hinted == detected or {hinted, detected} <= {"node", "javascript"}


def _fallback(language: str, text: str, exc_type: str, message: str) -> ParsedTrace:
    """Type and message only: from the attributes, else from a `Type: message` first line."""
    if not exc_type and text:
        first = next((line.strip() for line in text.splitlines()[:5] if line.strip()), "")
        head, sep, rest = first.partition(": ")
        if sep and 0 < len(head) <= 200 and " " not in head:
            exc_type, message = head, message or rest
    return ParsedTrace(language or "unknown", (ExceptionInfo(exc_type, message),), fallback=True)
