"""Python: `traceback.format_exception` (what the OpenTelemetry SDK records), chains included.

    Traceback (most recent call last):
      File "/srv/app/orders.py", line 12, in lookup
        return ORDERS[order_id]
    KeyError: 'a-1'

    The above exception was the direct cause of the following exception:   (or "During handling …")

Frames are printed outermost first, the order Summit keeps; chained exceptions are printed root
cause first, also Summit's order.
"""

from __future__ import annotations

import re

from summitcol.errors.parsers.common import MAX_CHAIN, keep_crash_side, lines, to_int
from summitcol.errors.parsers.frames import ExceptionInfo, Frame

_HEADERS = ("Traceback (most recent call last):", "Exception Group Traceback (most recent call last):")
_REPEATED = re.compile(r"^\s*\[Previous line repeated (\d+) more times?\]$")
_FRAME = re.compile(r'^\s*File "([^"\n]*)", line (\d+)(?:, in (.*))?$')
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:\[[\w.]*\])?)(?::\s?(.*))?$")
_CHAIN_MARKERS = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
_LOOKS = re.compile(r'^[ \t]*File "[^"\n]+", line \d+', re.M)
_GROUP_HEADER = "+ Exception Group Traceback (most recent call last):"


def looks_like(text: str) -> bool:
    return "Traceback (most recent call last):" in text or _LOOKS.search(text) is not None


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    out: list[ExceptionInfo] = []
    frames: list[Frame] = []
    in_trace = False
    pending_context = False
    repeated = 0
    group_indent = -1  # the box indent of the outermost ExceptionGroup's own lines
    for raw in lines(text):
        line = raw
        stripped = raw.lstrip()
        if group_indent < 0 and stripped == _GROUP_HEADER:
            group_indent = len(raw) - len(stripped)
        if group_indent >= 0 and stripped.startswith(("|", "+")):
            # ExceptionGroup: "  + Exception Group Traceback", "  | " its own lines, "  +-+---- 1 ----"
            # then its sub-exceptions further in. Best effort: the group is what was reported;
            # its sub-exceptions (boxes indented deeper) are not part of the chain
            if len(raw) - len(stripped) > group_indent or stripped.startswith("+-"):
                continue
            line = stripped[2:]
        if line.strip() in _HEADERS:
            in_trace, frames, pending_context, repeated = True, [], False, 0
            continue
        again = _REPEATED.match(line) if in_trace else None
        if again:  # recursion: the last frame ran N more times
            repeated += int(again.group(1))
            continue
        if line.strip() in _CHAIN_MARKERS:
            continue
        found = _FRAME.match(line)
        if found and in_trace:
            function = (found.group(3) or "").strip()
            frames.append(Frame(function=function, file=found.group(1), line=to_int(found.group(2)),
                                module=_module(found.group(1))))
            pending_context = True
            continue
        if in_trace and pending_context and line.startswith("    ") and frames:
            stripped = line.strip()
            if stripped and not set(stripped) <= set("^~ "):  # 3.11's carets are no code
                last = frames[-1]
                if not last.context_line:
                    frames[-1] = Frame(last.function, last.module, last.file, last.line, None, None, stripped[:200])
            continue
        if in_trace and line and not line.startswith(" "):
            head = _EXCEPTION.match(line.strip())
            if head:
                kept, cut = keep_crash_side(frames)
                out.append(ExceptionInfo(head.group(1), (head.group(2) or "").strip(), kept, cut + repeated))
                in_trace, frames = False, []
    if in_trace and frames:  # cut off before its exception line (a truncated attribute)
        kept, cut = keep_crash_side(frames)
        out.append(ExceptionInfo(exc_type, message, kept, cut + repeated))
    # printed root cause first: past MAX_CHAIN, the causes furthest from the report are dropped
    out = out[-MAX_CHAIN:]
    if out and exc_type and not out[-1].type:
        out[-1] = ExceptionInfo(exc_type, out[-1].message or message, out[-1].frames, out[-1].omitted_frames)
    return out


def _module(path: str) -> str:
    """The dotted module of a library file (`…/site-packages/requests/api.py` → `requests.api`);
    "" for application files, which group by their basename (their directories differ by host)."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            rest = path.rsplit(marker, 1)[1]
            return rest.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return ""
