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

_V8_CALL = re.compile(r"^\s+at (?:async )?(.*?) \((.*)\)\s*$")
_V8_BARE = re.compile(r"^\s+at (?:async )?([^\s()]+)\s*$")
_GECKO = re.compile(r"^\s*([^@\s]*(?: [^@\s]+)*)@(.+?)\s*$")
_LOCATION = re.compile(r"^(.*?):(\d+)(?::(\d+))?$")
_HEAD = re.compile(r"^([A-Za-z_$][\w$.]*)(?::\s?(.*))?$")
_EVAL = re.compile(r"^eval at [^(]*\((.*?)\)")


def looks_like(text: str) -> bool:
    return bool(re.search(r"^\s+at .+:\d+:\d+\)?\s*$", text, re.M)) or bool(
        re.search(r"^[^@\s]*@(?:https?|file|webpack|blob|resource|moz-extension|chrome-extension)://\S+:\d+:\d+\s*$", text, re.M))


def looks_like_node(text: str) -> bool:
    return bool(re.search(r"^\s+at .*(?:node:|node_modules|\(/|\(file:///|\([A-Z]:\\)", text, re.M)) and looks_like(text)


def _split_location(location: str) -> tuple[str, int | None, int | None]:
    evaluated = _EVAL.match(location)
    if evaluated:  # "eval at fn (file:1:2), <anonymous>:3:4": the eval's own site
        location = evaluated.group(1)
    found = _LOCATION.match(location)
    if not found:
        return location, None, None
    return found.group(1), to_int(found.group(2)), to_int(found.group(3))


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    head: list[str] = []
    frames: list[Frame] = []
    for line in lines(text):
        if not line.strip():
            continue
        call = _V8_CALL.match(line)
        bare = None if call else _V8_BARE.match(line)
        if call or bare:
            if len(frames) < MAX_FRAMES * 4:
                function, location = (call.group(1), call.group(2)) if call else ("", bare.group(1))  # type: ignore[union-attr]
                function = function.removeprefix("new ")
                file, number, column = _split_location(location)
                frames.append(Frame(function=function, file=file, line=number, column=column))
            continue
        gecko = _GECKO.match(line) if ("@" in line and ":" in line) else None
        if gecko and (frames or _LOCATION.match(gecko.group(2))):
            file, number, column = _split_location(gecko.group(2))
            if number is not None or frames:
                function = gecko.group(1).rsplit("/", 1)[-1]  # Firefox names inner functions "outer/inner<"
                if function == "global code":
                    function = ""
                frames.append(Frame(function=function.rstrip("<"), file=file, line=number, column=column))
                continue
        if not frames:
            head.append(line.strip())
    first = " ".join(head)
    found = _HEAD.match(first) if first else None
    kind = exc_type or (found.group(1) if found and (found.group(2) is not None or not message) else "")
    text_ = message or ((found.group(2) or "") if found else first)
    kept, cut = keep_crash_side(list(reversed(frames)))
    return [ExceptionInfo(kind, text_.strip(), kept, cut)] if frames else []
