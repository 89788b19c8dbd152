"""Ruby: `Exception#full_message` / a backtrace (what the OpenTelemetry Ruby SDK records).

    /srv/app/orders.rb:12:in 'Orders#lookup': order 12 not found (KeyError)
        from /srv/app/api.rb:7:in 'block in handle'
        from /usr/lib/ruby/3.3.0/net/http.rb:100:in `request'

Ruby 3.4 quotes with '…', earlier versions with `…'. The first line carries the crashing frame,
the message and, in parentheses, the class. Frames are innermost first: reversed.
"""

from __future__ import annotations

import re

from summitcol.errors.parsers.common import MAX_CHAIN, MAX_FRAMES, keep_crash_side, lines, to_int
from summitcol.errors.parsers.frames import ExceptionInfo, Frame

_FRAME = re.compile(r"^[ \t]*(?:from )?(.+?):(\d+):in [`']([^'\n]*)'(?::\s?(.*))?$")  # on right-stripped lines
_LOOKS = re.compile(r"^[ \t]*(?:from )?\S+\.rb:\d+:in [`']", re.M)
_CLASS = re.compile(r"^(.*) \(([A-Z][\w:]*)\)$")


def looks_like(text: str) -> bool:
    return _LOOKS.search(text) is not None


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    """`full_message` prints the reported exception, then its `cause` the same way (a frame line
    without `from`, carrying message and class): reversed into root cause first."""
    blocks: list[tuple[str, str, list[Frame]]] = []
    for line in lines(text):
        found = _FRAME.match(line)
        if not found:
            continue
        if not blocks or (not line.lstrip().startswith("from ") and found.group(4) is not None):
            if len(blocks) >= MAX_CHAIN:
                break
            kind, text_ = "", ""
            if found.group(4) is not None:
                tail = _CLASS.match(found.group(4))
                kind, text_ = (tail.group(2), tail.group(1)) if tail else ("", found.group(4))
            blocks.append((kind, text_, []))
        frames = blocks[-1][2]
        if len(frames) < MAX_FRAMES * 4:
            label = found.group(3)
            module, _, function = label.rpartition("#") if "#" in label else label.rpartition(".") if "." in label and " " not in label else ("", "", label)
            frames.append(Frame(function=function, module=module, file=found.group(1), line=to_int(found.group(2))))
    out = []
    for kind, text_, frames in reversed(blocks):
        kept, cut = keep_crash_side(list(reversed(frames)))
        out.append(ExceptionInfo(kind, text_, kept, cut))
    if out:  # the attributes describe the reported exception
        last = out[-1]
        out[-1] = ExceptionInfo(exc_type or last.type, message or last.message, last.frames, last.omitted_frames)
    return out
