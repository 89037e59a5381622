"""Event fields users expect, attendees' responses and a 403 through the hook, against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator_testlib import interview_fields
from event_options_testlib import event_options, graph_event_options

from airflow_provider_meetings.events.api import CalendarAccessDeniedError
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from meetings_emulator.config import ORGANIZER_ID

pytestmark = pytest.mark.integration

ROOM = "room1@contoso.example"
OPTIONS = event_options()
STORED = graph_event_options()


def fields(**overrides: Any) -> dict[str, Any]:
    attendees = ["ada@example.org", {"address": ROOM, "name": "Room 1", "type": "resource"}]
    return interview_fields(**{"attendees": attendees, **overrides})


def stored_event(emulator: Any) -> dict[str, Any]:
    (event,) = [e["event"] for e in emulator.events() if e["state"] == "active"]
    return event


def test_options_are_stored_and_answered(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    result = hook.create_or_get_event("options-1", **fields(), **OPTIONS)
    assert {name: result.event[name] for name in STORED} == STORED  # Graph's answer
    assert {name: stored_event(graph_emulator)[name] for name in STORED} == STORED
    room = [a for a in result.event["attendees"] if a["emailAddress"]["address"] == ROOM]
    assert room[0]["type"] == "resource"  # a room is a resource attendee


def test_a_changed_option_is_one_patch_and_a_repeat_sends_none(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    hook.create_or_get_event("options-2", **fields(), **OPTIONS)
    changed = {**OPTIONS, "allow_new_time_proposals": True, "show_as": "busy", "categories": ["Interviews", "Final"]}
    updated = hook.create_or_get_event("options-2", update_existing=True, **fields(), **changed)
    assert updated.status == "updated"
    event = stored_event(graph_emulator)
    assert (event["allowNewTimeProposals"], event["showAs"], event["categories"]) == (
        True,
        "busy",
        ["Interviews", "Final"],
    )
    again = hook.create_or_get_event("options-2", update_existing=True, **fields(), **changed)
    assert again.status == "unchanged"
    assert graph_emulator.stats()["events_updated"] == 1
    # An option not given is not compared: the event keeps it.
    assert hook.create_or_get_event("options-2", update_existing=True, **fields()).status == "unchanged"


def test_a_bad_option_sends_nothing(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    with pytest.raises(InvalidRequestError, match="show_as: 'away' is not one of"):
        hook.create_or_get_event("options-3", **fields(), show_as="away")
    with pytest.raises(InvalidRequestError, match="attendees: has 501 entries; Graph allows 500"):
        hook.create_or_get_event("options-3", **fields(attendees=[f"guest{n}@example.org" for n in range(501)]))
    assert graph_emulator.stats()["graph_requests"] == 0


def test_500_attendees_are_accepted(meetings_conn_id: str, graph_emulator: Any) -> None:
    attendees = [f"guest{n}@example.org" for n in range(499)] + [{"address": ROOM, "type": "resource"}]
    result = OnlineMeetingsHook(meetings_conn_id).create_or_get_event("options-4", **fields(attendees=attendees))
    assert len(result.event["attendees"]) == 500 and len(result.responses) == 500


def test_attendees_responses_in_the_result(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    first = hook.create_or_get_event("responses-1", **fields())
    assert first.to_dict()["responses"] == {"ada@example.org": "none", ROOM: "none"}
    graph_emulator.respond_to_event(first.event_id, "Ada@Example.org", "accepted")
    graph_emulator.respond_to_event(first.event_id, ROOM, "declined")
    again = hook.create_or_get_event("responses-1", **fields())
    assert again.responses == {"ada@example.org": "accepted", ROOM: "declined"}
    (bulk,) = hook.create_or_get_events([{"external_id": "responses-1", **fields()}])
    assert bulk.to_dict()["responses"] == {"ada@example.org": "accepted", ROOM: "declined"}


@pytest.fixture
def without_calendars(graph_emulator: Any) -> Iterator[Any]:
    """The app without Calendars.ReadWrite (the other seeded roles kept); the seeded roles afterwards."""
    graph_emulator.set_app_roles(["OnlineMeetings.ReadWrite.All", "User.Read.All"])
    try:
        yield graph_emulator
    finally:
        graph_emulator.reset()


def test_403_without_calendars_permission_is_one_request(make_hook: Any, without_calendars: Any) -> None:
    hook = make_hook()
    with pytest.raises(CalendarAccessDeniedError) as caught:
        hook.create_or_get_event("denied-1", **fields())
    error = caught.value
    assert error.status == 403 and error.permanent
    assert "application permission Calendars.ReadWrite with admin consent" in str(error)
    assert "Grant admin consent" in str(error)
    stats = without_calendars.stats()
    assert stats["graph_requests"] == 1  # the lookup, answered 403: no retry, no POST
    assert stats["by_route"]["listEvents"] == {"403": 1}
    assert without_calendars.events() == []


# -- cancel, then book again ----------------------------------------------------------------


def active(emulator: Any) -> list[dict[str, Any]]:
    return [e for e in emulator.events() if e["state"] == "active"]


def test_a_cancelled_external_id_books_a_new_event_under_a_new_transaction_id(
    meetings_conn_id: str, graph_emulator: Any
) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    first = hook.create_or_get_event("rebook-1", **fields())
    assert hook.cancel_event("rebook-1", user_id=ORGANIZER_ID, comment="Moved to next week") is True
    second = hook.create_or_get_event("rebook-1", **fields())
    assert (second.status, second.created) == ("created", True)
    assert second.event_id != first.event_id and not second.event.get("isCancelled")
    assert second.event["transactionId"] != first.event["transactionId"]
    assert [a["status"]["response"] for a in second.event["attendees"]] == ["none", "none"]  # invited again
    assert hook.create_or_get_event("rebook-1", **fields()).event_id == second.event_id  # and found again
    # Twice cancelled: the third booking is generation 2 (the POST of generation 0 and 1 meet cancelled events).
    assert hook.cancel_event("rebook-1", user_id=ORGANIZER_ID) is True
    third = hook.create_or_get_event("rebook-1", **fields())
    assert third.created and third.event_id not in (first.event_id, second.event_id)
    assert len({e["transaction_id"] for e in graph_emulator.events()}) == 3
    assert [e["event"]["id"] for e in active(graph_emulator)] == [third.event_id]
    assert graph_emulator.stats()["events_created"] == 3


def test_bulk_books_a_cancelled_external_id_anew(meetings_conn_id: str, graph_emulator: Any) -> None:
    hook = OnlineMeetingsHook(meetings_conn_id)
    items = [{"external_id": f"rebook-bulk-{n}", **fields()} for n in range(3)]
    first = hook.create_or_get_events(items)
    cancels = [{"external_id": "rebook-bulk-1", "user_id": ORGANIZER_ID, "cancelled": True, "comment": "Off"}]
    assert [r.status for r in hook.create_or_get_events(cancels)] == ["cancelled"]
    again = hook.create_or_get_events(items)
    assert [r.status for r in again] == ["existing", "created", "existing"]
    assert again[1].event_id != first[1].event_id and again[1].ok
    assert len(active(graph_emulator)) == 3 and graph_emulator.stats()["events_created"] == 4


def test_delegated_403_for_another_users_calendar_names_the_shared_permission(
    make_hook: Any, graph_emulator: Any
) -> None:
    hook = make_hook(password=None, refresh_token=graph_emulator.public_refresh_token, default_user_id=None)
    alex = graph_emulator.user("alexw")["id"]
    with pytest.raises(CalendarAccessDeniedError) as caught:
        hook.create_or_get_event("delegated-1", **fields(user_id=alex))
    text = str(caught.value)
    assert "delegated permission Calendars.ReadWrite" in text
    assert f"another user's calendar ({alex!r}) needs Calendars.ReadWrite.Shared" in text
    assert "share the calendar with the signed-in user" in text
    assert graph_emulator.stats()["by_route"]["listEvents"] == {"403": 1}  # one request, no retry
    assert hook.create_or_get_event("delegated-1", **fields(user_id=None)).created  # /me/events works


@pytest.mark.parametrize("body", ["<p>Bring your <b>ID</b></p>", {"contentType": "text", "content": "Bring\nyour ID"}])
def test_a_changed_body_keeps_the_teams_link(meetings_conn_id: str, graph_emulator: Any, body: Any) -> None:
    # GRAPH_FACTS: a PATCH of body without the Teams block removes the link. The body was sent
    # alone: the event lost its link, the result still showed the old one, and the next run
    # failed with MissingJoinUrlError.
    hook = OnlineMeetingsHook(meetings_conn_id)
    created = hook.create_or_get_event("body-1", **fields(body="<p>Welcome</p>"))
    updated = hook.create_or_get_event("body-1", update_existing=True, **fields(body=body))
    assert updated.status == "updated" and updated.join_url == created.join_url
    event = stored_event(graph_emulator)
    assert event["onlineMeeting"]["joinUrl"] == created.join_url
    assert "Bring" in event["body"]["content"] and "Welcome" not in event["body"]["content"]
    assert event["body"]["content"].count("Microsoft Teams meeting") == 1  # the block once, not twice
    again = hook.create_or_get_event("body-1", update_existing=True, **fields(body=body))
    assert again.status == "unchanged" and again.join_url == created.join_url
