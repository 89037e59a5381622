"""The sync diff: what differs between an item and its meeting, and what the PATCH carries.

Graph's rules ("Update onlineMeeting", learn.microsoft.com/graph/api/onlinemeeting-update):
a change of start or end sends both, a change of attendees sends the full list, the
organizer is never sent.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_meetings.graph.errors import GraphAPIError
from airflow_provider_meetings.meetings.diff import (
    OrganizerMismatchError,
    after_create_or_get,
    delete_request,
    meeting_changes,
    meeting_path,
    same_attendees,
    update_request,
)
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest, prepare_request

ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ALEX = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
MEGAN = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c03"


def attendee(upn: str | None = None, user_id: str | None = None, role: str | None = None) -> dict[str, Any]:
    """An attendee as Graph returns it: ``role`` null unless one was sent (createOrGet page's example)."""
    entry: dict[str, Any] = {}
    if upn:
        entry["upn"] = upn
    if user_id:
        entry["identity"] = {"user": {"id": user_id, "displayName": None, "tenantId": "t"}}
    entry["role"] = role
    return entry


#: The meeting as createOrGet returns it (seven fractional digits, UTC).
MEETING: dict[str, Any] = {
    "id": "MSo1",
    "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x",
    "subject": "ML 101",
    "startDateTime": "2026-12-07T08:00:00.0000000Z",
    "endDateTime": "2026-12-07T09:30:00.0000000Z",
    "participants": {
        "organizer": attendee("adelev@contoso.example", ADELE, role="presenter"),
        "attendees": [attendee("alexw@contoso.example", ALEX), attendee("meganb@contoso.example", MEGAN)],
    },
}
SAME = {
    "subject": "ML 101",
    "start_date_time": "2026-12-07T09:00:00+01:00",
    "end_date_time": "2026-12-07T10:30:00+01:00",
    "participants": {"attendees": ["alexw@contoso.example", "meganb@contoso.example"]},
}
MOVED = {"startDateTime": "2026-12-07T09:00:00.0000000Z", "endDateTime": "2026-12-07T10:30:00.0000000Z"}
BOTH_ATTENDEES = [{"upn": "alexw@contoso.example"}, {"upn": "meganb@contoso.example"}]


def changes(meeting: dict[str, Any] = MEETING, api_version: str = "v1.0", **arguments: Any) -> dict[str, Any]:
    """The PATCH body for an item with ``arguments`` (validated as the hook does)."""
    prepared = prepare_request(MeetingSpec("ev-1", **arguments), default_user_id=ADELE, api_version=api_version)
    return meeting_changes(prepared.body or {}, meeting)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        # -- nothing differs: no PATCH ------------------------------------------------------
        pytest.param(SAME, {}, id="identical"),
        pytest.param({}, {}, id="nothing given: nothing compared"),
        pytest.param({"subject": "ML 101"}, {}, id="subject only, same"),
        pytest.param(
            {**SAME, "start_date_time": "2026-12-07T08:00:00Z", "end_date_time": "2026-12-07T09:30:00.0000000Z"},
            {},
            id="same instants in Z and with 7 digits",
        ),
        pytest.param(
            {**SAME, "start_date_time": "2026-12-07T03:00:00-05:00", "end_date_time": "2026-12-07T04:30:00-05:00"},
            {},
            id="same instants in another offset",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": ["meganb@contoso.example", "alexw@contoso.example"]}},
            {},
            id="attendees in another order",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": [ALEX, "MeganB@Contoso.example"]}},
            {},
            id="attendees by object id and by UPN in other case",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": ["alexw@contoso.example", "meganb@contoso.example", ALEX]}},
            {},
            id="a repeated attendee",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": [{"upn": "alexw@contoso.example", "role": "attendee"}, MEGAN]}},
            {},
            id="same role given",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": BOTH_ATTENDEES, "organizer": {"upn": "adelev@contoso.example"}}},
            {},
            id="organizer given, the same",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": BOTH_ATTENDEES, "organizer": {"identity": {"user": {"id": ADELE}}}}},
            {},
            id="organizer by object id, the same",
        ),
        # -- times: both, always --------------------------------------------------------------
        pytest.param(
            {**SAME, "start_date_time": "2026-12-07T10:00:00+01:00", "end_date_time": None},
            {"startDateTime": "2026-12-07T09:00:00.0000000Z", "endDateTime": "2026-12-07T10:00:00.0000000Z"},
            id="moved, start only: one hour",
        ),
        pytest.param(
            {**SAME, "start_date_time": "2026-12-07T10:00:00+01:00", "end_date_time": "2026-12-07T11:30:00+01:00"},
            MOVED,
            id="moved: both sent",
        ),
        pytest.param(
            {**SAME, "end_date_time": "2026-12-07T10:00:00+01:00"},
            {"startDateTime": "2026-12-07T08:00:00.0000000Z", "endDateTime": "2026-12-07T09:00:00.0000000Z"},
            id="end only changed: start sent too",
        ),
        pytest.param(
            {**SAME, "start_date_time": "2026-12-07T09:00:00.000001+01:00"},
            {"startDateTime": "2026-12-07T08:00:00.0000010Z", "endDateTime": "2026-12-07T09:30:00.0000000Z"},
            id="a microsecond counts",
        ),
        # -- subject --------------------------------------------------------------------------
        pytest.param({**SAME, "subject": "ML 101 (room change)"}, {"subject": "ML 101 (room change)"}, id="subject"),
        # -- attendees: the full list ---------------------------------------------------------
        pytest.param(
            {**SAME, "participants": {"attendees": ["alexw@contoso.example"]}},
            {"participants": {"attendees": [{"upn": "alexw@contoso.example"}]}},
            id="an attendee removed",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": [*SAME["participants"]["attendees"], "pattif@contoso.example"]}},
            {"participants": {"attendees": [*BOTH_ATTENDEES, {"upn": "pattif@contoso.example"}]}},
            id="an attendee added: full list",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": []}},
            {"participants": {"attendees": []}},
            id="every attendee removed",
        ),
        pytest.param(
            {**SAME, "participants": {"attendees": [{"upn": "alexw@contoso.example", "role": "presenter"}, MEGAN]}},
            {
                "participants": {
                    "attendees": [
                        {"upn": "alexw@contoso.example", "role": "presenter"},
                        {"identity": {"user": {"id": MEGAN}}},
                    ]
                }
            },
            id="a role changed",
        ),
        # -- all of it ------------------------------------------------------------------------
        pytest.param(
            {
                "subject": "Moved",
                "start_date_time": "2026-12-07T10:00:00+01:00",
                "end_date_time": "2026-12-07T11:30:00+01:00",
                "participants": {"attendees": ["alexw@contoso.example"]},
            },
            {"subject": "Moved", **MOVED, "participants": {"attendees": [{"upn": "alexw@contoso.example"}]}},
            id="everything",
        ),
    ],
)
def test_meeting_changes(arguments: dict[str, Any], expected: dict[str, Any]) -> None:
    assert changes(**arguments) == expected


