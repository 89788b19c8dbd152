"""JavaScript stacks: V8 (Node.js, Chrome, Edge) and SpiderMonkey/JavaScriptCore (Firefox, Safari).

    TypeError: Cannot read properties of undefined (reading 'id')      V8
        at lookup (/srv/app/orders.js:12:15)
        at async Router.handle (file:///srv/app/router.mjs:40:5)
        at new Cart (/srv/app/cart.js:3:9)
        at /srv/app/index.js:7:1
        at Object.<anonymous> (/srv/app/main.js:1:1)
        at node:internal/main/run_main_module:28:49

    lookup@https://shop.example/static/js/main.3f2a1b.js:1:23456           Firefox / Safari
    @https://shop.example/static/js/main.3f2a1b.js:1:999
    global code@https://shop.example/app.js:4:2

The message line may span several lines (V8 prints the whole message): everything before the
first frame line is the exception. Frames are innermost first: reversed.
"""

from __future__ import annotations

import re

from summitcol.errors.parsers.common import MAX_FRAMES, keep_crash_side, lines, to_int
from summitcol.errors.parsers.frames import ExceptionInfo, Frame

# Every pattern is anchored and free of ambiguous repetition, and lines are right-stripped
# before matching, so a hostile line costs time linear in its length (no `(.*?)\s*$`).
_V8_AT = re.compile(r"^[ \t]+at (?:async )?")
_V8_BARE = re.compile(r"[^\s()]+")
_GECKO_NAME = re.compile(r"[^@\s]*(?: [^@\s]+)*")  # "fn", "outer/inner<", "global code", ""
_LINE_COLUMN = re.compile(r"^(.*):(\d+):(\d+)$")
_LINE = re.compile(r"^(.*):(\d+)$")
_HEAD = re.compile(r"^([A-Za-z_$][\w$.]*)(?::\s?(.*))?$")
_LOOKS_V8 = re.compile(r"^[ \t]+at [^\n]*:\d+:\d+\)?[ \t]*$", re.M)
_LOOKS_GECKO = re.compile(
    r"^[^@\s]*@(?:https?|file|webpack|blob|resource|moz-extension|chrome-extension)://[^\s]+:\d+:\d+[ \t]*$", re.M)
_LOOKS_NODE = re.compile(r"^[ \t]+at [^\n]*?(?:node:|node_modules|\(/|\(file:///|\([A-Z]:\\)", re.M)


def looks_like(text: str) -> bool:
    return _LOOKS_V8.search(text) is not None or _LOOKS_GECKO.search(text) is not None


def looks_like_node(text: str) -> bool:
    return _LOOKS_NODE.search(text) is not None and looks_like(text)


def _v8_frame(line: str) -> tuple[str, str] | None:
    """(function, location) of `    at fn (location)` or `    at location`; None for other lines.
    The function ends at the first " (" and the location at the last ")": eval frames nest
    parentheses, `at eval (eval at run (/a.js:1:2), <anonymous>:1:1)`."""
    at = _V8_AT.match(line)
    if at is None:
        return None
    rest = line[at.end() :]
    if rest.endswith(")"):
        open_ = rest.find(" (")
        if open_ >= 0:
            return rest[:open_], rest[open_ + 2 : -1]
    return ("", rest) if _V8_BARE.fullmatch(rest) else None


def _split_location(location: str) -> tuple[str, int | None, int | None]:
    if location.startswith("eval at ") and "(" in location:
        # "eval at fn (file:1:2), <anonymous>:3:4": where eval was called is the frame's site
        location = location[location.find("(") + 1 : location.find(")")]
    found = _LINE_COLUMN.match(location)
    if found:
        return found.group(1), to_int(found.group(2)), to_int(found.group(3))
    found = _LINE.match(location)
    if found:
        return found.group(1), to_int(found.group(2)), None
    return location, None, None


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    head: list[str] = []
    frames: list[Frame] = []
    for line in lines(text):
        if not line:
            if not frames and head:
                head.append("")
            continue
        v8 = _v8_frame(line)
        if v8 is not None:
            if len(frames) < MAX_FRAMES * 4:
                function = v8[0].removeprefix("new ")
                file, number, column = _split_location(v8[1])
                frames.append(Frame(function=function, file=file, line=number, column=column))
            continue
        gecko = _gecko_frame(line.lstrip()) if ("@" in line and ":" in line) else None
        if gecko is not None and (frames or gecko.line is not None):
            frames.append(gecko)
            continue
        if not frames:
            head.append(line.strip())
    if "" in head and _LINE.match(head[0]):
        # Node's report of an uncaught error starts with the throw site, its source line and a
        # caret ("node:internal/modules/cjs/loader:1644", "    throw err;", "    ^"), then a blank
        # line and the stack: the exception is what follows the blank line
        head = head[head.index("") + 1 :]
    first = " ".join(part for part in head if part)
    found = _HEAD.match(first) if first else None
    kind = exc_type or (found.group(1) if found and (found.group(2) is not None or not message) else "")
    text_ = message or ((found.group(2) or "") if found else first)
    kept, cut = keep_crash_side(list(reversed(frames)))
    return [ExceptionInfo(kind, text_.strip(), kept, cut)] if frames else []


def _gecko_frame(line: str) -> Frame | None:
    """`fn@url:line:col` (Firefox, Safari); Firefox names inner functions `outer/inner<`, Safari
    names top-level code `global code`."""
    name = _GECKO_NAME.match(line)
    end = name.end() if name else 0
    if line[end : end + 1] != "@":
        return None
    file, number, column = _split_location(line[end + 1 :])
    function = line[:end].rsplit("/", 1)[-1].rstrip("<")
    return Frame(function="" if function == "global code" else function, file=file, line=number, column=column)
