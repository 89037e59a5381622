"""Bulk sync and cancel (``create_or_get_meetings(update_existing=True)``, ``cancelled`` items,
``cancel_meetings``) against the HTTPS emulator: PATCHes and DELETEs go out in ``$batch``
with the same pacing and retry rules as createOrGet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

pytestmark = pytest.mark.integration

BASE = datetime(2027, 1, 4, 8, tzinfo=timezone.utc)


@pytest.fixture
def emu(graph_emulator: Any, make_hook: Any) -> Iterator[Any]:
    """The session emulator, reset (by ``make_hook``) before the test and after it."""
    yield graph_emulator
    graph_emulator.reset()


@pytest.fixture
def hook(emu: Any, make_hook: Any) -> Any:
    return make_hook(max_retry_wait=30)


def event(n: int, *, moved: bool = False) -> dict[str, Any]:
    start = BASE + timedelta(hours=n) + (timedelta(days=1) if moved else timedelta(0))
    return {
        "external_id": f"timetable-{n:04d}",
        "subject": f"Session {n}",
        "start_date_time": start.isoformat(),
        "end_date_time": (start + timedelta(minutes=45)).isoformat(),
    }


def graph_time(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def routes(emu: Any) -> dict[str, dict[str, int]]:
    by_route = emu.stats()["by_route"]
    return {name: by_route.get(name, {}) for name in ("createOrGet", "updateMeeting", "deleteMeeting")}


def test_bulk_sync_of_1000_items_with_moves_and_cancellations_ends_exactly_right(emu: Any, hook: Any) -> None:
    n = 1000
    first = hook.create_or_get_meetings([event(i) for i in range(n)], update_existing=True, max_concurrency=4)
    assert Counter(r.outcome for r in first) == {"created": n}
    before = {m["external_id"]: m["meeting"] for m in emu.meetings()}

    moved = set(range(0, n, 10))  # 10%
    cancelled = set(range(5, n, 20))  # 5%, none of them moved
    items = [
        {"external_id": f"timetable-{i:04d}", "cancelled": True} if i in cancelled else event(i, moved=i in moved)
        for i in range(n)
    ]
    batches_before = emu.stats()["batches"]
    results = hook.create_or_get_meetings(items, update_existing=True, max_concurrency=4)

    assert [r.index for r in results] == list(range(n)) and all(r.ok for r in results)
    expected = {i: "updated" if i in moved else "cancelled" if i in cancelled else "unchanged" for i in range(n)}
    assert {r.index: r.outcome for r in results} == expected
    # Every remaining meeting exactly once, with the new times and its old id and join URL; the cancelled ones gone.
    stored = Counter(m["external_id"] for m in emu.meetings())
    assert stored == Counter(f"timetable-{i:04d}" for i in range(n) if i not in cancelled)
    meetings = {m["external_id"]: m["meeting"] for m in emu.meetings()}
    for i in range(n):
        key = f"timetable-{i:04d}"
        if i in cancelled:
            assert results[i].meeting is None and results[i].meeting_id is None
            continue
        meeting, item = meetings[key], event(i, moved=i in moved)
        assert (meeting["id"], meeting["joinWebUrl"]) == (before[key]["id"], before[key]["joinWebUrl"])
        assert (meeting["startDateTime"], meeting["endDateTime"]) == (
            graph_time(item["start_date_time"]),
            graph_time(item["end_date_time"]),
        )
        assert results[i].meeting_id == meeting["id"]
    # One createOrGet per item, one PATCH per moved item, one DELETE per cancelled one; all in $batch.
    assert routes(emu) == {
        "createOrGet": {"201": n, "200": n},
        "updateMeeting": {"200": len(moved)},
        "deleteMeeting": {"204": len(cancelled)},
    }
    batches = emu.stats()["batches"] - batches_before
    assert batches == -(-n // 20) + -(-(len(moved) + len(cancelled)) // 20)  # 50 + 8
    assert emu.stats()["meetings_created"] == n


def test_throttled_and_failing_patches_and_deletes_are_retried_per_item(emu: Any, hook: Any) -> None:
    items = [event(i) for i in range(40)]
    hook.create_or_get_meetings(items, update_existing=True)
    emu.script({"status": 429, "retry_after": "0.2"}, match="^PATCH ", times=3)
    emu.script(503, match="^DELETE ", times=2)
    emu.script("drop", when="after", match="^DELETE ", times=1)  # applied: the retry answers 404

    changed = [
        event(i, moved=True) if i < 20 else {"external_id": f"timetable-{i:04d}", "cancelled": True} for i in range(40)
    ]
    results = hook.create_or_get_meetings(changed, update_existing=True)

    assert Counter(r.outcome for r in results) == {"updated": 20, "cancelled": 20}
    assert all(r.ok for r in results)
    assert sorted(m["external_id"] for m in emu.meetings()) == [f"timetable-{i:04d}" for i in range(20)]
    assert routes(emu)["updateMeeting"] == {"429": 3, "200": 20}
    assert sum(r.attempts for r in results[:20]) >= 20 + 3 + 20  # createOrGet + throttled PATCHes + PATCH


def test_without_update_existing_existing_meetings_are_left_as_they_are(emu: Any, hook: Any) -> None:
    hook.create_or_get_meetings([event(i) for i in range(3)])
    results = hook.create_or_get_meetings([event(i, moved=True) for i in range(3)])

    assert [r.outcome for r in results] == ["existing"] * 3
    assert routes(emu)["updateMeeting"] == {}
    assert [r.to_dict()["status"] for r in results] == ["existing"] * 3


def test_cancel_meetings_by_external_id(emu: Any, hook: Any) -> None:
    alex = emu.user("alexw")["id"]
    hook.create_or_get_meetings([event(1), {**event(2), "user_id": alex}])

    results = hook.cancel_meetings(["timetable-0001", {"external_id": "timetable-0002", "user_id": alex}, "never"])

    assert [(r.external_id, r.outcome, r.created) for r in results] == [
        ("timetable-0001", "cancelled", False),
        ("timetable-0002", "cancelled", False),
        ("never", "not_found", False),
    ]
    assert emu.meetings() == []
    again = hook.cancel_meetings(["timetable-0001", "timetable-0002"], user_id=alex)
    assert [r.outcome for r in again] == ["not_found", "not_found"] and emu.meetings() == []


def test_items_that_cannot_be_sent_get_their_error_and_the_others_go(emu: Any, hook: Any) -> None:
    hook.create_or_get_meetings([event(1)])
    results = hook.create_or_get_meetings(
        [
            {**event(1), "cancelled": "yes"},  # not a boolean
            {**event(2), "cancelled": False},
            {"external_id": "timetable-0002", "cancelled": True},  # the same meeting twice
            {**event(3), "participants": {"organizer": {"upn": "meganb@contoso.example"}}},
        ],
        update_existing=True,
    )

    assert [r.outcome for r in results] == [None, "created", None, None]
    assert str(results[0].error).startswith("meetings[0].cancelled: must be true or false, got str 'yes'")
    assert "duplicates meetings[1]" in str(results[2].error)
    assert str(results[3].error).startswith("participants.organizer: names 'meganb@contoso.example'")
    assert all(r.permanent for r in (results[0], results[2], results[3]))
    assert sorted(m["external_id"] for m in emu.meetings()) == ["timetable-0001", "timetable-0002", "timetable-0003"]


def test_bulk_sync_and_cancel_as_the_docs_show(emu: Any, hook: Any) -> None:
    hook.create_or_get_meetings([event(1), event(2), event(3)])

    # [START howto_hook_bulk_sync]
    results = hook.create_or_get_meetings(
        [
            {
                "external_id": "timetable-0001",
                "subject": "Session 1 (moved)",
                "start_date_time": "2027-01-05T09:00:00Z",
            },
            {"external_id": "timetable-0002", "cancelled": True},  # deletes its meeting
            {"external_id": "timetable-0004", "subject": "Session 4", "start_date_time": "2027-01-05T12:00:00Z"},
        ],
        update_existing=True,  # PATCH the meetings that differ from their item
    )
    outcomes = {r.external_id: r.outcome for r in results}  # created, updated, unchanged, cancelled, not_found
    # [END howto_hook_bulk_sync]
    assert outcomes == {"timetable-0001": "updated", "timetable-0002": "cancelled", "timetable-0004": "created"}

    # [START howto_hook_bulk_cancel]
    results = hook.cancel_meetings(["timetable-0003", "timetable-0009"])  # external ids (or mappings with user_id)
    outcomes = {r.external_id: r.outcome for r in results}  # cancelled, or not_found when there was none
    # [END howto_hook_bulk_cancel]
    assert outcomes == {"timetable-0003": "cancelled", "timetable-0009": "not_found"}
    assert sorted(m["external_id"] for m in emu.meetings()) == ["timetable-0001", "timetable-0004"]


def test_organizers_given_by_upn_are_looked_up_once_and_synced_at_their_object_id(emu: Any, hook: Any) -> None:
    alex, megan = emu.user("alexw"), emu.user("meganb")
    items = [{**event(i), "user_id": alex["userPrincipalName"]} for i in range(3)]
    hook.create_or_get_meetings(items, update_existing=True)

    changed = [
        {**event(0, moved=True), "user_id": alex["userPrincipalName"]},
        {"external_id": "timetable-0001", "user_id": alex["userPrincipalName"], "cancelled": True},
        {**event(2), "user_id": alex["userPrincipalName"]},
        {"external_id": "timetable-0009", "user_id": megan["userPrincipalName"], "cancelled": True},
    ]
    results = hook.create_or_get_meetings(changed, update_existing=True)

    assert [r.outcome for r in results] == ["updated", "cancelled", "unchanged", "not_found"]
    assert [(r.user_id, r.given_user_id) for r in results] == [
        (alex["id"], alex["userPrincipalName"]),
        (alex["id"], alex["userPrincipalName"]),
        (alex["id"], alex["userPrincipalName"]),
        (megan["id"], megan["userPrincipalName"]),
    ]
    assert sorted((m["user_id"], m["external_id"]) for m in emu.meetings()) == [
        (alex["id"], "timetable-0000"),
        (alex["id"], "timetable-0002"),
    ]
    assert emu.stats()["by_route"]["getUser"] == {"200": 2}  # alex once (the hook remembers), megan once
    assert routes(emu)["updateMeeting"] == {"200": 1}
