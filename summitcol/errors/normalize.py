"""Normalization of parsed frames for grouping: what stays the same when the bug stays the same.

Line and column numbers never take part (code inserted above the crash site shifts them all);
files contribute their basename only (temp dirs, checkouts, containers differ), lower-cased,
with bundle hashes removed; generated names (lambdas, CGLIB/javassist proxies, `<anonymous>`,
Go closures, .NET compiler-generated methods, Ruby blocks) are reduced to what the source says;
recursion is collapsed (a frame, or a cycle of up to three frames, repeated is kept once). Each
frame is marked in-app or not: libraries (site-packages, node_modules, vendor dirs), the
runtime (`java.*`, `node:internal`, Go's runtime) are not, unless the user's `in_app_include`
says so; `in_app_exclude` marks more as library code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from summitcol.errors.parsers.frames import ExceptionInfo, Frame, ParsedTrace

# Paths and modules that are never the application's own code.
_LIBRARY_PATH = re.compile(
    r"(?:site-packages|dist-packages|node_modules|/vendor/|/gems/|/\.m2/|/go/pkg/mod/|/usr/lib/python|"
    r"/lib/python\d|/usr/local/lib/|<frozen |^node:|^internal/|/usr/local/go/src/|/GOROOT/|"
    r"\\Microsoft\.NET\\|/dotnet/shared/|^<anonymous>$|^\[native code\]$|/rubygems/|/ruby/\d)",
)
_LIBRARY_MODULE = re.compile(
    r"^(?:java|javax|jdk|sun|com\.sun|kotlin|kotlinx|scala|groovy|org\.junit|org\.springframework|"
    r"org\.apache|io\.netty|reactor|com\.google|okhttp3|System|Microsoft|runtime|reflect|net/http|"
    r"internal|syscall|testing)(?:[./]|$)"
)

_BUNDLE_HASH = re.compile(r"[.-](?=[a-z]*\d)[0-9a-f]{6,32}(?=\.(?:chunk\.|bundle\.|min\.)?m?js\b)")
_QUERY = re.compile(r"[?#].*$")
_CGLIB = re.compile(r"\$\$(?:EnhancerBy|FastClassBy|SpringCGLIB|Lambda|ByteBuddy|Proxy|\$?[A-Za-z]*CGLIB)[\w$/]*")
_JAVASSIST = re.compile(r"_\$\$_javassist_?\w*")
_JAVA_LAMBDA = re.compile(r"lambda\$([\w$]*?)\$\d+")
_JAVA_ANON = re.compile(r"\$\d+\b")
_REFLECTION = re.compile(r"^(?:sun\.reflect|jdk\.internal\.reflect)\.Generated\w*Accessor\d+")
_GO_CLOSURE = re.compile(r"\.func\d+(?:\.\d+)*")
_GO_GENERIC = re.compile(r"\[\.\.\.\]|\[[\w.,* ]+\]")
_DOTNET_GENERATED = re.compile(r"<(\w+)>[a-z]__\w*")
_RUBY_BLOCK = re.compile(r"^block (?:\(\d+ levels\) )?in ")
_RUBY_ERB = re.compile(r"_+\d{4,}_\d{4,}$")
_HEX_SUFFIX = re.compile(r"(?<=[A-Za-z_])0x[0-9a-f]+|@[0-9a-f]{6,}")
_ANONYMOUS = {"<anonymous>", "anonymous", "?", "<unknown>", "[native code]", "Object.<anonymous>"}


@dataclass(frozen=True, slots=True)
class InAppRules:
    """The user's `in_app_include` / `in_app_exclude`: module prefixes, or path fragments (with `/`)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def decide(self, frame: Frame) -> bool:
        if _matches(self.exclude, frame):
            return False
        if _matches(self.include, frame):
            return True
        if frame.module and _LIBRARY_MODULE.match(frame.module):
            return False
        return not (frame.file and _LIBRARY_PATH.search(frame.file))


def _matches(patterns: Sequence[str], frame: Frame) -> bool:
    for pattern in patterns:
        if "/" in pattern or "\\" in pattern:
            if pattern in frame.file:
                return True
        elif frame.module.startswith(pattern) or frame.function.startswith(pattern):
            return True
    return False


