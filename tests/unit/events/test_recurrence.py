"""RRULE -> patternedRecurrence, and checks of a given patternedRecurrence (events/recurrence.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_meetings.events.recurrence import check_recurrence, rrule_to_recurrence, to_recurrence
from airflow_provider_meetings.graph.errors import InvalidRequestError

# Monday 2 March 2026, 09:00 in Berlin
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TZ = "Europe/Berlin"


def convert(rule: str) -> dict:
    return rrule_to_recurrence(rule, start=START, time_zone=TZ)


@pytest.mark.parametrize(
    ("rule", "pattern"),
    [
        ("FREQ=DAILY", {"type": "daily", "interval": 1}),
        ("RRULE:FREQ=DAILY;INTERVAL=2", {"type": "daily", "interval": 2}),
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "firstDayOfWeek": "monday",
            },
        ),
        ("FREQ=WEEKLY", {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday"}),
        (
            "freq=weekly;interval=2;byday=tu,th;wkst=su",
            {"type": "weekly", "interval": 2, "daysOfWeek": ["tuesday", "thursday"], "firstDayOfWeek": "sunday"},
        ),
        ("FREQ=MONTHLY", {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 2}),
        ("FREQ=MONTHLY;BYMONTHDAY=15", {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15}),
        (
            "FREQ=MONTHLY;BYDAY=2TU",
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["tuesday"], "index": "second"},
        ),
        (
            "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1",
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday", "tuesday"], "index": "first"},
        ),
        # the last weekday of the month: the index counts all the days given (MS-OXOCAL MonthNth)
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            {
                "type": "relativeMonthly",
                "interval": 1,
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "index": "last",
            },
        ),
        ("FREQ=YEARLY", {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 2, "month": 3}),
        (
            "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=15",
            {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 15, "month": 6},
        ),
        (
            "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
            {"type": "relativeYearly", "interval": 1, "daysOfWeek": ["thursday"], "index": "fourth", "month": 11},
        ),
    ],
)
def test_patterns(rule, pattern):
    assert convert(rule)["pattern"] == pattern


def test_ranges():
    assert convert("FREQ=WEEKLY;COUNT=10")["range"] == {
        "numberOfOccurrences": 10,
        "recurrenceTimeZone": TZ,
        "startDate": "2026-03-02",
        "type": "numbered",
    }
    assert convert("FREQ=WEEKLY")["range"]["type"] == "noEnd"
    assert convert("FREQ=WEEKLY;UNTIL=20260601")["range"]["endDate"] == "2026-06-01"
    # 22:30 UTC on 1 June is already 2 June in Berlin: the last day is the local one.
    assert convert("FREQ=WEEKLY;UNTIL=20260601T223000Z")["range"]["endDate"] == "2026-06-02"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=DAILY;BYHOUR=9,15", "BYHOUR"),
        ("FREQ=DAILY;BYMINUTE=30", "BYMINUTE"),
        ("FREQ=HOURLY", "more often than daily"),
        ("FREQ=MINUTELY;INTERVAL=15", "more often than daily"),
        ("RRULE:FREQ=WEEKLY\nEXDATE:20260309T090000", "EXDATE"),
        ("EXDATE:20260309T090000", "EXDATE"),
        ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"),
        ("FREQ=MONTHLY;BYDAY=5MO", "ordinal 5"),
        ("FREQ=MONTHLY;BYDAY=1MO,2TU", "one ordinal"),
        # Graph books the earliest day of several (recurrencePattern); RFC 5545 books each
        ("FREQ=MONTHLY;BYDAY=1MO,1TU", "BYDAY=1MO,1TU means each of those days"),
        ("FREQ=YEARLY;BYMONTH=3;BYDAY=-1MO,-1FR", "BYDAY=-1MO,-1FR means each"),
        # parts that limit the days: dropping them booked a different series
        ("FREQ=DAILY;BYMONTHDAY=1;COUNT=3", "BYMONTHDAY with FREQ=DAILY"),
        ("FREQ=DAILY;BYMONTH=12", "BYMONTH with FREQ=DAILY"),
        ("FREQ=WEEKLY;BYMONTH=3;COUNT=4", "BYMONTH with FREQ=WEEKLY"),
        ("FREQ=MONTHLY;BYSETPOS=2", "without BYDAY"),
        # RFC 5545: without BYMONTH, yearly BYMONTHDAY/BYDAY repeat within the year
        ("FREQ=YEARLY;BYMONTHDAY=15", "add BYMONTH"),
        ("FREQ=YEARLY;BYDAY=-1FR", "add BYMONTH"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20260601", "COUNT and UNTIL"),
        ("FREQ=WEEKLY;UNTIL=20250101", "before the start"),
        ("INTERVAL=2", "needs FREQ"),
        ("FREQ=WEEKLY;FREQ=DAILY", "twice"),
        ("FREQ=WEEKLY;X-NAME=1", "not supported"),
    ],
)
def test_refused_parts_are_named(rule, words):
    with pytest.raises(InvalidRequestError, match="recurrence") as info:
        convert(rule)
    assert words in str(info.value)


def test_given_recurrence_gets_start_date_and_zone():
    given = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}, "range": {"type": "noEnd"}}
    result = check_recurrence(given, start=START, time_zone=TZ)
    assert result["range"] == {"type": "noEnd", "startDate": "2026-03-02", "recurrenceTimeZone": TZ}
    assert result["pattern"] == given["pattern"]  # no defaults added


def test_given_recurrence_with_another_start_date_is_refused():
    given = {"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-03-01"}}
    with pytest.raises(InvalidRequestError, match="startDate"):
        check_recurrence(given, start=START, time_zone=TZ)


@pytest.mark.parametrize("value", [{"pattern": {"type": "hourly"}, "range": {"type": "noEnd"}}, {"range": {}}, 7])
def test_bad_recurrence_shapes(value):
    with pytest.raises(InvalidRequestError, match="recurrence"):
        to_recurrence(value, start=START, time_zone=TZ)


def test_none_is_no_series():
    assert to_recurrence(None, start=START, time_zone=TZ) is None


@pytest.mark.parametrize(
    ("pattern", "extra", "words"),
    [
        # recurrencePattern's enums are lower camel case: the SDK model has no 'Monday'
        ({"type": "weekly", "interval": 1, "daysOfWeek": ["Monday"]}, {}, "write 'monday'"),
        ({"type": "weekly", "interval": 1, "daysOfWeek": "monday"}, {}, "must be a list"),
        (
            {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "Sun"},
            {},
            "recurrence.pattern.firstDayOfWeek: 'Sun' is not one of",
        ),
        ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "Last"}, {}, "write 'last'"),
        ({"type": "daily", "interval": 1, "days": 2}, {}, "['days'] not properties of Graph's recurrencePattern"),
        ({"type": "daily", "interval": 1}, {"numberOfOccurences": 3}, "['numberOfOccurences'] not properties"),
    ],
)
def test_given_recurrence_names_and_values_are_graphs(pattern, extra, words):
    given = {"pattern": pattern, "range": {"type": "numbered", "numberOfOccurrences": 3, **extra}}
    with pytest.raises(InvalidRequestError, match="recurrence") as info:
        check_recurrence(given, start=START, time_zone=TZ)
    assert words in str(info.value)


def test_given_recurrence_keeps_odata_annotations_and_every_property():
    pattern = {
        "@odata.type": "#microsoft.graph.recurrencePattern",
        "type": "relativeYearly",
        "interval": 1,
        "month": 11,
        "daysOfWeek": ["thursday"],
        "firstDayOfWeek": "sunday",
        "index": "fourth",
    }
    given = {"pattern": pattern, "range": {"type": "endDate", "endDate": "2030-12-31"}}
    assert check_recurrence(given, start=START, time_zone=TZ)["pattern"] == pattern