@pytest.mark.parametrize(
    ("meeting", "arguments", "expected"),
    [
        pytest.param(
            {**MEETING, "endDateTime": "2026-12-07T09:30:00Z"}, SAME, {}, id="Graph without fractional digits"
        ),
        pytest.param({**MEETING, "subject": None}, {"subject": ""}, {}, id="empty subject is no subject"),
        pytest.param(
            {**MEETING, "startDateTime": None},
            SAME,
            {"startDateTime": "2026-12-07T08:00:00.0000000Z", "endDateTime": "2026-12-07T09:30:00.0000000Z"},
            id="meeting without a start",
        ),
        pytest.param(
            {**MEETING, "participants": {"organizer": MEETING["participants"]["organizer"]}},
            {"participants": {"attendees": []}},
            {},
            id="no attendees on either side",
        ),
        pytest.param(
            {
                **MEETING,
                "participants": {
                    **MEETING["participants"],
                    "attendees": [attendee(upn="alexw@contoso.example", role=None), attendee(user_id=MEGAN, role=None)],
                },
            },
            {
                "participants": {
                    "attendees": [
                        ALEX,
                        "meganb@contoso.example",
                        {"upn": "x@contoso.example", "identity": {"user": {"id": ALEX}}},
                    ]
                }
            },
            {
                "participants": {
                    "attendees": [
                        {"identity": {"user": {"id": ALEX}}},
                        {"upn": "meganb@contoso.example"},
                        {"upn": "x@contoso.example", "identity": {"user": {"id": ALEX}}},
                    ]
                }
            },
            id="Graph knows only one key of each: no match by the other",
        ),
    ],
)
def test_meeting_changes_against_other_answers(meeting: dict, arguments: dict, expected: dict) -> None:
    assert changes(meeting, **arguments) == expected


