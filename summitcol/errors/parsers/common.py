"""What every parser shares: the input bounds and frame-list trimming."""

from __future__ import annotations

from summitcol.errors.parsers.frames import Frame

MAX_TEXT_CHARS = 256 * 1024
MAX_FRAMES = 256
MAX_CHAIN = 30
MAX_LINE_CHARS = 4096  # a longer line is cut before any pattern sees it


def clean(text: str) -> str:
    """The text a parser reads: bounded, NULs and CRs gone."""
    text = text[:MAX_TEXT_CHARS]
    if "\x00" in text or "\r" in text:
        text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return text


def lines(text: str) -> list[str]:
    r"""The text's lines, each cut at MAX_LINE_CHARS and right-stripped, so that no pattern needs a
    trailing `\s*$` (after a lazy group, that is quadratic in a line of spaces)."""
    return [line[:MAX_LINE_CHARS].rstrip() for line in text.split("\n")]


def keep_crash_side(frames: list[Frame], crash_last: bool = True) -> tuple[tuple[Frame, ...], int]:
    """At most MAX_FRAMES frames, the crashing side kept; and how many were cut. `frames` are in
    Sentry's order (crash last) when `crash_last`."""
    if len(frames) <= MAX_FRAMES:
        return tuple(frames), 0
    cut = len(frames) - MAX_FRAMES
    return (tuple(frames[-MAX_FRAMES:]) if crash_last else tuple(frames[:MAX_FRAMES])), cut


def to_int(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None
