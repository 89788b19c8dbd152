"""A Sentry exception chain rendered as the platform's own stack-trace text.

`exception.stacktrace` is, by the semantic conventions, the trace "in a language-specific natural
format"; the OpenTelemetry SDKs record exactly that (Python: `traceback.format_exception`), and the
fingerprint processor's parsers read it. Sentry SDKs send structured frames instead, so the text
is rebuilt here the way the runtime would have printed it:

- python: `Traceback (most recent call last):` / `  File "<abs_path>", line N, in fn` / the
  source line / `module.Type: value`; a chain root cause first, joined by Python's sentences.
- javascript, node: V8's `err.stack`, `Type: value` / `    at fn (file:line:col)`, newest frame
  first, of the thrown error only (a cause is not part of `stack`; it stays in Sentry's chain).
- java and other JVM platforms: `pkg.Type: value` / `\\tat module.function(file:line)`, newest
  first, causes as `Caused by: …`.
- anything else: the Python form (the frame layout every parser reads; the language column of
  `events_error_v1` then says "python" for such an event, which part 2 should refine).

Sentry orders a chain oldest → newest (the raised exception last) and frames caller → callee;
both orders are kept for Python and reversed where the runtime prints newest first.
"""

from __future__ import annotations

from typing import Any

CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"
_BUILTIN_MODULES = ("builtins", "__main__", "exceptions", None, "")
JVM = ("java", "kotlin", "scala", "groovy", "clojure")
JAVASCRIPT = ("javascript", "node")


def exception_values(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's exceptions, oldest first (`exception` may be `{values: [...]}` or a bare list)."""
    container = event.get("exception")
    values = container.get("values") if isinstance(container, dict) else container
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, dict)]


def frames_of(exception: dict[str, Any]) -> list[dict[str, Any]]:
    stacktrace = exception.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return [frame for frame in frames if isinstance(frame, dict)] if isinstance(frames, list) else []


def qualified_type(exception: dict[str, Any], platform: str) -> str:
    """The type as the runtime prints it: Python prefixes a non-builtin module (`app.errors.Boom`)."""
    name = _text(exception.get("type")) or "Error"
    module = exception.get("module")
    if platform in ("python", "other", "") and module not in _BUILTIN_MODULES and isinstance(module, str):
        return f"{module}.{name}"
    if platform in JVM and isinstance(module, str) and module and "." not in name:
        return f"{module}.{name}"
    return name


def in_app_flags(exception: dict[str, Any]) -> str:
    """The SDK's `in_app` of each frame of `exception`, outermost first (the order the parsers
    give frames in, whatever the language prints): `1`, `0`, or `-` where the SDK did not say."""
    return "".join("-" if not isinstance(f.get("in_app"), bool) else "1" if f["in_app"] else "0" for f in frames_of(exception))


def render(exceptions: list[dict[str, Any]], platform: str) -> str:
    """The chain `exceptions` (oldest first) as `platform` prints it; "" for no exception."""
    if not exceptions:
        return ""
    if platform in JAVASCRIPT:
        return _render_v8(exceptions)
    if platform in JVM:
        return _render_jvm(exceptions, platform)
    return _render_python(exceptions, platform)


def _render_python(exceptions: list[dict[str, Any]], platform: str) -> str:
    blocks: list[str] = []
    for position, exception in enumerate(exceptions):
        if position:
            blocks.append(_python_link(exception))
        lines: list[str] = []
        frames = frames_of(exception)
        if frames:
            lines.append("Traceback (most recent call last):")
            for frame in frames:
                path = _text(frame.get("abs_path")) or _text(frame.get("filename")) or "<unknown>"
                where = f'  File "{path}", line {_line(frame)}'
                function = _text(frame.get("function"))
                lines.append(f"{where}, in {function}" if function else where)
                context = _text(frame.get("context_line")).strip()
                if context:
                    lines.append(f"    {context}")
        value = _text(exception.get("value"))
        name = qualified_type(exception, platform)
        lines.append(f"{name}: {value}" if value else name)
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _python_link(exception: dict[str, Any]) -> str:
    """The sentence Python prints before a chained exception. Sentry's Python SDK says which link it
    was only inside exception groups (`mechanism.source`); elsewhere "direct cause" is assumed."""
    mechanism = exception.get("mechanism")
    source = mechanism.get("source") if isinstance(mechanism, dict) else None
    return (CONTEXT if source == "__context__" else CAUSE) + "\n"


def _render_v8(exceptions: list[dict[str, Any]]) -> str:
    """The thrown error's `err.stack`: what V8 prints and the OpenTelemetry JS SDK records (a
    cause is not part of `stack`, and V8's parsers would read its frames as the error's)."""
    exception = exceptions[-1]
    value = _text(exception.get("value"))
    name = _text(exception.get("type")) or "Error"
    lines = [f"{name}: {value}" if value else name]
    for frame in reversed(frames_of(exception)):
        path = _text(frame.get("abs_path")) or _text(frame.get("filename")) or "<anonymous>"
        location = f"{path}:{_line(frame)}" + (f":{frame['colno']}" if isinstance(frame.get("colno"), int) else "")
        function = _text(frame.get("function"))
        lines.append(f"    at {function} ({location})" if function and function != "?" else f"    at {location}")
    return "\n".join(lines)


def _render_jvm(exceptions: list[dict[str, Any]], platform: str) -> str:
    blocks: list[str] = []
    for position, exception in enumerate(reversed(exceptions)):
        value = _text(exception.get("value"))
        name = qualified_type(exception, platform)
        head = f"{name}: {value}" if value else name
        lines = [("Caused by: " if position else "") + head]
        for frame in reversed(frames_of(exception)):
            module = _text(frame.get("module"))
            function = _text(frame.get("function"))
            method = f"{module}.{function}" if module else function
            filename = _text(frame.get("filename")) or "Unknown Source"
            line = frame.get("lineno")
            source = f"{filename}:{line}" if isinstance(line, int) else filename
            lines.append(f"\tat {method}({source})")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _line(frame: dict[str, Any]) -> int | str:
    line = frame.get("lineno")
    return line if isinstance(line, int) and not isinstance(line, bool) else "?"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
