"""Ruby: `Exception#full_message` / a backtrace (what the OpenTelemetry Ruby SDK records).

    /srv/app/orders.rb:12:in 'Orders#lookup': order 12 not found (KeyError)
        from /srv/app/api.rb:7:in 'block in handle'
        from /usr/lib/ruby/3.3.0/net/http.rb:100:in `request'

Ruby 3.4 quotes with '…', earlier versions with `…'. The first line carries the crashing frame,
the message and, in parentheses, the class. Frames are innermost first: reversed.
"""

from __future__ import annotations

import re

from summitcol.errors.parsers.common import MAX_FRAMES, keep_crash_side, lines, to_int
from summitcol.errors.parsers.frames import ExceptionInfo, Frame

_FRAME = re.compile(r"^[ \t]*(?:from )?(.+?):(\d+):in [`']([^'\n]*)'(?::\s?(.*))?$")  # on right-stripped lines
_LOOKS = re.compile(r"^[ \t]*(?:from )?\S+\.rb:\d+:in [`']", re.M)
_CLASS = re.compile(r"^(.*) \(([A-Z][\w:]*)\)$")


def looks_like(text: str) -> bool:
    return _LOOKS.search(text) is not None


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    frames: list[Frame] = []
    kind, text_ = exc_type, message
    for index, line in enumerate(lines(text)):
        found = _FRAME.match(line)
        if not found:
            continue
        if len(frames) < MAX_FRAMES * 4:
            label = found.group(3)
            module, _, function = label.rpartition("#") if "#" in label else label.rpartition(".") if "." in label and " " not in label else ("", "", label)
            frames.append(Frame(function=function, module=module, file=found.group(1), line=to_int(found.group(2))))
        if index == 0 and found.group(4):
            tail = _CLASS.match(found.group(4))
            if tail:
                text_ = message or tail.group(1)
                kind = exc_type or tail.group(2)
            else:
                text_ = message or found.group(4)
    if not frames:
        return []
    kept, cut = keep_crash_side(list(reversed(frames)))
    return [ExceptionInfo(kind, text_, kept, cut)]
