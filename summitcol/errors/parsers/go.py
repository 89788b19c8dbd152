"""Go: a panic's output and `runtime/debug.Stack()` (what Go instrumentation records).

    panic: runtime error: index out of range [5] with length 3

    goroutine 1 [running]:
    main.lookup(...)
        /srv/app/orders.go:8
    github.com/shop/api.(*Server).handle(0xc000010000, {0x1, 0x2})
        /srv/app/api/server.go:40 +0x1d
    created by main.main in goroutine 1
        /srv/app/main.go:12 +0x25

Only the first goroutine (the one that panicked) is read, from the caller of its last `panic(…)`
frame outwards: frames above it are deferred functions (a recover, a re-panic), not the crash. A function line is the package path
and the function (`pkg/path.(*Type).Method`), the next line its file and line. A panic message
starting `runtime error:` is a `runtime.Error`; otherwise the type is the exception.type
attribute, else "panic".
"""

from __future__ import annotations

import re

from summitcol.errors.parsers.common import MAX_FRAMES, keep_crash_side, lines, to_int
from summitcol.errors.parsers.frames import ExceptionInfo, Frame

_GOROUTINE = re.compile(r"^goroutine \d+ \[[^\]\n]*\]:\s*$")
_IN_GOROUTINE = re.compile(r" in goroutine \d+$")
_FILE = re.compile(r"^\t(.+):(\d+)(?: \+0x[0-9a-f]+)?$")  # on right-stripped lines
_PANIC = re.compile(r"^(?:panic|fatal error): (.*)$")
_LOOKS = re.compile(r"^goroutine \d+ \[[^\]\n]*\]:", re.M)


def looks_like(text: str) -> bool:
    return _LOOKS.search(text) is not None


def _call_name(line: str) -> str:
    """`main.(*Server).lookup(0x1, {0x2})` → `main.(*Server).lookup` (arguments hold no parentheses)."""
    line = _IN_GOROUTINE.sub("", line.removeprefix("created by "))
    return line[: line.rfind("(")] if line.endswith(")") else line


def split_function(qualified: str) -> tuple[str, str]:
    """`github.com/shop/api.(*Server).handle` → (`github.com/shop/api`, `(*Server).handle`)."""
    slash = qualified.rfind("/")
    dot = qualified.find(".", slash + 1)
    if dot < 0:
        return "", qualified
    return qualified[:dot], qualified[dot + 1 :]


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    panic_message = ""
    frames: list[Frame] = []
    seen_goroutine = False
    pending: tuple[str, str] | None = None
    for line in lines(text):
        if not seen_goroutine:
            found = _PANIC.match(line.strip()) if not panic_message else None
            if found:  # "panic: boom [recovered]" (Go < 1.23), "… [recovered, repanicked]"
                panic_message = found.group(1)
                mark = panic_message.rfind(" [recovered")
                if mark >= 0 and panic_message.endswith("]"):
                    panic_message = panic_message[:mark]
            if _GOROUTINE.match(line.strip()):
                seen_goroutine = True
            continue
        if not line.strip():
            if frames:
                break  # the next goroutine, or the process's exit line
            continue
        location = _FILE.match(line)
        if location and pending is not None:
            if len(frames) < MAX_FRAMES * 4:
                module, function = pending
                frames.append(Frame(function=function, module=module, file=location.group(1), line=to_int(location.group(2))))
            pending = None
            continue
        if not line.startswith("\t"):
            pending = split_function(_call_name(line.strip()))
    if not frames:
        return []
    # innermost first: what ran inside panic() are the deferred functions that recovered or
    # re-panicked, not the crash: the crash site is the caller of the last panic frame
    panics = [i for i, frame in enumerate(frames) if frame.function in ("panic", "gopanic") and frame.module in ("", "runtime")]
    if panics and panics[-1] + 1 < len(frames):
        frames = frames[panics[-1] + 1 :]
    kind = exc_type or ("runtime.Error" if panic_message.startswith("runtime error:") else ("panic" if panic_message else ""))
    kept, cut = keep_crash_side(list(reversed(frames)))
    return [ExceptionInfo(kind, message or panic_message, kept, cut)]
