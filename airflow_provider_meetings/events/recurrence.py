"""Series: Graph's ``patternedRecurrence`` checked, or built from an iCalendar ``RRULE``.

Graph's model (https://learn.microsoft.com/graph/api/resources/patternedrecurrence) has a
pattern (``daily``, ``weekly``, ``absoluteMonthly``, ``relativeMonthly``, ``absoluteYearly``,
``relativeYearly``) and a range (``endDate``, ``noEnd``, ``numbered``) whose ``startDate``
must be the date of the event's start. An ``RRULE`` (RFC 5545, section 3.3.10) says more
than Graph can: hours and minutes (``BYHOUR``, ``BYMINUTE``), sub-daily frequencies, days of
the year or week numbers, exceptions (``EXDATE``, ``RDATE``). Those are refused with the
part named, never dropped: a series that silently differs from the rule is worse than none.
Only what the caller gave is sent: defaults Graph fills in (``month: 0``, ``index``) are never
added (GRAPH_FACTS, "Series").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import check_member, check_properties

PATTERN_TYPES = ("daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly")
RANGE_TYPES = ("endDate", "noEnd", "numbered")
#: RFC 5545 weekday codes -> Graph's ``dayOfWeek`` values.
WEEKDAYS = {
    "MO": "monday",
    "TU": "tuesday",
    "WE": "wednesday",
    "TH": "thursday",
    "FR": "friday",
    "SA": "saturday",
    "SU": "sunday",
}
_WEEKDAY_BY_INDEX = list(WEEKDAYS.values())  # date.weekday(): Monday is 0
#: RRULE ordinals -> Graph's ``weekIndex``.
WEEK_INDEX = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_SUPPORTED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
_WHY_NOT = {
    "BYHOUR": "Graph repeats an event at its start time only",
    "BYMINUTE": "Graph repeats an event at its start time only",
    "BYSECOND": "Graph repeats an event at its start time only",
    "BYYEARDAY": "Graph has no days of the year",
    "BYWEEKNO": "Graph has no week numbers",
}
_BYDAY_RE = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL_RE = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")
FIELD = "recurrence"


def _refuse(message: str) -> InvalidRequestError:
    return InvalidRequestError(FIELD, message)


def parse_rrule(text: str) -> dict[str, str]:
    """The parts of an ``RRULE`` (``RRULE:`` prefix optional), names upper-cased.

    :raises InvalidRequestError: more than one line (``EXDATE``, ``RDATE``...), a part
        without ``=``, or a part given twice
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        others = ", ".join(line.split(":", 1)[0] for line in lines[1:]) or "nothing"
        raise _refuse(
            f"{text!r} has more than the RRULE ({others}): exceptions (EXDATE) and extra dates (RDATE) "
            "cannot be expressed in Graph's patternedRecurrence; cancel single occurrences instead"
        )
    rule = lines[0]
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    elif ":" in rule.split(";", 1)[0]:
        name = rule.split(":", 1)[0]
        raise _refuse(f"{text!r} is a {name} line, not an RRULE; Graph's patternedRecurrence has no {name}")
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise _refuse(f"{item!r} in {text!r} is not NAME=VALUE")
        if name in parts:
            raise _refuse(f"{name} is given twice in {text!r}")
        parts[name] = value.strip().upper()
    return parts


def _int(parts: dict[str, str], name: str, *, low: int, high: int) -> int:
    try:
        value = int(parts[name])
    except ValueError:
        raise _refuse(f"{name}={parts[name]} is not a whole number") from None
    if not low <= value <= high:
        raise _refuse(f"{name}={value} is outside {low}..{high}")
    return value


def _days(byday: str) -> list[tuple[int | None, str]]:
    days = []
    for item in byday.split(","):
        match = _BYDAY_RE.fullmatch(item.strip())
        if not match:
            raise _refuse(f"BYDAY item {item!r} is not a weekday such as MO or 2TU")
        days.append((int(match.group(1)) if match.group(1) else None, WEEKDAYS[match.group(2)]))
    return days


