"""``patternedRecurrence`` of a calendar event: checked, and answered with Graph's defaults filled in.

https://learn.microsoft.com/graph/api/resources/patternedrecurrence,
https://learn.microsoft.com/graph/api/resources/recurrencepattern and
https://learn.microsoft.com/graph/api/resources/recurrencerange: a pattern ``type`` of
``daily``, ``weekly``, ``absoluteMonthly``, ``relativeMonthly``, ``absoluteYearly``,
``relativeYearly`` with the properties each type requires (the recurrencepattern table), and a
range ``type`` of ``endDate``, ``noEnd`` or ``numbered`` with a ``startDate``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from meetings_emulator.errors import bad_request

DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
INDEXES = ("first", "second", "third", "fourth", "last")
#: recurrencepattern, "Use the type property to specify the different types of patterns":
#: the properties each pattern type requires besides ``type`` and ``interval``.
REQUIRED_BY_PATTERN: dict[str, tuple[str, ...]] = {
    "daily": (),
    "weekly": ("daysOfWeek",),
    "absoluteMonthly": ("dayOfMonth",),
    "relativeMonthly": ("daysOfWeek",),
    "absoluteYearly": ("dayOfMonth", "month"),
    "relativeYearly": ("daysOfWeek", "month"),
}
#: recurrencerange's types and what each requires besides ``startDate``.
REQUIRED_BY_RANGE: dict[str, tuple[str, ...]] = {
    "endDate": ("endDate",),
    "noEnd": (),
    "numbered": ("numberOfOccurrences",),
}
#: Graph writes an unset date of a range as the lowest date (recurrencerange example answers).
NO_DATE = "0001-01-01"


def _date(value: Any, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad(name, value)
    except ValueError:
        return _bad(name, value)


def _bad(name: str, value: Any) -> Any:
    raise bad_request(f"Invalid value for 'recurrence.{name}': {value!r}.")


def _positive(value: Any, name: str, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (high is not None and value > high):
        _bad(name, value)
    return value


def checked_recurrence(recurrence: Any, start_date: str, start_zone: str) -> dict[str, Any]:
    """The recurrence as Graph answers it: checked, with its defaults filled in.

    :param recurrence: ``patternedRecurrence`` as sent.
    :param start_date: the event's start date in its own time zone (``YYYY-MM-DD``).
    :param start_zone: the start's time zone, the default ``recurrenceTimeZone``.
    :raises GraphError: 400 for a pattern or range its page does not allow, or a range that
        does not start on the event's start date.
    """
    if not isinstance(recurrence, Mapping):
        _bad("", recurrence)
    pattern, span = recurrence.get("pattern"), recurrence.get("range")
    if not isinstance(pattern, Mapping) or not isinstance(span, Mapping):
        raise bad_request("Invalid value for 'recurrence': both 'pattern' and 'range' are required.")
    kind = pattern.get("type")
    if kind not in REQUIRED_BY_PATTERN:
        _bad("pattern.type", kind)
    for name in REQUIRED_BY_PATTERN[kind]:
        if pattern.get(name) in (None, [], 0):
            raise bad_request(f"Invalid value for 'recurrence.pattern': a {kind} pattern requires '{name}'.")
    days = pattern.get("daysOfWeek") or []
    if not isinstance(days, list) or any(d not in DAYS for d in days):
        _bad("pattern.daysOfWeek", days)
    first_day = pattern.get("firstDayOfWeek", "sunday")
    if first_day not in DAYS:
        _bad("pattern.firstDayOfWeek", first_day)
    index = pattern.get("index", "first")
    if index not in INDEXES:
        _bad("pattern.index", index)
    checked_pattern = {
        "type": kind,
        "interval": _positive(pattern.get("interval"), "pattern.interval", 99),
        "month": _positive(pattern["month"], "pattern.month", 12) if pattern.get("month") else 0,
        "dayOfMonth": _positive(pattern["dayOfMonth"], "pattern.dayOfMonth", 31) if pattern.get("dayOfMonth") else 0,
        "daysOfWeek": list(days),
        "firstDayOfWeek": first_day,
        "index": index,
    }
    return {"pattern": checked_pattern, "range": _checked_range(span, start_date, start_zone)}


def _checked_range(span: Mapping[str, Any], start_date: str, start_zone: str) -> dict[str, Any]:
    kind = span.get("type")
    if kind not in REQUIRED_BY_RANGE:
        _bad("range.type", kind)
    for name in REQUIRED_BY_RANGE[kind]:
        if span.get(name) is None:
            raise bad_request(f"Invalid value for 'recurrence.range': a {kind} range requires '{name}'.")
    begin = _date(span.get("startDate"), "range.startDate")
    # recurrencerange: "the date to start applying the recurrence pattern. The first
    # occurrence of the meeting may be this date or later"; the project's Graph notes say it
    # must equal the start's date: refused otherwise, an assumption (docs/emulator.md).
    if begin.isoformat() != start_date:
        raise bad_request(
            f"Invalid value for 'recurrence.range.startDate': {begin.isoformat()} is not the date of the "
            f"event's start ({start_date})."
        )
    end = NO_DATE
    if kind == "endDate":
        end_date = _date(span.get("endDate"), "range.endDate")
        if end_date < begin:
            _bad("range.endDate", span.get("endDate"))
        end = end_date.isoformat()
    count = _positive(span["numberOfOccurrences"], "range.numberOfOccurrences") if kind == "numbered" else 0
    zone = span.get("recurrenceTimeZone") or start_zone
    if not isinstance(zone, str):
        _bad("range.recurrenceTimeZone", zone)
    return {
        "type": kind,
        "startDate": begin.isoformat(),
        "endDate": end,
        "recurrenceTimeZone": zone,
        "numberOfOccurrences": count,
    }
