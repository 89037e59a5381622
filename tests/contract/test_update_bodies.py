"""Every PATCH body a sync sends, checked against the official SDK model of ``onlineMeeting``
(``msgraph-sdk`` for v1.0, ``msgraph-beta-sdk`` for beta; see ``graph_models.py``), and the
``$batch`` form of the PATCH and DELETE requests of a bulk sync."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_meetings.graph.batch import build_batch_payload
from airflow_provider_meetings.meetings.diff import delete_request, meeting_changes, update_request
from airflow_provider_meetings.meetings.request import API_VERSIONS, MeetingSpec, prepare_request

ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ALEX = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
ONLINE_MEETING = "onlineMeeting"
#: The properties "Update onlineMeeting" lets a sync change (learn.microsoft.com/graph/api/onlinemeeting-update).
UPDATABLE = {"subject", "startDateTime", "endDateTime", "participants"}

#: A meeting as createOrGet returned it, unlike every item below in every property a sync compares.
EXISTING: dict[str, Any] = {
    "id": "MSo1",
    "subject": "Old",
    "startDateTime": "2030-01-01T08:00:00.0000000Z",
    "endDateTime": "2030-01-01T09:00:00.0000000Z",
    "participants": {
        "organizer": {"upn": "adelev@contoso.example", "identity": {"user": {"id": ORGANIZER}}, "role": "presenter"},
        "attendees": [{"upn": "old@contoso.example", "role": "attendee"}],
    },
}
ATTENDEES = [
    "pat@contoso.example",
    ALEX,
    {"upn": "megan@contoso.example"},
    {"upn": "alex@contoso.example", "identity": {"user": {"id": ALEX, "displayName": "Alex"}}, "role": "presenter"},
]
ITEMS = {
    "subject": {"subject": "New"},
    "times": {"start_date_time": "2030-01-07T09:00:00+01:00", "end_date_time": "2030-01-07T09:30:00.1234567+01:00"},
    "start only": {"start_date_time": "2030-01-07T09:00:00Z"},
    "attendees": {"participants": {"attendees": ATTENDEES}},
    "no attendees": {"participants": {"attendees": []}},
    "everything": {
        "subject": "New",
        "start_date_time": "2030-01-07T09:00:00Z",
        "end_date_time": "2030-01-07T10:00:00Z",
        "participants": {"attendees": ATTENDEES, "organizer": {"identity": {"user": {"id": ORGANIZER}}}},
    },
}


def patch_body(arguments: dict[str, Any], api_version: str) -> dict[str, Any]:
    prepared = prepare_request(MeetingSpec("ev-1", **arguments), default_user_id=ORGANIZER, api_version=api_version)
    return meeting_changes(prepared.body or {}, EXISTING)


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("arguments", list(ITEMS.values()), ids=list(ITEMS))
def test_patch_bodies_are_online_meetings(graph_contract, api_version, arguments):
    body = patch_body(arguments, api_version)
    assert body and set(body) <= UPDATABLE
    graph_contract.check(body, ONLINE_MEETING, api_version)


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_patch_never_names_the_organizer(graph_contract, api_version):
    body = patch_body(ITEMS["everything"], api_version)
    assert set(body["participants"]) == {"attendees"}
    assert {"startDateTime", "endDateTime"} <= set(body)


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_batch_items_of_the_second_step(graph_contract, api_version):
    specs = [MeetingSpec("b-1", **ITEMS["everything"]), MeetingSpec("b-2", user_id=ALEX)]
    prepared = [prepare_request(s, default_user_id=ORGANIZER, api_version=api_version) for s in specs]
    items = [
        (0, update_request(prepared[0], "MSo1", patch_body(ITEMS["everything"], api_version))),
        (1, delete_request(prepared[1], "MSo2")),
    ]
    patch, delete = build_batch_payload(items)["requests"]
    assert (patch["method"], patch["url"]) == ("PATCH", f"/users/{ORGANIZER}/onlineMeetings/MSo1")
    assert patch["headers"] == {"Content-Type": "application/json"}  # required with a body
    graph_contract.check(patch["body"], ONLINE_MEETING, api_version)
    assert delete == {"id": "1", "method": "DELETE", "url": f"/users/{ALEX}/onlineMeetings/MSo2"}  # no body