def _week_index(ordinal: int) -> str:
    if ordinal not in WEEK_INDEX:
        raise _refuse(
            f"the ordinal {ordinal} is not one Graph has (first, second, third, fourth or last: 1, 2, 3, 4, -1)"
        )
    return WEEK_INDEX[ordinal]


def _relative(parts: dict[str, str], days: list[tuple[int | None, str]]) -> tuple[list[str], str]:
    """Weekdays and index of a relative (``2TU`` or ``TU;BYSETPOS=2``) monthly or yearly rule."""
    ordinals = {ordinal for ordinal, _ in days}
    if "BYSETPOS" in parts:
        if ordinals != {None}:
            raise _refuse("give the ordinal either in BYDAY (2TU) or in BYSETPOS, not both")
        ordinal = int(parts["BYSETPOS"]) if parts["BYSETPOS"].lstrip("+-").isdigit() else 0
    else:
        if len(ordinals) != 1 or None in ordinals:
            raise _refuse(
                "a monthly or yearly BYDAY needs one ordinal for all its days (e.g. 2TU, or -1FR for the last "
                "Friday); Graph has one index per series"
            )
        ordinal = ordinals.pop()  # type: ignore[assignment]
        if len(days) > 1:
            # 1MO,1TU is two days a month in RFC 5545; Graph's pattern books one: the index-th of
            # all the days given (MS-OXOCAL 2.2.1.44.1.6, MonthNth), which is BYSETPOS.
            raise _refuse(
                f"BYDAY={parts['BYDAY']} means each of those days; Graph's relative pattern books one day per "
                "month or year: the n-th of the days given. Use one weekday (2TU), or several with BYSETPOS "
                "(MO,TU,WE,TH,FR;BYSETPOS=-1: the last weekday)"
            )
    return [day for _, day in days], _week_index(ordinal)


