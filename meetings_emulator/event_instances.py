"""The occurrences of a series: ``GET .../events/{id}/instances`` (event-list-instances), free of HTTP.

https://learn.microsoft.com/graph/api/event-list-instances: "Get the instances (occurrences)
of an event for a specified time range"; ``startDateTime`` and ``endDateTime`` are required
(ISO 8601). Each instance is an event of ``type`` ``occurrence`` with the master's id in
``seriesMasterId`` (resources/event, ``type`` and ``seriesMasterId``). Cancelling an instance
(event-cancel on its id) removes that day from the series.

The emulator expands every pattern type of resources/recurrencepattern: ``daily``,
``weekly``, ``absoluteMonthly``, ``relativeMonthly``, ``absoluteYearly`` and ``relativeYearly``.
A relative pattern's ``index`` counts the days of the month that are one of ``daysOfWeek``
(``first`` .. ``fourth``, or ``last``): Exchange's DayOfWeekIndex, "the second Monday of a
month may occur in the third week of that month"
(learn.microsoft.com/exchange/client-developer/web-service-reference/dayofweekindex). With
several days (e.g. Monday to Friday), the first such day of the month (an assumption,
docs/emulator.md).
Instance ids are ``{masterId}.{YYYYMMDD}`` (Graph's are opaque: an assumption), each
occurrence at the master's wall-clock time in its start zone.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator, Mapping
from typing import Any

from meetings_emulator.errors import bad_request
from meetings_emulator.event_times import to_utc_ticks
from meetings_emulator.ticks import parse_datetime

SUPPORTED = ("daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday() order
#: No expansion walks further than this from the range's start (an emulator bound).
MAX_DAYS = 366 * 20
INSTANCE_ID_RE = re.compile(r"^(?P<master>.+)\.(?P<day>\d{8})$")
#: ``index`` of a relative pattern (resources/weekindex): its position among the month's days
#: that are one of ``daysOfWeek``; ``last`` counts from the end.
_WEEK_INDEX = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}


def instance_id(master_id: str, day: datetime.date) -> str:
    """The emulator's id of the master's occurrence on ``day``."""
    return f"{master_id}.{day:%Y%m%d}"


def split_instance_id(event_id: str) -> tuple[str, datetime.date] | None:
    """``(master id, day)`` of an instance id, or ``None`` for an id of a stored event."""
    match = INSTANCE_ID_RE.match(event_id)
    if match is None:
        return None
    try:
        return match["master"], datetime.datetime.strptime(match["day"], "%Y%m%d").date()
    except ValueError:
        return None


def window_ticks(value: Any, name: str) -> int:
    """UTC ticks of ``startDateTime``/``endDateTime``: "represented in ISO 8601 format. For
    example, 2019-11-08T19:00:00-08:00" (event-list-instances, "Query parameters"); without an
    offset, UTC (an assumption). Read as every Graph date-time is
    (:func:`~meetings_emulator.ticks.parse_datetime`): its fraction counts, to the tick."""
    return parse_datetime(value, name)


def _dates(pattern: Mapping[str, Any], span: Mapping[str, Any]) -> Iterator[datetime.date]:
    """Every occurrence date of the pattern from the range's start, in order (without the range's end)."""
    begin = datetime.date.fromisoformat(span["startDate"])
    interval = int(pattern.get("interval") or 1)
    kind = pattern["type"]
    if kind == "daily":
        for n in range(0, MAX_DAYS, interval):
            yield begin + datetime.timedelta(days=n)
    elif kind == "weekly":
        first = _DAYS.index(pattern.get("firstDayOfWeek") or "sunday")
        week_start = begin - datetime.timedelta(days=(begin.weekday() - first) % 7)
        days = sorted((_DAYS.index(d) - first) % 7 for d in pattern.get("daysOfWeek") or ())
        for week in range(0, MAX_DAYS // 7, interval):
            for offset in days:
                day = week_start + datetime.timedelta(days=7 * week + offset)
                if day >= begin:
                    yield day
    else:
        yearly = kind in ("absoluteYearly", "relativeYearly")
        step = interval * 12 if yearly else interval
        for n in range(0, MAX_DAYS // 28, step):
            year, month = divmod((int(pattern["month"]) if yearly else begin.month) - 1 + n, 12)
            day = _day_in_month(pattern, kind, begin.year + year, month + 1)
            if day is not None and day >= begin:
                yield day


def _day_in_month(pattern: Mapping[str, Any], kind: str, year: int, month: int) -> datetime.date | None:
    """The pattern's day in ``month`` of ``year``, or ``None`` when the month has none (the 31st)."""
    if kind in ("absoluteMonthly", "absoluteYearly"):
        try:
            return datetime.date(year, month, int(pattern["dayOfMonth"]))
        except ValueError:
            return None
    weekdays = {_DAYS.index(d) for d in pattern.get("daysOfWeek") or ()}
    length = calendar.monthrange(year, month)[1]
    days = [
        date for date in (datetime.date(year, month, n) for n in range(1, length + 1)) if date.weekday() in weekdays
    ]
    return days[_WEEK_INDEX[pattern.get("index") or "first"]] if days else None


def occurrence_dates(recurrence: Mapping[str, Any]) -> Iterator[datetime.date]:
    """The series' dates within its range (``endDate`` inclusive, ``numberOfOccurrences``, ``noEnd``)."""
    pattern, span = recurrence["pattern"], recurrence["range"]
    if pattern.get("type") not in SUPPORTED:
        raise bad_request(
            f"The emulator lists instances of {', '.join(SUPPORTED)} series only, not {pattern.get('type')!r}."
        )
    end = datetime.date.fromisoformat(span["endDate"]) if span.get("type") == "endDate" else None
    count = int(span.get("numberOfOccurrences") or 0) if span.get("type") == "numbered" else None
    for n, day in enumerate(_dates(pattern, span)):
        if (end is not None and day > end) or (count is not None and n >= count):
            return
        yield day


def occurrences(
    master: Mapping[str, Any], start_ticks: int, end_ticks: int, window: tuple[int, int], cancelled: set[str]
) -> list[tuple[datetime.date, int, int]]:
    """``(day, start ticks, end ticks)`` of the master's occurrences overlapping ``window``,
    cancelled days left out.

    :param master: the master's resource (``recurrence``, ``start`` in its zone)
    :param start_ticks: the master's start in UTC ticks
    :param end_ticks: its end
    :param window: ``(startDateTime, endDateTime)`` in UTC ticks
    :param cancelled: ISO dates of cancelled occurrences
    """
    zone = master["start"]["timeZone"]
    wall_clock = master["start"]["dateTime"][11:19]
    duration = end_ticks - start_ticks
    found = []
    for day in occurrence_dates(master["recurrence"]):
        begin = to_utc_ticks(f"{day.isoformat()}T{wall_clock}", zone, "start")
        if begin >= window[1]:
            break
        if begin + duration > window[0] and day.isoformat() not in cancelled:
            found.append((day, begin, begin + duration))
    return found
