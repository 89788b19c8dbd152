"""What a stack-trace parser produces: exceptions made of frames, in Sentry's order.

Frames run from the outermost call to the crashing frame (the last one), whatever order the
language prints them in; a chain runs from the root cause to the exception that was reported
(the last one). Parsers fill what the text says and leave `in_app` unset: in-app detection is
normalization's (normalize.py), so it follows the user's `in_app_include`/`in_app_exclude`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("python", "java", "node", "javascript", "go", "dotnet", "ruby", "unknown")


@dataclass(frozen=True, slots=True)
class Frame:
    function: str = ""
    module: str = ""  # Python module, Java/.NET class, Go package; "" when the text has none
    file: str = ""  # as written: an absolute path, a relative one, or a URL
    line: int | None = None
    column: int | None = None
    in_app: bool | None = None  # set by normalization
    context_line: str = ""  # the source line when the trace prints it (Python)


@dataclass(frozen=True, slots=True)
class ExceptionInfo:
    type: str
    message: str = ""
    frames: tuple[Frame, ...] = ()
    omitted_frames: int = 0  # Java's "... N more" and frames cut at the parser's limit


@dataclass(frozen=True, slots=True)
class ParsedTrace:
    language: str
    exceptions: tuple[ExceptionInfo, ...] = field(default_factory=tuple)
    fallback: bool = False  # no parser understood the text: type and message only

    @property
    def reported(self) -> ExceptionInfo | None:
        """The exception that was raised to the caller (the last of the chain)."""
        return self.exceptions[-1] if self.exceptions else None
