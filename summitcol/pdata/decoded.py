"""What decoding one request produced: the data plus what had to be rejected and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_MAX_ATTRIBUTES = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeLimits:
    """Per-record limits the receiver enforces; a record over a limit is rejected (partial success)."""

    max_attributes: int = DEFAULT_MAX_ATTRIBUTES
    # Called with the bytes of the resource/scope columns about to be repeated on every record,
    # before they are built; raises to refuse the request (the memory limiter's admission).
    reserve: Callable[[int], None] | None = field(default=None, compare=False)


DEFAULT_LIMITS = DecodeLimits()


@dataclass(slots=True)
class Rejections:
    """Records dropped as invalid while decoding, with the first few reasons for the client."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        self.count += 1
        if len(self.reasons) < 5:
            self.reasons.append(reason)

    def message(self) -> str:
        more = self.count - len(self.reasons)
        suffix = f" (and {more} more)" if more > 0 else ""
        return "; ".join(self.reasons) + suffix


def check_id(value: bytes, size: int, what: str, *, required: bool) -> str | None:
    """A reason why an id is invalid, or None. OTLP ids are 16 (trace) or 8 (span) bytes."""
    if len(value) == size:
        return None
    if not value and not required:
        return None
    return f"{what} must be {size} bytes, got {len(value)}"
