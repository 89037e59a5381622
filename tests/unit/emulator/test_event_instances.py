"""The emulator's expansion of a series into instances (event_instances.py)."""

from __future__ import annotations

import datetime

import pytest

from meetings_emulator.errors import GraphError
from meetings_emulator.event_instances import (
    instance_id,
    occurrence_dates,
    occurrences,
    split_instance_id,
    window_ticks,
)
from meetings_emulator.event_times import to_utc_ticks


def recurrence(pattern: dict, span: dict) -> dict:
    return {"pattern": {"interval": 1, "firstDayOfWeek": "sunday", **pattern}, "range": span}


def dates(rec: dict, n: int = 100) -> list[str]:
    found = []
    for day in occurrence_dates(rec):
        found.append(day.isoformat())
        if len(found) == n:
            break
    return found


def test_weekly_every_other_week_on_two_days_numbered():
    rec = recurrence(
        {"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "thursday"]},
        {"type": "numbered", "startDate": "2030-03-07", "numberOfOccurrences": 4},  # a Thursday
    )
    assert dates(rec) == ["2030-03-07", "2030-03-18", "2030-03-21", "2030-04-01"]


def test_daily_until_an_end_date_inclusive():
    rec = recurrence(
        {"type": "daily", "interval": 3}, {"type": "endDate", "startDate": "2030-01-30", "endDate": "2030-02-05"}
    )
    assert dates(rec) == ["2030-01-30", "2030-02-02", "2030-02-05"]


def test_monthly_on_the_31st_skips_short_months():
    rec = recurrence({"type": "absoluteMonthly", "dayOfMonth": 31}, {"type": "noEnd", "startDate": "2030-01-31"})
    assert dates(rec, 4) == ["2030-01-31", "2030-03-31", "2030-05-31", "2030-07-31"]


def test_relative_monthly_counts_the_weekday_not_the_calendar_week():
    # 2030-03-01 is a Friday: its second Monday is the 11th, in the month's third week
    # (Exchange's DayOfWeekIndex remark).
    rec = recurrence(
        {"type": "relativeMonthly", "daysOfWeek": ["monday"], "index": "second"},
        {"type": "numbered", "startDate": "2030-03-11", "numberOfOccurrences": 3},
    )
    assert dates(rec) == ["2030-03-11", "2030-04-08", "2030-05-13"]


def test_relative_monthly_last_friday_every_other_month():
    rec = recurrence(
        {"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["friday"], "index": "last"},
        {"type": "endDate", "startDate": "2030-01-25", "endDate": "2030-07-26"},
    )
    assert dates(rec) == ["2030-01-25", "2030-03-29", "2030-05-31", "2030-07-26"]


def test_relative_monthly_first_of_several_days_is_the_first_such_day_of_the_month():
    # Monday to Friday, index first: the month's first weekday (2030-06-01 is a Saturday).
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    rec = recurrence(
        {"type": "relativeMonthly", "daysOfWeek": weekdays, "index": "first"},
        {"type": "numbered", "startDate": "2030-05-01", "numberOfOccurrences": 3},
    )
    assert dates(rec) == ["2030-05-01", "2030-06-03", "2030-07-01"]


def test_absolute_yearly_skips_years_without_the_day():
    rec = recurrence(
        {"type": "absoluteYearly", "dayOfMonth": 29, "month": 2}, {"type": "noEnd", "startDate": "2028-02-29"}
    )
    assert dates(rec, 3) == ["2028-02-29", "2032-02-29", "2036-02-29"]


def test_relative_yearly_every_other_year_and_not_before_the_start():
    # The fourth Thursday of November (Thanksgiving), every two years from 2030.
    rec = recurrence(
        {"type": "relativeYearly", "interval": 2, "daysOfWeek": ["thursday"], "index": "fourth", "month": 11},
        {"type": "numbered", "startDate": "2030-11-28", "numberOfOccurrences": 3},
    )
    assert dates(rec) == ["2030-11-28", "2032-11-25", "2034-11-23"]


def test_an_unknown_pattern_type_is_a_400():
    rec = recurrence({"type": "hourly"}, {"type": "noEnd", "startDate": "2030-01-07"})
    with pytest.raises(GraphError) as info:
        dates(rec)
    assert info.value.status == 400


def test_occurrences_in_a_window_keep_the_wall_clock_time_and_skip_cancelled_days():
    start = to_utc_ticks("2030-03-26T09:00:00", "Europe/Berlin", "start")
    master = {
        "start": {"dateTime": "2030-03-26T09:00:00.0000000", "timeZone": "Europe/Berlin"},
        "recurrence": recurrence(
            {"type": "daily"}, {"type": "numbered", "startDate": "2030-03-26", "numberOfOccurrences": 10}
        ),
    }
    hour = 3600 * 10_000_000
    window = (window_ticks("2030-03-30T00:00:00Z", "s"), window_ticks("2030-04-02T00:00:00+00:00", "e"))
    found = occurrences(master, start, start + hour, window, {"2030-03-31"})
    assert [(d.isoformat(), b) for d, b, _ in found] == [
        ("2030-03-30", to_utc_ticks("2030-03-30T08:00:00", "UTC", "s")),  # winter time
        ("2030-04-01", to_utc_ticks("2030-04-01T07:00:00", "UTC", "s")),  # summer time, still 09:00 in Berlin
    ]


def test_instance_ids_round_trip():
    day = datetime.date(2030, 4, 2)
    assert split_instance_id(instance_id("AAMkA_x-y=", day)) == ("AAMkA_x-y=", day)
    assert split_instance_id("AAMkA_x-y=") is None
