"""The time formats CI providers write in their payloads, parsed to tz-aware UTC datetimes.

GitLab webhooks mix three formats in one payload family: `2016-08-12 15:23:28 UTC` (pipeline and
older job hooks), RFC 3339 (`2025-04-01T18:31:49.624Z`, test deliveries and `*_iso` fields) and
`2021-04-28 21:50:00 +0200` (deployment `status_changed_at`). GitHub and CircleCI write RFC 3339.
One parser for all of them keeps the mappers from each growing their own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# "2016-08-12 15:23:28 UTC" (Go layout "2006-01-02 15:04:05 UTC", what contrib's gitlabreceiver reads)
_GITLAB_UTC = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) UTC$")
# "2021-04-28 21:50:00 +0200"
_SPACE_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{2}):?(\d{2})$")


class TimeFormatError(ValueError):
    """A payload time in none of the formats above."""


def parse_time(text: object) -> datetime | None:
    """The instant `text` names, as a UTC datetime (microsecond precision), or None when the
    payload has no time there (missing, null, "" or "null", as GitLab writes for unstarted jobs).

    Raises TimeFormatError for a string in no known format, naming it, so that a bad payload is
    reported rather than silently given no time.
    """
    if text is None or text == "" or text == "null":
        return None
    if not isinstance(text, str):
        raise TimeFormatError(f"time {text!r} is not a string; expected e.g. '2016-08-12 15:23:28 UTC' or RFC 3339")
    match = _GITLAB_UTC.match(text)
    if match:
        return _from_iso(f"{match[1]}T{match[2]}+00:00", text)
    match = _SPACE_OFFSET.match(text)
    if match:
        return _from_iso(f"{match[1]}T{match[2]}{match[3]}:{match[4]}", text)
    return _from_iso(text, text)


def _from_iso(iso: str, original: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise TimeFormatError(
            f"time {original!r} is in no known format; expected '2016-08-12 15:23:28 UTC', "
            "'2021-04-28 21:50:00 +0200' or RFC 3339 ('2025-04-01T18:31:49.624Z')"
        ) from None
    if parsed.tzinfo is None:
        # A CI time without a zone (jest-junit's suite timestamp) is UTC by every tool's habit.
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def unix_nanos(moment: datetime) -> int:
    """Nanoseconds since the Unix epoch, exactly (no float rounding), for OTLP span times."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
