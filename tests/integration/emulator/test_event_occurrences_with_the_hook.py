"""Cancelling one occurrence of a series through the hook, against the emulator's ``instances``."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest

from airflow_provider_meetings.events.occurrences import NotASeriesError
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from meetings_emulator.config import ORGANIZER_ID

pytestmark = pytest.mark.integration

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Tuesdays 09:00 Berlin from 2030-03-05, across the change to summer time (2030-03-31).
START = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=BERLIN)


def series(hook: OnlineMeetingsHook, external_id: str = "weekly-class", **overrides: Any) -> Any:
    data = {
        "subject": "Weekly class",
        "start": START,
        "end": START + datetime.timedelta(hours=1),
        "user_id": ORGANIZER_ID,
        "attendees": ["ada@example.org"],
        "recurrence": "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6",
    }
    data.update(overrides)
    return hook.create_or_get_event(external_id, **data)


def instances(hook: OnlineMeetingsHook, master_id: str) -> list[dict[str, Any]]:
    path = f"users/{ORGANIZER_ID}/events/{master_id}/instances?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-05-01T00:00:00Z"
    return hook.client.get_all(path)


def test_cancel_one_occurrence_of_a_weekly_series(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    master = series(hook)
    days = [i["start"]["dateTime"][:16] for i in instances(hook, master.event_id)]
    # Six Tuesdays at 09:00 Berlin: 08:00 UTC in winter time, 07:00 UTC from April.
    assert days == [
        "2030-03-05T08:00",
        "2030-03-12T08:00",
        "2030-03-19T08:00",
        "2030-03-26T08:00",
        "2030-04-02T07:00",
        "2030-04-09T07:00",
    ]
    assert hook.cancel_event_occurrence("weekly-class", "2030-04-02", comment="Easter break") is True
    assert hook.cancel_event_occurrence("weekly-class", datetime.date(2030, 4, 2)) is False  # a rerun: gone
    assert hook.cancel_event_occurrence("weekly-class", "2030-04-03") is False  # no class on a Wednesday
    remaining = instances(hook, master.event_id)
    assert len(remaining) == 5 and "2030-04-02" not in {i["start"]["dateTime"][:10] for i in remaining}
    assert all(i["type"] == "occurrence" and i["seriesMasterId"] == master.event_id for i in remaining)
    (stored,) = graph_emulator.events()
    assert stored["state"] == "active"  # the series stays
    assert stored["cancelled_occurrences"] == {"2030-04-02": "Easter break"}
    routes = graph_emulator.stats()["by_route"]
    assert routes["listInstances"] == {"200": 5} and routes["cancelEvent"] == {"202": 1}


def test_a_daily_series_and_an_unknown_series(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    series(hook, "stand-up", recurrence="RRULE:FREQ=DAILY;COUNT=3")
    assert hook.cancel_event_occurrence("stand-up", "2030-03-06", user_id=ORGANIZER_ID) is True
    assert hook.cancel_event_occurrence("stand-up", "2030-03-08") is False  # after the third day
    assert hook.cancel_event_occurrence("no-such-series", "2030-03-06") is False


def test_a_single_event_is_not_a_series(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    series(hook, "single", recurrence=None)
    with pytest.raises(NotASeriesError, match="use cancel_event for a single event"):
        hook.cancel_event_occurrence("single", "2030-03-05")


def test_a_bad_day_sends_nothing(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    for bad in ("05.03.2030", START, None):
        with pytest.raises(InvalidRequestError, match="occurrence_date"):
            hook.cancel_event_occurrence("weekly-class", bad)
    assert graph_emulator.stats()["graph_requests"] == 0


def test_cancel_one_occurrence_of_a_monthly_series_by_weekday(meetings_conn_id: str, graph_emulator: Any) -> None:
    """A relativeMonthly series (the first Tuesday of each month) from an RRULE: its occurrences
    and the cancel of one, as for a weekly series."""
    hook = OnlineMeetingsHook(meetings_conn_id)
    master = series(hook, "monthly-review", recurrence="RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=3")
    pattern = master.event["recurrence"]["pattern"]
    assert (pattern["type"], pattern["daysOfWeek"], pattern["index"]) == ("relativeMonthly", ["tuesday"], "first")
    days = [i["start"]["dateTime"][:10] for i in instances(hook, master.event_id)]
    assert days == ["2030-03-05", "2030-04-02"]  # the window ends 2030-05-01; May's is the 7th
    assert hook.cancel_event_occurrence("monthly-review", "2030-04-02") is True
    assert hook.cancel_event_occurrence("monthly-review", "2030-04-09") is False  # the second Tuesday
    assert [i["start"]["dateTime"][:10] for i in instances(hook, master.event_id)] == ["2030-03-05"]