def basename(path: str) -> str:
    """A frame's file as grouping sees it: the last path segment, lower-cased, no query, no bundle hash."""
    path = _QUERY.sub("", path)
    name = re.split(r"[/\\]", path.rstrip("/\\"))[-1] if path else ""
    return _BUNDLE_HASH.sub("", name.lower())


def function_name(function: str, language: str) -> str:
    """The function as the source names it, whatever the compiler or runtime generated."""
    name = function.strip()
    if name in _ANONYMOUS:
        return ""
    if language == "java":
        name = _CGLIB.sub("<auto>", _JAVASSIST.sub("<auto>", name))
        name = _JAVA_LAMBDA.sub(r"lambda$\1", name)
    elif language == "go":
        name = _GO_GENERIC.sub("", _GO_CLOSURE.sub(".func", name))
    elif language == "dotnet":
        name = _DOTNET_GENERATED.sub(r"\1", name).replace(".MoveNext", "")
    elif language == "ruby":
        name = _RUBY_ERB.sub("", _RUBY_BLOCK.sub("block in ", name))
    elif language in ("node", "javascript"):
        name = name.removeprefix("async ").removeprefix("new ")
        name = name.rsplit(".", 1)[-1] if "." in name else name  # Sentry keeps the last segment
        if name in _ANONYMOUS:
            return ""
    return _HEX_SUFFIX.sub("", name)


def module_name(module: str, language: str) -> str:
    if not module:
        return ""
    if _REFLECTION.match(module):
        return "<auto>"
    if language == "java":
        module = _JAVA_ANON.sub("$<n>", _CGLIB.sub("<auto>", _JAVASSIST.sub("<auto>", module)))
    elif language == "go":
        module = _GO_GENERIC.sub("", module)
    return _HEX_SUFFIX.sub("", module)


def collapse_recursion(frames: Sequence[Frame], key=lambda f: (f.module, f.function, f.file)) -> list[Frame]:  # noqa: ANN001
    """Frames with each run of a repeated frame, or a repeated cycle of 2–3 frames, kept once."""
    out: list[Frame] = []
    keys: list[object] = []
    for frame in frames:
        k = key(frame)
        out.append(frame)
        keys.append(k)
        for period in (1, 2, 3):
            if len(keys) >= 2 * period and keys[-period:] == keys[-2 * period : -period]:
                del out[-period:]
                del keys[-period:]
                break
    return out


@lru_cache(maxsize=65536)
def _normalized(function: str, module: str, file: str, in_app: bool | None, language: str, rules: InAppRules) -> tuple[str, str, str, bool]:
    """Memoized on what it reads: the same frames recur in thousands of traces, at other lines."""
    decided = rules.decide(Frame(function=function, module=module, file=file)) if in_app is None else in_app
    return function_name(function, language), module_name(module, language), basename(file), decided


def in_app(frame: Frame, language: str, rules: InAppRules) -> bool:
    return _normalized(frame.function, frame.module, frame.file, frame.in_app, language, rules)[3]


def normalize_frame(frame: Frame, language: str, rules: InAppRules) -> Frame:
    function, module, file, in_app = _normalized(frame.function, frame.module, frame.file, frame.in_app, language, rules)
    return Frame(function, module, file, frame.line, frame.column, in_app, frame.context_line)


def normalize(trace: ParsedTrace, rules: InAppRules = InAppRules()) -> ParsedTrace:  # noqa: B008 - frozen
    """The trace with every frame normalized and marked, and recursion collapsed."""
    language = trace.language
    exceptions = tuple(
        ExceptionInfo(exc.type, exc.message, tuple(collapse_recursion([normalize_frame(f, language, rules) for f in exc.frames])),
                      exc.omitted_frames)
        for exc in trace.exceptions
    )
    return ParsedTrace(language, exceptions, trace.fallback)


def crash_frame(exc: ExceptionInfo) -> Frame | None:
    """The crashing frame Sentry's "culprit" names: the innermost in-app frame, else the innermost."""
    for frame in reversed(exc.frames):
        if frame.in_app:
            return frame
    return exc.frames[-1] if exc.frames else None