@pytest.mark.parametrize(
    ("wanted", "current", "same"),
    [
        pytest.param([], [], True, id="both empty"),
        pytest.param([{"upn": "a@x.example"}], [attendee("A@X.example")], True, id="UPN case"),
        pytest.param([{"upn": "a@x.example"}], [attendee("b@x.example")], False, id="someone else"),
        pytest.param([{"upn": "a@x.example"}], [], False, id="one to add"),
        pytest.param([], [attendee("a@x.example")], False, id="one to remove"),
        pytest.param(
            [{"identity": {"application": {"id": "app"}}}],
            [{"identity": {"application": {"id": "app"}}, "role": "attendee"}],
            True,
            id="not a user: the whole identity",
        ),
        pytest.param(
            [{"identity": {"application": {"id": "App-1"}}}],
            [{"identity": {"application": {"id": "app-1", "displayName": "Bot"}, "user": None}, "role": None}],
            True,
            id="not a user: its kind and id, whatever Graph adds",
        ),
        pytest.param(
            [{"identity": {"application": {"id": "app-1"}}}],
            [{"identity": {"application": {"id": "app-2", "displayName": "Bot"}}}],
            False,
            id="another application",
        ),
        pytest.param(
            [{"identity": {"phone": {"displayName": "+1 555"}}}],
            [{"identity": {"phone": {"displayName": "+1 555"}}}],
            True,
            id="no id at all: the whole identity",
        ),
        pytest.param(
            [{"upn": "a@x.example", "role": "Presenter"}],
            [attendee("a@x.example", role="presenter")],
            True,
            id="role case",
        ),
        pytest.param(
            [{"upn": "a@x.example", "role": "attendee"}],
            [attendee("a@x.example", role=None)],
            True,
            id="no role is attendee",
        ),
        pytest.param(
            [{"upn": "a@x.example", "role": "attendee"}],
            [{"upn": "a@x.example"}],
            True,
            id="role left out is attendee",
        ),
        pytest.param(
            [{"upn": "a@x.example", "role": "presenter"}],
            [attendee("a@x.example")],
            False,
            id="null role is not presenter",
        ),
    ],
)
def test_same_attendees(wanted: list, current: list, same: bool) -> None:
    assert same_attendees(wanted, current) is same


@pytest.mark.parametrize(
    "organizer",
    [
        pytest.param({"upn": "alexw@contoso.example"}, id="another UPN"),
        pytest.param({"identity": {"user": {"id": ALEX}}}, id="another object id"),
        pytest.param(ALEX, id="another object id as a string"),
    ],
)
def test_another_organizer_is_refused(organizer: Any) -> None:
    with pytest.raises(OrganizerMismatchError) as caught:
        changes(participants={"organizer": organizer})
    message = str(caught.value)
    assert message.startswith("participants.organizer: names ")
    assert "adelev@contoso.example" in message and "cannot change" in message and "user_id" in message


def test_an_organizer_that_cannot_be_compared_is_not_a_conflict() -> None:
    meeting = {**MEETING, "participants": {"organizer": {"identity": {"user": {"id": ADELE}}}, "attendees": []}}
    assert changes(meeting, participants={"organizer": {"upn": "someone@contoso.example"}}) == {}


