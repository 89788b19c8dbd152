"""What decoding one request produced: the data plus what had to be rejected and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from summitcol.exceptions import InvalidDataError

DEFAULT_MAX_ATTRIBUTES = 1024
# Records (spans, log records, data points) in one request, valid or not. 500,000 is well above
# what any SDK or collector batches, and bounds the work a cheap 2 MB request of empty records
# can cause (1,000,000 of them took seconds of GIL-holding work before the bound).
DEFAULT_MAX_RECORDS = 500_000
MAX_REASONS = 5  # reasons a Rejections keeps for the client's error_message
# Arrow `string` columns have int32 offsets: no column of a decoded request may hold more text.
MAX_COLUMN_BYTES = 2**31 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeLimits:
    """Limits the receiver enforces: a record over `max_attributes` is rejected (partial
    success); a request of more than `max_records` records is refused as a whole (400).

    `max_column_bytes` bounds the text one column of a request may render (the whole request is
    refused past it, as its offsets would wrap); only tests lower it.
    """

    max_attributes: int = DEFAULT_MAX_ATTRIBUTES
    max_records: int = DEFAULT_MAX_RECORDS
    max_column_bytes: int = MAX_COLUMN_BYTES
    # Called with the bytes of the resource/scope columns about to be repeated on every record,
    # before they are built; raises to refuse the request (the memory limiter's admission).
    reserve: Callable[[int], None] | None = field(default=None, compare=False)


def check_record_count(count: int, limits: DecodeLimits, items: str) -> None:
    """InvalidDataError when a request holds more than `limits.max_records` records."""
    if count > limits.max_records:
        raise InvalidDataError(
            f"request holds {count} {items}, more than max_records_per_request ({limits.max_records}); send smaller batches"
        )


DEFAULT_LIMITS = DecodeLimits()


@dataclass(slots=True)
class Rejections:
    """Records dropped as invalid while decoding, with the first few reasons for the client."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        self.count += 1
        if len(self.reasons) < MAX_REASONS:
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
