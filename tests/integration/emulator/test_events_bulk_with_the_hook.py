"""Bulk calendar events against the emulator (issue 22): per-mailbox pacing, reruns, errors."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from meetings_emulator.config import ORGANIZER_ID

pytestmark = pytest.mark.integration

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
START = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=BERLIN)
ORGANIZERS = [f"0e7b1c2d-0000-4000-8000-0000000000{n:02d}" for n in range(10)]
TEACHERS = [f"0e7b1c2d-0000-4000-8000-0000000001{n:02d}" for n in range(3)]


def item(n: int, user_id: str = ORGANIZER_ID, **overrides: Any) -> dict[str, Any]:
    start = START + datetime.timedelta(hours=n)
    data = {
        "external_id": f"interview-{n}",
        "subject": f"Interview {n}",
        "start": start,
        "end": start + datetime.timedelta(minutes=45),
        "user_id": user_id,
        "attendees": [f"candidate{n}@contoso.example"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def outlook_limits(graph_emulator: Any, meetings_conn_id: str) -> Iterator[Any]:
    """Outlook's 4 concurrent requests per mailbox, a small latency; off again afterwards."""
    graph_emulator.set_mailbox_concurrency(4, retry_after=0.05)
    graph_emulator.set_latency(2)
    try:
        yield graph_emulator
    finally:
        graph_emulator.set_mailbox_concurrency(None)
        graph_emulator.set_latency(0)


def test_bulk_for_one_organizer_then_a_rerun_creates_none(meetings_conn_id: str, outlook_limits: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    items = [item(n) for n in range(200)]
    results = hook.create_or_get_events(items)
    assert [r.error for r in results if not r.ok] == []
    assert [r.external_id for r in results] == [i["external_id"] for i in items]  # in order
    assert {r.status for r in results} == {"created"}
    assert all(r.join_url for r in results)
    stats = outlook_limits.stats()
    assert max(stats["mailbox_peaks"].values()) <= 4
    assert stats["events_created"] == 200
    again = hook.create_or_get_events(items)
    assert {r.status for r in again} == {"existing"}
    assert [r.event_id for r in again] == [r.event_id for r in results]
    assert outlook_limits.stats()["events_created"] == 200


def test_bulk_for_ten_organizers_side_by_side(meetings_conn_id: str, outlook_limits: Any) -> None:
    for n, user in enumerate(ORGANIZERS):
        outlook_limits.add_user(user, f"organizer{n}@contoso.example", f"Organizer {n}")
    hook = OnlineMeetingsHook(meetings_conn_id)
    items = [item(n, ORGANIZERS[n % 10]) for n in range(300)]  # interleaved organizers
    results = hook.create_or_get_events(items)
    assert [r.error for r in results if not r.ok] == []
    assert [r.user_id for r in results] == [i["user_id"] for i in items]
    stats = outlook_limits.stats()
    assert stats["events_created"] == 300
    assert max(stats["mailbox_peaks"].values()) <= 4
    again = hook.create_or_get_events(items)
    assert {r.status for r in again} == {"existing"} and outlook_limits.stats()["events_created"] == 300


def test_bulk_update_cancel_and_bad_items(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    first = hook.create_or_get_events([item(n) for n in range(4)])
    assert [r.status for r in first] == ["created"] * 4
    moved = item(1, start=START + datetime.timedelta(days=1), end=START + datetime.timedelta(days=1, hours=1))
    results = hook.create_or_get_events(
        [
            item(0),
            moved,
            {"external_id": "interview-2", "user_id": ORGANIZER_ID, "cancelled": True, "comment": "Position filled"},
            {"external_id": "never-made", "user_id": ORGANIZER_ID, "cancelled": True},
            item(9, start=datetime.datetime(2030, 3, 5, 9, 0)),  # naive: refused, nothing sent
            item(0),  # a repeat
            item(3, subject="Interview 3, moved room", location="Room 2"),
        ],
        update_existing=True,
    )
    assert [r.status for r in results] == ["unchanged", "updated", "cancelled", "not_found", None, None, "updated"]
    assert "events[4].start" in str(results[4].error) and results[4].attempts == 0
    assert "duplicates events[0]" in str(results[5].error)
    assert results[1].event["start"] and results[1].join_url
    stats = graph_emulator.stats()
    assert (stats["events_created"], stats["events_updated"], stats["events_cancelled"]) == (4, 2, 1)
    assert [e["cancel_comment"] for e in graph_emulator.events() if e["state"] == "cancelled"] == ["Position filled"]
    dicts = [r.to_dict() for r in results]
    assert dicts[1]["outlook_url"].startswith("https://outlook.office365.com/calendar/item/")
    assert dicts[4]["permanent"] is True and dicts[0]["error"] is None


def test_a_lost_batch_answer_books_nothing_twice(meetings_conn_id: str, graph_emulator: Any) -> None:
    # An item's POST is carried out and then the connection drops: the whole $batch answer
    # is lost, the engine sends its items again with the same transactionIds.
    graph_emulator.script("drop", when="after", match="POST /users/[^/]+/events$")
    results = OnlineMeetingsHook(meetings_conn_id).create_or_get_events([item(n) for n in range(30)])
    assert [r.error for r in results if not r.ok] == []
    assert {r.status for r in results} == {"created"}
    assert graph_emulator.pending_faults() == []  # the fault fired
    assert graph_emulator.stats()["events_created"] == 30 and len(graph_emulator.events()) == 30


def test_a_holiday_cancels_one_day_of_every_series_in_one_call(meetings_conn_id: str, graph_emulator: Any) -> None:
    """Occurrence cancels in bulk: the day of each weekly class (three organizers), a day of
    no class, a series unknown, a single event, and the same call again (a rerun)."""
    for n in range(3):
        graph_emulator.add_user(TEACHERS[n], f"teacher{n}@contoso.example", f"Teacher {n}")
    hook = OnlineMeetingsHook(meetings_conn_id)
    classes = [
        item(n, TEACHERS[n], external_id=f"class-{n}", recurrence="RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6")
        for n in range(3)
    ]
    created = hook.create_or_get_events([*classes, item(9, external_id="single")])
    assert [r.status for r in created] == ["created"] * 4
    holiday = [
        {
            "external_id": f"class-{n}",
            "user_id": TEACHERS[n],
            "cancelled": True,
            "occurrence_date": "2030-04-02",
            "comment": "Easter break",
        }
        for n in range(3)
    ]
    others = [
        {"external_id": "class-0", "user_id": TEACHERS[0], "cancelled": True, "occurrence_date": "2030-04-03"},
        {"external_id": "no-such-class", "cancelled": True, "occurrence_date": "2030-04-02"},
        {"external_id": "single", "user_id": ORGANIZER_ID, "cancelled": True, "occurrence_date": "2030-03-05"},
    ]
    results = hook.create_or_get_events([*holiday, *others])
    assert [r.status for r in results] == ["cancelled"] * 3 + ["not_found", "not_found", None]
    assert type(results[5].error).__name__ == "NotASeriesError" and results[5].permanent
    stored = {e["event"]["subject"]: e for e in graph_emulator.events()}
    for n in range(3):
        assert stored[f"Interview {n}"]["state"] == "active"  # the series stays
        assert stored[f"Interview {n}"]["cancelled_occurrences"] == {"2030-04-02": "Easter break"}
    assert stored["Interview 9"]["state"] == "active" and not stored["Interview 9"]["cancelled_occurrences"]
    rerun = hook.create_or_get_events(holiday)
    assert [r.status for r in rerun] == ["not_found"] * 3  # cancelled days are no instances any more