@pytest.mark.parametrize("api_version", ["v1.0", "beta"])
def test_beta_only_arguments_are_not_compared(api_version: str) -> None:
    """chatInfo and producers/contributors apply at creation; the update page lists only attendees."""
    extra: dict[str, Any] = {}
    if api_version == "beta":
        extra = {
            "chat_info": {"threadId": "19:other@thread.v2"},
            "participants": {**SAME["participants"], "producers": [MEGAN], "contributors": [ALEX]},
        }
    assert changes(api_version=api_version, **{**SAME, **extra}) == {}


# -- requests -----------------------------------------------------------------------------------


PREPARED = PreparedRequest(path=f"users/{ADELE}/onlineMeetings/createOrGet", body={"externalId": "ev-1"}, user_id=ADELE)


def test_update_and_delete_requests_address_the_meeting() -> None:
    meeting_id = "MSo1*abc==_19:meeting_x@thread.v2"
    patch = update_request(PREPARED, meeting_id, {"subject": "x"})
    delete = delete_request(PREPARED, meeting_id)
    encoded = "MSo1%2Aabc%3D%3D_19%3Ameeting_x%40thread.v2"
    assert (patch.method, patch.path, patch.body) == (
        "PATCH",
        f"users/{ADELE}/onlineMeetings/{encoded}",
        {"subject": "x"},
    )
    assert (delete.method, delete.path, delete.body) == ("DELETE", f"users/{ADELE}/onlineMeetings/{encoded}", None)
    assert patch.external_id == delete.external_id == "ev-1" and patch.user_id == delete.user_id == ADELE
    assert (patch.operation, delete.operation) == ("PATCH onlineMeetings", "DELETE onlineMeetings")
    assert meeting_path("me/onlineMeetings/createOrGet", "m") == "me/onlineMeetings/m"


@pytest.mark.parametrize(
    ("path", "meeting_id"),
    [
        pytest.param("users/x/onlineMeetings/m", "m", id="not createOrGet"),
        pytest.param("users/x/onlineMeetings/createOrGet", "", id="no id"),
    ],
)
def test_meeting_path_refuses_what_is_not_a_meeting(path: str, meeting_id: str) -> None:
    with pytest.raises(ValueError):
        meeting_path(path, meeting_id)


# -- what follows createOrGet (one rule for single and bulk calls) ----------------------------

WANTED = PreparedRequest(
    path=f"users/{ADELE}/onlineMeetings/createOrGet", body={"externalId": "ev-1", "subject": "new"}, user_id=ADELE
)


@pytest.mark.parametrize(
    ("meeting", "created", "cancel", "compare", "method", "outcome"),
    [
        pytest.param({"id": "m", "subject": "old"}, False, False, False, None, "existing", id="createOrGet alone"),
        pytest.param({"id": "m", "subject": "new"}, True, False, False, None, "created", id="created alone"),
        pytest.param({"id": "m", "subject": "new"}, True, False, True, None, "created", id="created as asked"),
        pytest.param({"id": "m", "subject": "new"}, False, False, True, None, "unchanged", id="unchanged"),
        pytest.param({"id": "m", "subject": "old"}, False, False, True, "PATCH", None, id="differs"),
        pytest.param({"id": "m"}, True, True, False, "DELETE", None, id="cancel of a new one"),
        pytest.param({"id": "m"}, False, True, True, "DELETE", None, id="cancel"),
    ],
)
def test_after_create_or_get(meeting, created, cancel, compare, method, outcome) -> None:
    step = after_create_or_get(WANTED, meeting, created=created, cancel=cancel, compare=compare)
    assert (step.request.method if step.request else None, step.outcome) == (method, outcome)
    if method == "PATCH":
        assert step.request.body == {"subject": "new"} and step.changes == ("subject",)
        assert step.request.path == f"users/{ADELE}/onlineMeetings/m" and step.request.external_id == "ev-1"


@pytest.mark.parametrize("cancel", [True, False], ids=["cancel", "patch"])
def test_a_request_needs_the_meeting_id(cancel: bool) -> None:
    with pytest.raises(GraphAPIError, match="no meeting id") as caught:
        after_create_or_get(WANTED, {"subject": "old"}, created=False, cancel=cancel)
    assert caught.value.status == 200


def test_no_request_needs_no_id() -> None:
    assert after_create_or_get(WANTED, {"subject": "new"}, created=False).outcome == "unchanged"