def _pattern(parts: dict[str, str], start: date) -> dict[str, Any]:
    freq = parts.get("FREQ")
    if freq is None:
        raise _refuse("an RRULE needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if freq in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise _refuse(f"FREQ={freq} repeats more often than daily, and Graph's shortest pattern is daily")
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise _refuse(f"FREQ={freq} is not an RFC 5545 frequency")
    interval = _int(parts, "INTERVAL", low=1, high=99) if "INTERVAL" in parts else 1
    days = _days(parts["BYDAY"]) if "BYDAY" in parts else []
    first_day = WEEKDAYS.get(parts.get("WKST", "MO"))
    if first_day is None:
        raise _refuse(f"WKST={parts['WKST']} is not a weekday code such as MO")
    if "BYSETPOS" in parts and freq not in ("MONTHLY", "YEARLY"):
        raise _refuse(f"BYSETPOS with FREQ={freq} cannot be expressed in Graph")
    if "BYSETPOS" in parts and not days:
        raise _refuse("BYSETPOS picks among the days of BYDAY (e.g. BYDAY=TU;BYSETPOS=2); without BYDAY Graph has none")
    for part in ("BYMONTH", "BYMONTHDAY"):
        if part in parts and freq in ("DAILY", "WEEKLY"):
            # RFC 5545 limits the days to those months or days of the month; Graph's daily and
            # weekly patterns have no such limit, and dropping it books a different series.
            raise _refuse(f"{part} with FREQ={freq} cannot be expressed in Graph (its {freq.lower()} pattern has none)")
    if freq == "DAILY":
        if not days:
            return {"type": "daily", "interval": interval}
        if interval != 1 or any(ordinal is not None for ordinal, _ in days):
            raise _refuse("FREQ=DAILY with BYDAY is supported only as INTERVAL=1 with plain weekdays (MO,TU,...)")
        # Every day, restricted to some weekdays, is weekly on those days.
        return {"type": "weekly", "interval": 1, "daysOfWeek": [day for _, day in days], "firstDayOfWeek": first_day}
    if freq == "WEEKLY":
        if any(ordinal is not None for ordinal, _ in days):
            raise _refuse("a weekly BYDAY takes plain weekdays (MO,WE), without ordinals")
        weekdays = [day for _, day in days] or [_WEEKDAY_BY_INDEX[start.weekday()]]
        return {"type": "weekly", "interval": interval, "daysOfWeek": weekdays, "firstDayOfWeek": first_day}
    if freq == "MONTHLY":
        if "BYMONTH" in parts:
            raise _refuse("BYMONTH with FREQ=MONTHLY cannot be expressed in Graph")
        if days and "BYMONTHDAY" in parts:
            raise _refuse("give BYDAY or BYMONTHDAY, not both")
        if days:
            weekdays, index = _relative(parts, days)
            return {"type": "relativeMonthly", "interval": interval, "daysOfWeek": weekdays, "index": index}
        day = _int(parts, "BYMONTHDAY", low=1, high=31) if "BYMONTHDAY" in parts else start.day
        return {"type": "absoluteMonthly", "interval": interval, "dayOfMonth": day}
    # YEARLY
    if days and "BYMONTHDAY" in parts:
        raise _refuse("give BYDAY or BYMONTHDAY, not both")
    if (days or "BYMONTHDAY" in parts) and "BYMONTH" not in parts:
        # RFC 5545: without BYMONTH, a yearly BYMONTHDAY=15 is the 15th of every month and
        # BYDAY=-1FR the last Friday of the year; Graph's yearly patterns name one month.
        part = "BYDAY" if days else "BYMONTHDAY"
        raise _refuse(
            f"FREQ=YEARLY with {part}={parts[part]} and no BYMONTH repeats within the year in RFC 5545; "
            "add BYMONTH (e.g. BYMONTH=3) for the month Graph repeats it in"
        )
    month = _int(parts, "BYMONTH", low=1, high=12) if "BYMONTH" in parts else start.month
    if days:
        weekdays, index = _relative(parts, days)
        return {"type": "relativeYearly", "interval": interval, "daysOfWeek": weekdays, "index": index, "month": month}
    day = _int(parts, "BYMONTHDAY", low=1, high=31) if "BYMONTHDAY" in parts else start.day
    return {"type": "absoluteYearly", "interval": interval, "dayOfMonth": day, "month": month}


def _until_date(value: str, start: datetime) -> date:
    match = _UNTIL_RE.fullmatch(value)
    if not match:
        raise _refuse(f"UNTIL={value} is not a date (20261231) or a date-time (20261231T235959Z)")
    try:
        if match.group(2) is None:
            return datetime.strptime(match.group(1), "%Y%m%d").date()
        moment = datetime.strptime(match.group(1) + match.group(3), "%Y%m%d%H%M%S")
    except ValueError:
        raise _refuse(f"UNTIL={value} is not a valid date") from None
    if match.group(4):  # UTC: the last day is the date in the event's own zone
        return moment.replace(tzinfo=timezone.utc).astimezone(start.tzinfo).date()
    return moment.date()


def rrule_to_recurrence(text: str, *, start: datetime, time_zone: str) -> dict[str, Any]:
    """Graph's ``patternedRecurrence`` for an ``RRULE`` (e.g. ``FREQ=WEEKLY;BYDAY=MO;COUNT=10``).

    :param text: the rule, with or without the ``RRULE:`` prefix
    :param start: the event's start in its own zone (gives ``range.startDate`` and the
        defaults RFC 5545 takes from DTSTART: the weekday, the day of the month)
    :param time_zone: the zone name sent to Graph (``range.recurrenceTimeZone``)
    :raises InvalidRequestError: for a part Graph cannot express, named with the reason
    """
    parts = parse_rrule(text)
    for name in parts:
        if name in _WHY_NOT:
            raise _refuse(f"{name} cannot be expressed in Graph's patternedRecurrence: {_WHY_NOT[name]}")
        if name not in _SUPPORTED_PARTS:
            raise _refuse(f"the RRULE part {name} is not supported; supported: {sorted(_SUPPORTED_PARTS)}")
    pattern = _pattern(parts, start.date())
    range_: dict[str, Any] = {"startDate": start.date().isoformat(), "recurrenceTimeZone": time_zone}
    if "COUNT" in parts and "UNTIL" in parts:
        raise _refuse("COUNT and UNTIL must not both be given (RFC 5545)")
    if "COUNT" in parts:
        range_.update(type="numbered", numberOfOccurrences=_int(parts, "COUNT", low=1, high=999))
    elif "UNTIL" in parts:
        last = _until_date(parts["UNTIL"], start)
        if last < start.date():
            raise _refuse(f"UNTIL={parts['UNTIL']} is before the start {start.date().isoformat()}")
        range_.update(type="endDate", endDate=last.isoformat())
    else:
        range_["type"] = "noEnd"
    return {"pattern": pattern, "range": dict(sorted(range_.items()))}


#: The properties of patternedRecurrence, recurrencePattern and recurrenceRange
#: (https://learn.microsoft.com/graph/api/resources/recurrencepattern, .../recurrencerange;
#: tests/contract keeps them equal to the SDK models).
RECURRENCE_PROPERTIES = ("pattern", "range")
PATTERN_PROPERTIES = ("type", "interval", "month", "dayOfMonth", "daysOfWeek", "firstDayOfWeek", "index")
RANGE_PROPERTIES = ("type", "startDate", "endDate", "recurrenceTimeZone", "numberOfOccurrences")


def check_recurrence(value: Mapping[str, Any], *, start: datetime, time_zone: str) -> dict[str, Any]:
    """Check a ``patternedRecurrence`` given as Graph's JSON; fill ``range.startDate`` and
    ``range.recurrenceTimeZone`` when absent.

    :raises InvalidRequestError: unknown types, or a ``startDate`` that is not the start's date
    """
    pattern, range_ = value.get("pattern"), value.get("range")
    if not isinstance(pattern, Mapping) or not isinstance(range_, Mapping):
        raise _refuse("a patternedRecurrence needs 'pattern' and 'range' mappings (or give an RRULE string)")
    if pattern.get("type") not in PATTERN_TYPES:
        raise _refuse(f"pattern.type {pattern.get('type')!r} is not one of {list(PATTERN_TYPES)}")
    if range_.get("type") not in RANGE_TYPES:
        raise _refuse(f"range.type {range_.get('type')!r} is not one of {list(RANGE_TYPES)}")
    check_properties(value, RECURRENCE_PROPERTIES, FIELD, model="patternedRecurrence")
    check_properties(pattern, PATTERN_PROPERTIES, f"{FIELD}.pattern", model="recurrencePattern")
    check_properties(range_, RANGE_PROPERTIES, f"{FIELD}.range", model="recurrenceRange")
    days = pattern.get("daysOfWeek", [])
    if isinstance(days, str) or not isinstance(days, (list, tuple)):
        raise _refuse(f"pattern.daysOfWeek must be a list such as ['monday'], got {days!r}")
    for i, day in enumerate(days):
        check_member(day, _WEEKDAY_BY_INDEX, f"{FIELD}.pattern.daysOfWeek[{i}]")
    for name, allowed in (("firstDayOfWeek", _WEEKDAY_BY_INDEX), ("index", list(WEEK_INDEX.values()))):
        if name in pattern:
            check_member(pattern[name], allowed, f"{FIELD}.pattern.{name}")
    start_date = start.date().isoformat()
    given = range_.get("startDate")
    if given is not None and str(given) != start_date:
        raise _refuse(
            f"range.startDate {given!r} is not the date of the event's start ({start_date} in its zone); "
            "Graph requires them to be equal: drop startDate (it is filled in) or move the start"
        )
    full_range = {"startDate": start_date, "recurrenceTimeZone": time_zone, **range_}
    full_range["startDate"] = start_date
    return {**value, "pattern": dict(pattern), "range": full_range}


def to_recurrence(value: Any, *, start: datetime, time_zone: str) -> dict[str, Any] | None:
    """``None``, an ``RRULE`` string or a ``patternedRecurrence`` mapping -> what Graph gets."""
    if value is None:
        return None
    if isinstance(value, str):
        return rrule_to_recurrence(value, start=start, time_zone=time_zone)
    if isinstance(value, Mapping):
        return check_recurrence(value, start=start, time_zone=time_zone)
    raise _refuse(f"must be an RRULE string or Graph's patternedRecurrence mapping, got {type(value).__name__}")
