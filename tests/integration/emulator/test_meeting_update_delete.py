"""PATCH and DELETE of onlineMeetings, with the rules of Microsoft's "Update onlineMeeting" and
"Delete onlineMeeting" pages (learn.microsoft.com/graph/api/onlinemeeting-update, -delete)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from emulator_testlib import assert_graph_error, create_path

from meetings_emulator.config import ALEX_ID, MEGAN_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
ADELE = create_path(ORGANIZER_ID)
JSON = {"Content-Type": "application/json"}
START, END = "2030-03-01T09:00:00Z", "2030-03-01T10:00:00Z"


def meeting_path(meeting_id: str, user: str = ORGANIZER_ID) -> str:
    return f"/users/{user}/onlineMeetings/{quote(meeting_id, safe='')}"


@pytest.fixture
def meeting(graph: Graph) -> dict[str, Any]:
    body = {
        "externalId": "lecture-1",
        "subject": "Lecture",
        "startDateTime": START,
        "endDateTime": END,
        "participants": {"attendees": [{"upn": "alexw@contoso.example", "identity": {"user": {"id": ALEX_ID}}}]},
    }
    response = graph("POST", ADELE, json=body)
    assert response.status_code == 201
    return response.json()


def test_patch_moves_the_meeting_and_keeps_id_and_join_url(graph: Graph, emu: Any, meeting: dict) -> None:
    patch = {
        "startDateTime": "2030-03-02T09:00:00+01:00",
        "endDateTime": "2030-03-02T10:30:00+01:00",
        "subject": "Moved",
    }
    response = graph("PATCH", meeting_path(meeting["id"]), json=patch)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["id"], updated["joinWebUrl"]) == (meeting["id"], meeting["joinWebUrl"])
    assert (updated["startDateTime"], updated["endDateTime"]) == (
        "2030-03-02T08:00:00.0000000Z",
        "2030-03-02T09:30:00.0000000Z",
    )
    assert updated["subject"] == "Moved" and updated["@odata.context"].endswith("/onlineMeetings/$entity")
    got = graph("GET", meeting_path(meeting["id"])).json()
    assert got["subject"] == "Moved" and got["startDateTime"] == updated["startDateTime"]
    again = graph("POST", ADELE, json={"externalId": "lecture-1"}).json()  # createOrGet returns the updated one
    assert again["subject"] == "Moved" and again["id"] == meeting["id"]
    assert emu.stats()["by_route"]["updateMeeting"] == {"200": 1}


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param({"startDateTime": "2030-03-02T09:00:00Z"}, id="start-only"),
        pytest.param({"endDateTime": "2030-03-02T09:00:00Z", "subject": "x"}, id="end-only"),
        pytest.param(
            {"startDateTime": "2030-03-02T09:00:00Z", "endDateTime": "2030-03-02T08:00:00Z"}, id="end-before-start"
        ),
        pytest.param({"participants": {"organizer": {"identity": {"user": {"id": MEGAN_ID}}}}}, id="organizer"),
        pytest.param({"participants": {"attendees": {"upn": "a@contoso.example"}}}, id="attendees-not-a-list"),
        pytest.param({"joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x"}, id="read-only-property"),
        pytest.param({"externalId": "other"}, id="external-id"),
        pytest.param({"title": "x"}, id="undefined-property"),
        pytest.param({"participants": {"producers": []}}, id="producers-on-v1"),
    ],
)
def test_patch_refusals(graph: Graph, meeting: dict, patch: dict) -> None:
    assert_graph_error(graph("PATCH", meeting_path(meeting["id"]), json=patch), 400, "BadRequest")
    unchanged = graph("GET", meeting_path(meeting["id"])).json()
    assert {k: unchanged[k] for k in ("subject", "startDateTime", "participants")} == {
        k: meeting[k] for k in ("subject", "startDateTime", "participants")
    }


def test_patch_undefined_property_message(graph: Graph, meeting: dict) -> None:
    error = assert_graph_error(graph("PATCH", meeting_path(meeting["id"]), json={"title": "x"}), 400, "BadRequest")
    assert error["message"] == (
        "The property 'title' does not exist on type 'microsoft.graph.onlineMeeting'. Make sure to only use "
        "property names that are defined by the type or mark the type as open type."
    )


def test_patch_replaces_the_full_attendee_list(graph: Graph, meeting: dict) -> None:
    attendees = [{"upn": "meganb@contoso.example", "identity": {"user": {"id": MEGAN_ID}}}]
    updated = graph("PATCH", meeting_path(meeting["id"]), json={"participants": {"attendees": attendees}}).json()
    assert [a["upn"] for a in updated["participants"]["attendees"]] == ["meganb@contoso.example"]
    assert updated["participants"]["attendees"][0]["role"] is None  # not sent: null, as createOrGet answers
    assert updated["participants"]["organizer"] == meeting["participants"]["organizer"]
    cleared = graph("PATCH", meeting_path(meeting["id"]), json={"participants": {"attendees": []}}).json()
    assert cleared["participants"]["attendees"] == []


def test_patch_settings_and_beta_properties(graph: Graph, meeting: dict) -> None:
    patch = {"lobbyBypassSettings": {"isDialInBypassEnabled": True}, "allowedPresenters": "organizer"}
    updated = graph("PATCH", meeting_path(meeting["id"]), json=patch).json()
    assert updated["lobbyBypassSettings"] == {"scope": "organization", "isDialInBypassEnabled": True}
    assert updated["allowedPresenters"] == "organizer"
    # anonymizeIdentityForRoles is on the update page but defined in beta's model only
    beta = {"anonymizeIdentityForRoles": ["attendee"]}
    assert graph("PATCH", meeting_path(meeting["id"]), json=beta, version="beta").status_code == 200
    assert_graph_error(graph("PATCH", meeting_path(meeting["id"]), json=beta), 400, "BadRequest")


def test_unknown_or_foreign_meeting_is_404(graph: Graph, meeting: dict) -> None:
    for method in ("PATCH", "DELETE"):
        body = {"subject": "x"} if method == "PATCH" else None
        assert_graph_error(graph(method, meeting_path("MSpub25lCg"), json=body), 404, "NotFound")
        assert_graph_error(graph(method, meeting_path(meeting["id"], ALEX_ID), json=body), 404, "NotFound")


def test_access_policy_is_required_for_app_tokens(graph: Graph, emu: Any, meeting: dict) -> None:
    emu.revoke_policy(ORGANIZER_ID)
    for method, body in (("PATCH", {"subject": "x"}), ("DELETE", None)):
        response = graph(method, meeting_path(meeting["id"]), json=body)
        assert_graph_error(response, 403, "Forbidden", "No Application Access Policy found for this app.")
    assert len(emu.meetings()) == 1


def test_delete_then_create_or_get_makes_a_new_meeting(graph: Graph, emu: Any, meeting: dict) -> None:
    response = graph("DELETE", meeting_path(meeting["id"]))
    assert response.status_code == 204 and response.content == b""
    assert_graph_error(graph("GET", meeting_path(meeting["id"])), 404, "NotFound")
    assert_graph_error(graph("DELETE", meeting_path(meeting["id"])), 404, "NotFound")  # a second delete
    assert emu.meetings() == []
    # Microsoft's docs do not say; the emulator's assumption (docs/emulator.md): a new meeting.
    again = graph("POST", ADELE, json={"externalId": "lecture-1"})
    assert again.status_code == 201
    assert again.json()["id"] != meeting["id"] and again.json()["joinWebUrl"] != meeting["joinWebUrl"]
    stats = emu.stats()
    assert stats["by_route"]["deleteMeeting"] == {"204": 1, "404": 1} and stats["meetings_deleted"] == 1


def test_me_routes_with_a_delegated_token(graph: Graph, delegated_token: str) -> None:
    created = graph("POST", "/me/onlineMeetings/createOrGet", token=delegated_token, json={"externalId": "me-1"}).json()
    path = f"/me/onlineMeetings/{quote(created['id'], safe='')}"
    patched = graph("PATCH", path, token=delegated_token, json={"subject": "Mine"})
    assert patched.status_code == 200 and patched.json()["subject"] == "Mine"
    assert graph("DELETE", path, token=delegated_token).status_code == 204
    assert_graph_error(graph("PATCH", "/me/onlineMeetings/x", json={"subject": "x"}), 400, "BadRequest")  # app token


def test_patch_and_delete_as_batch_items(graph: Graph, emu: Any, meeting: dict) -> None:
    other = graph("POST", ADELE, json={"externalId": "lecture-2"}).json()
    requests_ = [
        {"id": "p", "method": "PATCH", "url": meeting_path(meeting["id"]), "headers": JSON, "body": {"subject": "B"}},
        {"id": "d", "method": "DELETE", "url": meeting_path(other["id"])},
        {
            "id": "bad",
            "method": "PATCH",
            "url": meeting_path(meeting["id"]),
            "headers": JSON,
            "body": {"startDateTime": START},
        },
    ]
    response = graph("POST", "/$batch", json={"requests": requests_})
    assert response.status_code == 200
    answers = {r["id"]: r for r in response.json()["responses"]}
    assert answers["p"]["status"] == 200 and answers["p"]["body"]["subject"] == "B"
    assert answers["d"]["status"] == 204 and answers["d"]["body"] is None
    assert answers["bad"]["status"] == 400
    assert [m["external_id"] for m in emu.meetings()] == ["lecture-1"]
    by_route = emu.stats()["by_route"]
    assert by_route["updateMeeting"] == {"200": 1, "400": 1} and by_route["deleteMeeting"] == {"204": 1}
