"""Keeping meetings in step with their events (``sync_meeting``, ``cancel_meeting``) through
real MSAL and HTTPS against the emulator, whose PATCH and DELETE follow Microsoft's "Update
onlineMeeting" and "Delete onlineMeeting" pages."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_meetings.graph.errors import InvalidRequestError, RetriesExhaustedError
from airflow_provider_meetings.meetings.diff import OrganizerMismatchError

pytestmark = pytest.mark.integration

LECTURE = {
    "subject": "ML 101 lecture",
    "start_date_time": "2026-12-07T09:00:00+01:00",
    "end_date_time": "2026-12-07T10:30:00+01:00",
    "participants": {"attendees": ["alexw@contoso.example", "meganb@contoso.example"]},
}


def routes(emu: Any) -> dict[str, dict[str, int]]:
    by_route = emu.stats()["by_route"]
    return {name: by_route.get(name, {}) for name in ("createOrGet", "updateMeeting", "deleteMeeting")}


def test_sync_creates_then_finds_the_meeting_unchanged_without_a_patch(make_hook, graph_emulator):
    hook = make_hook()
    first = hook.sync_meeting("lecture-1", **LECTURE)
    # Same event, written differently: other offsets, attendees in another order and case.
    again = hook.sync_meeting(
        "lecture-1",
        subject="ML 101 lecture",
        start_date_time="2026-12-07T08:00:00Z",
        end_date_time="2026-12-07T03:30:00-06:00",
        participants={"attendees": ["MeganB@contoso.example", "alexw@contoso.example"]},
    )

    assert (first.status, first.created, again.status, again.created) == ("created", True, "unchanged", False)
    assert again.meeting["id"] == first.meeting["id"]
    assert routes(graph_emulator) == {"createOrGet": {"201": 1, "200": 1}, "updateMeeting": {}, "deleteMeeting": {}}


def test_a_moved_event_is_one_patch_and_keeps_id_and_join_url(make_hook, graph_emulator):
    hook = make_hook()
    first = hook.sync_meeting("lecture-2", **LECTURE)
    moved = hook.sync_meeting(
        "lecture-2", **{**LECTURE, "start_date_time": "2026-12-08T09:00:00+01:00", "end_date_time": None}
    )

    assert (moved.status, moved.created) == ("updated", False)
    assert (moved.meeting["id"], moved.meeting["joinWebUrl"]) == (first.meeting["id"], first.meeting["joinWebUrl"])
    # A start alone: a one-hour meeting, and Graph needs both times.
    assert (moved.meeting["startDateTime"], moved.meeting["endDateTime"]) == (
        "2026-12-08T08:00:00.0000000Z",
        "2026-12-08T09:00:00.0000000Z",
    )
    assert routes(graph_emulator) == {
        "createOrGet": {"201": 1, "200": 1},
        "updateMeeting": {"200": 1},
        "deleteMeeting": {},
    }
    (stored,) = graph_emulator.meetings()
    assert stored["meeting"]["startDateTime"] == "2026-12-08T08:00:00.0000000Z"
    assert stored["meeting"]["subject"] == "ML 101 lecture"  # not sent: unchanged

    # Graph answers the moved meeting from now on: nothing more to send.
    assert (
        hook.sync_meeting(
            "lecture-2", **{**LECTURE, "start_date_time": "2026-12-08T09:00:00+01:00", "end_date_time": None}
        ).status
        == "unchanged"
    )
    assert routes(graph_emulator)["updateMeeting"] == {"200": 1}


def test_attendees_subject_and_times_change_in_one_patch(make_hook, graph_emulator):
    hook = make_hook()
    hook.sync_meeting("lecture-3", **LECTURE)
    result = hook.sync_meeting(
        "lecture-3",
        subject="ML 101 lecture (moved)",
        start_date_time="2026-12-07T11:00:00+01:00",
        end_date_time="2026-12-07T12:30:00+01:00",
        participants={"attendees": ["meganb@contoso.example", "pattif@contoso.example"]},
    )

    meeting = result.meeting
    assert result.status == "updated"
    assert meeting["subject"] == "ML 101 lecture (moved)"
    assert meeting["startDateTime"] == "2026-12-07T10:00:00.0000000Z"
    assert sorted(a["upn"] for a in meeting["participants"]["attendees"]) == [
        "meganb@contoso.example",
        "pattif@contoso.example",
    ]
    assert routes(graph_emulator)["updateMeeting"] == {"200": 1}


def test_leaving_arguments_out_leaves_the_meeting_as_it_is(make_hook, graph_emulator):
    hook = make_hook()
    first = hook.sync_meeting("lecture-4", **LECTURE)
    again = hook.sync_meeting("lecture-4")

    assert again.status == "unchanged" and again.meeting == first.meeting
    assert routes(graph_emulator)["updateMeeting"] == {}


def test_another_organizer_is_refused_and_nothing_is_patched(make_hook, graph_emulator):
    hook = make_hook()
    hook.sync_meeting("lecture-5", **LECTURE)
    with pytest.raises(OrganizerMismatchError, match="participants.organizer: names 'meganb@contoso.example'"):
        hook.sync_meeting("lecture-5", **{**LECTURE, "participants": {"organizer": {"upn": "meganb@contoso.example"}}})
    assert routes(graph_emulator)["updateMeeting"] == {}


def test_bad_input_sends_nothing(make_hook, graph_emulator):
    with pytest.raises(InvalidRequestError, match="end_date_time"):
        make_hook().sync_meeting("x", start_date_time="2026-12-07T10:00:00Z", end_date_time="2026-12-07T09:00:00Z")
    assert graph_emulator.stats()["graph_requests"] == 0


def test_a_lost_patch_answer_is_retried_and_the_meeting_moves_once(make_hook, graph_emulator):
    hook = make_hook(max_retries=2, timeout=1)
    first = hook.sync_meeting("lecture-6", **LECTURE)
    graph_emulator.script("drop", when="after", match="^PATCH ", times=1)  # applied, its answer lost
    moved = hook.sync_meeting(
        "lecture-6",
        **{**LECTURE, "start_date_time": "2026-12-09T09:00:00+01:00", "end_date_time": "2026-12-09T10:00:00+01:00"},
    )

    assert moved.status == "updated" and moved.meeting["id"] == first.meeting["id"]
    assert moved.meeting["startDateTime"] == "2026-12-09T08:00:00.0000000Z"
    assert len(graph_emulator.meetings()) == 1
    assert routes(graph_emulator)["updateMeeting"] == {"dropped": 1, "200": 1}  # PATCH is idempotent


# -- cancel -------------------------------------------------------------------------------------


def test_cancel_deletes_the_meeting_and_a_second_cancel_is_a_no_op(make_hook, graph_emulator):
    hook = make_hook()
    hook.sync_meeting("interview-1", **LECTURE)

    assert hook.cancel_meeting("interview-1") is True
    assert graph_emulator.meetings() == []
    assert hook.cancel_meeting("interview-1") is False
    assert graph_emulator.meetings() == []
    # Each cancel: createOrGet (which finds the meeting, or makes one) and DELETE.
    assert routes(graph_emulator) == {
        "createOrGet": {"201": 2, "200": 1},
        "updateMeeting": {},
        "deleteMeeting": {"204": 2},
    }


def test_cancel_of_a_meeting_never_made_leaves_nothing(make_hook, graph_emulator):
    assert make_hook().cancel_meeting("never-booked", user_id=graph_emulator.user("alexw")["id"]) is False
    assert graph_emulator.meetings() == []


def test_a_retried_delete_whose_first_answer_was_lost_still_reports_the_meeting(make_hook, graph_emulator):
    hook = make_hook(max_retries=2, timeout=1)
    hook.sync_meeting("interview-2", **LECTURE)
    graph_emulator.script("drop", when="after", match="^DELETE ", times=1)  # DELETE applied, answer lost

    assert hook.cancel_meeting("interview-2") is True  # the retry's 404 means: gone already
    assert graph_emulator.meetings() == []
    assert routes(graph_emulator)["deleteMeeting"] == {"dropped": 1, "404": 1}


def test_a_cancel_that_fails_leaves_the_meeting_for_the_retry(make_hook, graph_emulator):
    hook = make_hook(max_retries=0)
    hook.sync_meeting("interview-3", **LECTURE)
    graph_emulator.script(503, match="^DELETE ", times=1)
    with pytest.raises(RetriesExhaustedError):
        hook.cancel_meeting("interview-3")
    assert len(graph_emulator.meetings()) == 1

    assert hook.cancel_meeting("interview-3") is True  # the task's retry
    assert graph_emulator.meetings() == []


def test_a_meeting_created_after_a_cancel_is_a_new_one(make_hook, graph_emulator):
    hook = make_hook()
    first = hook.sync_meeting("interview-4", **LECTURE)
    hook.cancel_meeting("interview-4")
    again = hook.sync_meeting("interview-4", **LECTURE)

    assert again.status == "created" and again.meeting["id"] != first.meeting["id"]


# -- the docs' example (docs/operators.md quotes it) ----------------------------------------------


def test_sync_and_cancel_as_the_docs_show(make_hook, graph_emulator):
    hook = make_hook()
    hook.sync_meeting("lecture-2026-12-07", subject="ML 101 lecture", start_date_time="2026-12-07T09:00:00+01:00")

    # [START howto_hook_sync_meeting]
    result = hook.sync_meeting(
        "lecture-2026-12-07",
        subject="ML 101 lecture",
        start_date_time="2026-12-07T10:00:00+01:00",  # moved by an hour
        end_date_time="2026-12-07T11:30:00+01:00",
        participants={"attendees": ["alexw@contoso.example", "meganb@contoso.example"]},
    )
    status, join_url = result.status, result.join_url  # "created", "updated" or "unchanged"
    # [END howto_hook_sync_meeting]
    assert (status, result.meeting["startDateTime"]) == ("updated", "2026-12-07T09:00:00.0000000Z")

    # [START howto_hook_cancel_meeting]
    deleted = hook.cancel_meeting("lecture-2026-12-07")  # True: deleted; False: there was none
    # [END howto_hook_cancel_meeting]
    assert deleted is True and graph_emulator.meetings() == [] and join_url.startswith("https://")


# -- organizers given by UPN --------------------------------------------------------------------


def test_an_organizer_given_by_upn_is_synced_and_cancelled_at_its_object_id(make_hook, graph_emulator):
    """Graph answers a UPN in the onlineMeetings path with 404: the PATCH and the DELETE go,
    like the createOrGet, to the object id the hook looked up once."""
    alex = graph_emulator.user("alexw")
    hook = make_hook()
    first = hook.sync_meeting("review-upn", user_id=alex["userPrincipalName"], **LECTURE)
    moved = hook.sync_meeting(
        "review-upn",
        user_id=alex["userPrincipalName"],
        **{**LECTURE, "start_date_time": "2026-12-07T11:00:00+01:00", "end_date_time": None},
    )

    assert (first.status, moved.status) == ("created", "updated")
    assert (moved.user_id, moved.given_user_id) == (alex["id"], alex["userPrincipalName"])
    assert moved.meeting["id"] == first.meeting["id"]
    assert hook.cancel_meeting("review-upn", user_id=alex["userPrincipalName"]) is True
    assert graph_emulator.meetings() == []
    assert graph_emulator.stats()["by_route"]["getUser"] == {"200": 1}  # looked up once per hook
    assert routes(graph_emulator)["updateMeeting"] == {"200": 1}
    assert routes(graph_emulator)["deleteMeeting"] == {"204": 1}
