"""The fingerprint: a deterministic hash of what identifies a bug in a parsed exception.

As Sentry's default grouping: for each exception of the chain, its type and its frames (in-app
frames only when the trace has any), each frame contributing its module, or its file's basename
when it has none, and its function — never line numbers; and the crashing frame's source line
when the trace prints it (Python), so two raise statements of one function are two bugs, while
code inserted above them changes nothing. The message contributes only when no
frame does (Sentry: "stack trace takes precedence"), and then as its template. The hash is MD5
over the contributing values (Sentry's `hash_from_values`), so it is the same in every worker,
after a restart and on another machine.

Call paths make new fingerprints (an HTTP handler and a background job reaching the same crash
site differ in their outer frames): those are joined by the grouping model (grouping.py), which
sees the crash frame, the frame sequence and the message template.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import orjson

from summitcol.errors.normalize import InAppRules, crash_frame, normalize
from summitcol.errors.normalize import in_app as is_in_app
from summitcol.errors.parameterize import parameterize
from summitcol.errors.parsers.frames import Frame, ParsedTrace
from summitcol.errors.rules import FingerprintRules

MAX_CONTRIBUTING_FRAMES = 50  # per exception, crash side kept (Sentry's max-frames idea)
MAX_TITLE_CHARS = 200
MAX_CONTEXT_CHARS = 120  # Sentry discards longer context lines (minified code)


def frame_token(frame: Frame) -> str:
    """What one frame contributes: `module:function`, or `file:function` without a module."""
    return f"{frame.module or frame.file}:{frame.function}"


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    fingerprint: str  # 32 hex digits
    language: str
    exception_type: str  # the reported exception's
    message: str
    template: str
    trace: ParsedTrace  # normalized
    parsed: ParsedTrace  # as the parser read it: the frames stored and shown (whole paths, real names)
    raw_in_app: tuple[int, ...]  # 1/0 for each frame of the reported exception in `parsed`
    crash: Frame | None
    signature: tuple[str, ...]  # contributing frame tokens of the reported exception, crash last
    custom: bool  # a fingerprint rule set it without {{ default }}: the model does not regroup it
    title: str
    # The line of each frame of the reported exception in `parsed`, as stored (0 for none); the
    # tracker's shape cache reuses one parse for traces that differ only in line numbers.
    lines: tuple[int, ...] = ()

    @property
    def crash_token(self) -> str:
        return frame_token(self.crash) if self.crash is not None else ""


def _contributing(frames: tuple[Frame, ...], app_only: bool) -> list[str]:
    chosen = [frame for frame in frames if frame.in_app or not app_only]
    return [frame_token(frame) for frame in chosen[-MAX_CONTRIBUTING_FRAMES:] if frame.function or frame.module or frame.file]


def hash_values(values: list[str]) -> str:
    return hashlib.md5("\x00".join(values).encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def default_values(trace: ParsedTrace, template: str) -> list[str]:
    """The values the default grouping hashes."""
    app_only = any(frame.in_app for exc in trace.exceptions for frame in exc.frames)
    values: list[str] = [trace.language if trace.language != "unknown" else ""]
    any_frames = False
    for exc in trace.exceptions:
        tokens = _contributing(exc.frames, app_only)
        any_frames = any_frames or bool(tokens)
        values.append(exc.type)
        values.extend(tokens)
        crash = crash_frame(exc)
        if crash is not None and crash.context_line and len(crash.context_line) <= MAX_CONTEXT_CHARS:
            values.append(" ".join(crash.context_line.split()))  # two raise statements in one function differ here
    if not any_frames:
        values.append(template)
    return values


SDK_FINGERPRINT = "sentry.fingerprint"  # a record attribute: the Sentry SDK's `fingerprint`, a JSON array
# a record attribute: the Sentry SDK's `in_app` of the raised exception's frames, outermost first, as
# `1`/`0`/`-` (not said); applied to the parsed frames when their number agrees
SDK_IN_APP = "sentry.exception.in_app"


def with_sdk_in_app(parsed: ParsedTrace, flags: str | None) -> ParsedTrace:
    """`parsed` with the SDK's in-app decisions on its reported exception's frames: the SDK applied
    the application's own in_app_include/exclude, so it knows better than path heuristics. Left
    as is when there are no flags or their number is not the frames'."""
    reported = parsed.reported
    if not flags or reported is None or len(flags) != len(reported.frames):
        return parsed
    frames = tuple(frame if flag == "-" else replace(frame, in_app=flag == "1") for frame, flag in zip(reported.frames, flags, strict=True))
    return replace(parsed, exceptions=(*parsed.exceptions[:-1], replace(reported, frames=frames)))
DEFAULT_PART = "{{ default }}"
_DEFAULT_VARIANT = re.compile(r"^\{\{\s*default\s*\}\}$")


def sdk_fingerprint(value: str | None) -> list[str] | None:
    """The parts of an SDK's fingerprint array (`{{default}}` spelled any way normalized), or
    None when there is none or it is not a non-empty JSON array of strings."""
    if not value:
        return None
    try:
        parts = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        return None
    return [DEFAULT_PART if _DEFAULT_VARIANT.match(p.strip()) else p for p in parts]


def fingerprint(
    parsed: ParsedTrace,
    *,
    in_app: InAppRules = InAppRules(),  # noqa: B008 - frozen
    rules: FingerprintRules | None = None,
    tags: Mapping[str, str] | None = None,
) -> Fingerprinted:
    trace = normalize(parsed, in_app)
    reported = trace.reported
    exc_type = reported.type if reported else ""
    message = reported.message if reported else ""
    template = parameterize(message)
    crash = crash_frame(reported) if reported else None
    values = default_values(trace, template)
    default = hash_values(values)
    title = f"{exc_type}: {message}" if exc_type and message else exc_type or message or "<unknown error>"
    custom = False
    outcome = rules.apply(trace, tags or {}, default) if rules is not None else None
    if outcome is not None:  # a server rule wins over the SDK's fingerprint, as in Sentry
        parts, custom_title = outcome
        custom = "{{ default }}" not in parts
        default = hash_values([part if part != "{{ default }}" else default for part in parts])
        title = custom_title or title
    elif (sdk := sdk_fingerprint((tags or {}).get(SDK_FINGERPRINT))) is not None:
        custom = True  # the application said how to group: the model does not regroup it, {{ default }} or not
        default = hash_values([part if part != DEFAULT_PART else default for part in sdk])
    app_only = any(frame.in_app for frame in (reported.frames if reported else ()))
    signature = tuple(_contributing(reported.frames, app_only)) if reported else ()
    return Fingerprinted(
        fingerprint=default,
        language=trace.language,
        exception_type=exc_type,
        message=message,
        template=template,
        trace=trace,
        parsed=parsed,
        raw_in_app=tuple(int(is_in_app(f, parsed.language, in_app)) for f in (parsed.reported.frames if parsed.reported else ())),
        crash=crash,
        signature=signature,
        custom=custom,
        title=title[:MAX_TITLE_CHARS],
        lines=tuple(f.line or 0 for f in (parsed.reported.frames if parsed.reported else ())),
    )
