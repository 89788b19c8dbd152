""".NET: `Exception.ToString()` (what the OpenTelemetry .NET SDK records).

    System.InvalidOperationException: Order 12 not found
     ---> System.Collections.Generic.KeyNotFoundException: The given key 'x' was not present.
       at Shop.Orders.Lookup(String id) in /src/Shop/Orders.cs:line 42
       --- End of inner exception stack trace ---
       at Shop.Api.<HandleAsync>d__3.MoveNext() in /src/Shop/Api.cs:line 17
       at System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess(Task task)

The first line holds the outer exception and, after ` ---> `, its inner exceptions (the root
cause last); the frames before each `--- End of inner exception stack trace ---` belong to the
innermost remaining one. Frames are innermost first: reversed.
"""

from __future__ import annotations

import re

from summitcol.errors.parsers.common import MAX_CHAIN, MAX_FRAMES, keep_crash_side, lines, to_int
from summitcol.errors.parsers.frames import ExceptionInfo, Frame

_FRAME = re.compile(r"^[ \t]+at ([^\s(]+)\.([^.\s(]+)\(([^)\n]*)\)(?: in (.+):line (\d+))?$")  # right-stripped lines
_STATE_MACHINE = re.compile(r"^(.*)\.<(\w+)>d__\d+$")
_INNER_END = "--- End of inner exception stack trace ---"
_TYPE_NAME = re.compile(r"[A-Za-z_][\w.`+]*")
_TYPE_SUFFIXES = ("Exception", "Error", "Fault", "Failure")
_LOOKS = re.compile(r"^[ \t]+at [\w.`<>+]+\([^)\n]*\)(?: in [^\n]+:line \d+)?[ \t]*$", re.M)
_LOOKS_SYSTEM = re.compile(r"^[ \t]+at System\.", re.M)


def looks_like(text: str) -> bool:
    return _LOOKS.search(text) is not None and (
        ":line " in text or _INNER_END in text or _LOOKS_SYSTEM.search(text) is not None)


def _head(part: str) -> tuple[str, str]:
    """`Ns.TypeException: message` → (type, message); ("", part) when no type leads it."""
    name, sep, rest = part.partition(":")
    name = name.strip()
    if _TYPE_NAME.fullmatch(name) and ("." in name or name.endswith(_TYPE_SUFFIXES)):
        return name, rest.strip() if sep else ""
    return "", part.strip()


def parse(text: str, exc_type: str = "", message: str = "") -> list[ExceptionInfo]:
    all_lines = lines(text)
    first = next((line for line in all_lines if line.strip()), "")
    # the inner exceptions follow on the first line or, one per line, on lines starting " ---> "
    header = [first, *(line[len(" ---> ") :] for line in all_lines if line.startswith(" ---> "))]
    heads = [_head(part) for part in " ---> ".join(header).split(" ---> ")[:MAX_CHAIN]]
    stacks: list[list[Frame]] = [[]]
    for line in all_lines:
        if line.strip() == _INNER_END:
            stacks.append([])
            continue
        found = _FRAME.match(line)
        if found and len(stacks[-1]) < MAX_FRAMES * 4:
            module, function = found.group(1), found.group(2)
            state_machine = _STATE_MACHINE.match(module) if function == "MoveNext" else None
            if state_machine:  # an async method runs as <Method>d__N.MoveNext(): the source says Method
                module, function = state_machine.group(1), state_machine.group(2)
            stacks[-1].append(Frame(function=function, module=module, file=found.group(4) or "", line=to_int(found.group(5))))
    # stacks[0] is the innermost exception's, the last the outermost's
    stacks = stacks[: len(heads)] + [[] for _ in range(len(heads) - len(stacks))]
    out = []
    for (kind, text_), frames in zip(reversed(heads), stacks, strict=True):  # root cause first
        kept, cut = keep_crash_side(list(reversed(frames)))
        out.append(ExceptionInfo(kind, text_, kept, cut))
    if out and exc_type and not out[-1].type:
        out[-1] = ExceptionInfo(exc_type, out[-1].message or message, out[-1].frames, out[-1].omitted_frames)
    return out
