"""Graph's date-time values: 100 ns ticks since the epoch, read from ISO 8601 and printed as Graph does.

The one owner of the emulator's time values. Every model keeps instants as integer ticks of
100 ns since 1970-01-01 UTC, so that the seven fraction digits Graph writes survive
(``createdDateTime`` "2019-02-01T17:36:59.3384396Z" in the event page's example,
https://learn.microsoft.com/graph/api/resources/event; ``startDateTime`` of
https://learn.microsoft.com/graph/api/resources/onlinemeeting is an ``Edm.DateTimeOffset``
"in ISO 8601 format [...] always in UTC time").
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any

from meetings_emulator.errors import bad_request

TICKS_PER_SECOND = 10_000_000
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

_ISO_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def now_ticks() -> int:
    """The current UTC time in ticks."""
    return time.time_ns() // 100


def epoch_ticks(seconds: float) -> int:
    """Ticks of an epoch time in seconds (``time.time()``)."""
    return round(seconds * TICKS_PER_SECOND)


def ticks_of(moment: datetime.datetime, fraction: int = 0) -> int:
    """Ticks of an aware ``moment`` (whole seconds) plus ``fraction`` ticks."""
    return int((moment - EPOCH).total_seconds()) * TICKS_PER_SECOND + fraction


def wall_clock(ticks: int, zone: datetime.tzinfo = datetime.timezone.utc) -> str:
    """``ticks`` as ``YYYY-MM-DDTHH:MM:SS.fffffff`` (seven fraction digits) on ``zone``'s clock, no offset."""
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    moment = (EPOCH + datetime.timedelta(seconds=seconds)).astimezone(zone)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:07d}"


def format_ticks(ticks: int) -> str:
    """UTC ticks as Graph prints them: ``2020-02-06T01:49:21.3524945Z``."""
    return wall_clock(ticks) + "Z"


def parse_datetime(value: Any, field_name: str) -> int:
    """Parse an ISO-8601 date-time (any offset, any fraction length) into UTC ticks.

    A value without an offset is taken as UTC, as Graph does. Raises a 400
    :class:`~meetings_emulator.errors.GraphError` for anything else (a date without a time
    too: the pages ask for a date and time).
    """
    if not isinstance(value, str):
        raise bad_request(f"Invalid value for '{field_name}': expected an ISO 8601 date-time.")
    match = _ISO_RE.match(value.strip())
    if not match:
        raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.")
    try:
        base = datetime.datetime.strptime(
            f"{match['date']}T{match['h']}:{match['m']}:{match['s'] or '00'}", "%Y-%m-%dT%H:%M:%S"
        )
    except ValueError:
        raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.") from None
    offset = datetime.timedelta(0)
    tz = match["tz"]
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    aware = base.replace(tzinfo=datetime.timezone.utc) - offset
    return ticks_of(aware, int((match["frac"] or "")[:7].ljust(7, "0")))
