"""The provider's event methods against the emulator's events (issue 22): both halves agree."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from emulator_testlib import START, interview_fields

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

pytestmark = pytest.mark.integration


def fields(**overrides: Any) -> dict[str, Any]:
    attendees = ["alexw@contoso.example", {"address": "room1@contoso.example", "type": "resource"}]
    return interview_fields(**{"attendees": attendees, **overrides})


def test_create_get_move_and_cancel_through_the_hook(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    first = hook.create_or_get_event("O'Brien-1", **fields())
    assert (first.status, first.created) == ("created", True)
    assert first.join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert hook.create_or_get_event("O'Brien-1", **fields()).status == "existing"
    assert hook.create_or_get_event("o'brien-1", **fields()).created  # exact comparison on the client
    later = {"start": START + datetime.timedelta(days=1), "end": START + datetime.timedelta(days=1, hours=1)}
    assert hook.create_or_get_event("O'Brien-1", update_existing=True, **fields(**later)).status == "updated"
    assert hook.create_or_get_event("O'Brien-1", update_existing=True, **fields(**later)).status == "unchanged"
    assert hook.cancel_event("O'Brien-1", comment="Position filled") is True
    assert hook.cancel_event("O'Brien-1") is False
    stats = graph_emulator.stats()
    assert (stats["events_created"], stats["events_updated"], stats["events_cancelled"]) == (2, 1, 1)
    cancelled = [e for e in graph_emulator.events() if e["state"] == "cancelled"]
    assert [e["cancel_comment"] for e in cancelled] == ["Position filled"]


def test_a_series_in_an_unlisted_zone_goes_as_its_windows_name(meetings_conn_id: str, graph_emulator: Any) -> None:
    zurich = zoneinfo.ZoneInfo("Europe/Zurich")
    start = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=zurich)
    result = OnlineMeetingsHook(meetings_conn_id).create_or_get_event(
        "weekly", recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=10", **fields(start=start, end=start.replace(hour=10))
    )
    assert result.event["type"] == "seriesMaster"
    assert result.event["originalStartTimeZone"] == "W. Europe Standard Time"


def test_a_series_moved_to_another_week_is_one_patch(meetings_conn_id: str, graph_emulator: Any) -> None:
    # start and end alone left range.startDate on the old day: Graph's rule made it a 400.
    hook = OnlineMeetingsHook(meetings_conn_id)
    rule = "FREQ=WEEKLY;BYDAY=TU;COUNT=10"
    hook.create_or_get_event("class-a", recurrence=rule, **fields())
    week = datetime.timedelta(days=7)
    moved = hook.create_or_get_event(
        "class-a",
        recurrence=rule,
        update_existing=True,
        **fields(start=START + week, end=START + week + datetime.timedelta(hours=1)),
    )
    assert moved.status == "updated"
    assert moved.event["recurrence"]["range"]["startDate"] == (START + week).date().isoformat()
    again = hook.create_or_get_event(
        "class-a",
        recurrence=rule,
        update_existing=True,
        **fields(start=START + week, end=START + week + datetime.timedelta(hours=1)),
    )
    assert again.status == "unchanged"


def test_a_single_event_is_not_made_a_series_in_place(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    hook.create_or_get_event("one-off", **fields())
    with pytest.raises(InvalidRequestError, match="a series was asked for, but .* is a single event"):
        hook.create_or_get_event("one-off", recurrence="FREQ=WEEKLY;BYDAY=TU", update_existing=True, **fields())
    [item] = hook.create_or_get_events(
        [{"external_id": "one-off", "recurrence": "FREQ=WEEKLY;BYDAY=TU", **fields()}], update_existing=True
    )
    assert item.error is not None and "is a single event" in str(item.error)
    assert graph_emulator.stats()["events_updated"] == 0
