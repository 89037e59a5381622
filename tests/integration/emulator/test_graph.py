"""Graph onlineMeetings side of the emulator over real HTTPS."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from emulator_testlib import assert_graph_error, create_path, parse_graph_time

from meetings_emulator.config import ALEX_ID, MEGAN_ID, NOPOLICY_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
ADELE = create_path(ORGANIZER_ID)


def test_create_then_get_same_meeting(graph: Graph, emu: Any) -> None:
    body = {
        "externalId": "ext-1",
        "subject": "Weekly sync",
        "startDateTime": "2030-01-02T10:00:00Z",
        "endDateTime": "2030-01-02T11:30:00Z",
    }
    first = graph("POST", ADELE, json=body)
    assert first.status_code == 201
    second = graph("POST", ADELE, json=body)
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["joinWebUrl"] == second.json()["joinWebUrl"]
    assert emu.stats()["by_route"]["createOrGet"] == {"201": 1, "200": 1}
    [stored] = emu.meetings()
    assert (stored["tenant_id"], stored["user_id"], stored["external_id"]) == (emu.tenant_id, ORGANIZER_ID, "ext-1")


def test_response_fields_look_like_graph(graph: Graph, emu: Any) -> None:
    attendee = {"identity": {"user": {"id": ALEX_ID}}, "upn": "alexw@contoso.example"}
    response = graph(
        "POST",
        ADELE,
        json={
            "externalId": "fields",
            "subject": "Fields",
            "startDateTime": "2030-05-01T09:00:00.1234567+02:00",
            "endDateTime": "2030-05-01T10:00:00+02:00",
            "participants": {"attendees": [attendee]},
        },
    )
    meeting = response.json()
    assert response.headers["Content-Type"].startswith("application/json")
    assert meeting["@odata.context"].endswith(f"users('{ORGANIZER_ID}')/onlineMeetings/$entity")
    assert len(meeting["id"]) > 60
    assert meeting["startDateTime"] == "2030-05-01T07:00:00.1234567Z"
    assert meeting["endDateTime"] == "2030-05-01T08:00:00.0000000Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", meeting["creationDateTime"])
    assert re.match(
        r"https://teams\.microsoft\.com/l/meetup-join/19%3ameeting_[^/]+%40thread\.v2/0\?context=",
        meeting["joinWebUrl"],
    )
    assert meeting["joinUrl"] == meeting["joinWebUrl"]
    assert meeting["subject"] == "Fields" and meeting["externalId"] == "fields"
    organizer = meeting["participants"]["organizer"]
    assert organizer["identity"]["user"] == {
        **organizer["identity"]["user"],
        "id": ORGANIZER_ID,
        "displayName": "Adele Vance",
    }
    assert organizer["upn"] == "adelev@contoso.example" and organizer["role"] == "presenter"
    [sent] = meeting["participants"]["attendees"]
    # Graph answers "role": null for an attendee sent without one (createOrGet page, Response)
    assert sent["identity"]["user"]["id"] == ALEX_ID and sent["role"] is None
    chat = meeting["chatInfo"]
    assert chat["threadId"].startswith("19:meeting_") and chat["threadId"].endswith("@thread.v2")
    assert chat["messageId"] == "0" and chat["replyChainMessageId"] is None
    settings = meeting["joinMeetingIdSettings"]
    assert settings["joinMeetingId"].isdigit() and settings["passcode"] and settings["isPasscodeRequired"]
    for key in (
        "audioConferencing",
        "lobbyBypassSettings",
        "allowedPresenters",
        "isEntryExitAnnounced",
        "videoTeleconferenceId",
    ):
        assert key in meeting


def test_chat_info_as_sent_on_beta(graph: Graph) -> None:
    chat = {"threadId": "19:meeting_custom@thread.v2", "messageId": "0", "replyChainMessageId": "12"}
    meeting = graph("POST", ADELE, json={"externalId": "chat", "chatInfo": chat}, version="beta").json()
    assert meeting["chatInfo"] == chat


def test_chat_info_is_not_stored_on_v1(graph: Graph, emu: Any) -> None:
    chat = {"threadId": "19:meeting_custom@thread.v2", "messageId": "7", "replyChainMessageId": "12"}
    response = graph("POST", ADELE, json={"externalId": "chat-v1", "chatInfo": chat})
    assert response.status_code == 201
    assert response.json()["chatInfo"]["threadId"] != chat["threadId"]  # generated, not echoed
    assert emu.meetings()[0]["meeting"]["chatInfo"]["messageId"] == "0"


def test_two_users_same_external_id_are_two_meetings(graph: Graph, emu: Any) -> None:
    a = graph("POST", ADELE, json={"externalId": "shared"})
    b = graph("POST", create_path(MEGAN_ID), json={"externalId": "shared"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert len(emu.meetings()) == 2


@pytest.mark.parametrize("upn", ["adelev@contoso.example", "AdeleV@contoso.example", "adelev%40contoso.example"])
def test_upn_in_the_path_is_not_found(graph: Graph, emu: Any, upn: str) -> None:
    # {userId} is the object id; callers who passed a UPN have reported 404s (docs/emulator.md).
    assert_graph_error(graph("POST", create_path(upn), json={"externalId": "upn"}), 404, "NotFound")
    assert emu.meetings() == []
    assert graph("POST", ADELE, json={"externalId": "upn"}).status_code == 201


def test_existing_meeting_is_not_updated(graph: Graph) -> None:
    graph("POST", ADELE, json={"externalId": "keep", "subject": "Old", "startDateTime": "2030-01-01T10:00:00Z"})
    again = graph("POST", ADELE, json={"externalId": "keep", "subject": "New", "startDateTime": "2031-01-01T10:00:00Z"})
    assert again.status_code == 200
    assert again.json()["subject"] == "Old"
    assert again.json()["startDateTime"] == "2030-01-01T10:00:00.0000000Z"


def test_default_times(graph: Graph) -> None:
    before = datetime.datetime.now(datetime.timezone.utc)
    meeting = graph("POST", ADELE, json={"externalId": "now"}).json()
    after = datetime.datetime.now(datetime.timezone.utc)
    start, end = parse_graph_time(meeting["startDateTime"]), parse_graph_time(meeting["endDateTime"])
    assert before - datetime.timedelta(seconds=1) <= start <= after
    assert end - start == datetime.timedelta(hours=1)


def test_start_only_gets_one_hour(graph: Graph) -> None:
    meeting = graph("POST", ADELE, json={"externalId": "s", "startDateTime": "2030-03-04T05:06:07-05:00"}).json()
    assert meeting["startDateTime"] == "2030-03-04T10:06:07.0000000Z"
    assert meeting["endDateTime"] == "2030-03-04T11:06:07.0000000Z"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-external-id"),
        pytest.param({"externalId": ""}, id="empty-external-id"),
        pytest.param({"externalId": 5}, id="numeric-external-id"),
        pytest.param({"externalId": "x", "endDateTime": "2030-01-01T10:00:00Z"}, id="end-without-start"),
        pytest.param(
            {"externalId": "x", "startDateTime": "2030-01-01T10:00:00Z", "endDateTime": "2030-01-01T09:00:00Z"},
            id="end-before-start",
        ),
        pytest.param({"externalId": "x", "startDateTime": "tomorrow"}, id="bad-datetime"),
        pytest.param([1, 2], id="not-an-object"),
    ],
)
def test_validation_errors(graph: Graph, emu: Any, body: Any) -> None:
    assert_graph_error(graph("POST", ADELE, json=body), 400, "BadRequest")
    assert emu.meetings() == []


def test_invalid_json_body(graph: Graph) -> None:
    response = graph("POST", ADELE, data=b"{not json", headers={"Content-Type": "application/json"})
    assert_graph_error(response, 400, "BadRequest")


def test_no_policy_user_is_forbidden_with_app_token(graph: Graph, emu: Any) -> None:
    response = graph("POST", create_path(NOPOLICY_ID), json={"externalId": "p"})
    assert_graph_error(response, 403, "Forbidden", "No Application Access Policy found for this app.")
    emu.grant_policy("nopolicy@contoso.example")
    assert graph("POST", create_path(NOPOLICY_ID), json={"externalId": "p"}).status_code == 201
    emu.revoke_policy(ORGANIZER_ID)
    assert_graph_error(graph("POST", ADELE, json={"externalId": "p"}), 403, "Forbidden")


def test_unknown_user(graph: Graph) -> None:
    assert_graph_error(graph("POST", create_path(str(uuid.uuid4())), json={"externalId": "u"}), 404, "NotFound")


def test_missing_token(graph: Graph) -> None:
    response = graph("POST", ADELE, token=None, json={"externalId": "t"})
    assert_graph_error(response, 401, "InvalidAuthenticationToken", "Access token is empty.")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_unknown_token(graph: Graph) -> None:
    response = graph("POST", ADELE, token="made-up-token", json={"externalId": "t"})
    assert_graph_error(response, 401, "InvalidAuthenticationToken")
    assert "WWW-Authenticate" in response.headers


def test_expired_token(graph: Graph, emu: Any) -> None:
    assert graph("POST", ADELE, json={"externalId": "e"}).status_code == 201
    assert emu.expire_tokens() >= 1
    response = graph("POST", ADELE, json={"externalId": "e"})
    assert_graph_error(response, 401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_token_expires_by_lifetime() -> None:
    import time

    from emulator_testlib import GRAPH_SCOPE, make_app, make_session

    from meetings_emulator import run_emulator

    # 3 s: on a busy machine (2 cores, the suite on both) the first request has taken over a
    # second after the token was issued, which a 1 s lifetime turned into a 401.
    with run_emulator(token_lifetime=3) as emu:
        issued = time.monotonic()
        token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        session = make_session(emu.ca_path)
        url = f"{emu.url}/v1.0{ADELE}"
        headers = {"Authorization": f"Bearer {token}"}
        assert session.post(url, json={"externalId": "l"}, headers=headers).status_code == 201
        time.sleep(max(0.0, issued + 3.2 - time.monotonic()))
        assert session.post(url, json={"externalId": "l"}, headers=headers).status_code == 401


def test_me_with_app_token_is_bad_request(graph: Graph) -> None:
    response = graph("POST", "/me/onlineMeetings/createOrGet", json={"externalId": "m"})
    assert_graph_error(response, 400, "BadRequest", "/me request is only valid with delegated authentication flow.")


def test_me_with_delegated_token_ignores_policy(graph: Graph, emu: Any, delegated_token: str) -> None:
    emu.revoke_policy(ORGANIZER_ID)
    me = graph("POST", "/me/onlineMeetings/createOrGet", token=delegated_token, json={"externalId": "me"})
    assert me.status_code == 201
    same = graph("POST", ADELE, token=delegated_token, json={"externalId": "me"})
    assert same.status_code == 200 and same.json()["id"] == me.json()["id"]
    other = graph("POST", create_path(ALEX_ID), token=delegated_token, json={"externalId": "me"})
    assert_graph_error(other, 403, "Forbidden")


def test_client_request_id_is_echoed(graph: Graph) -> None:
    crid = str(uuid.uuid4())
    ok = graph("POST", ADELE, json={"externalId": "c"}, headers={"client-request-id": crid})
    assert ok.headers["client-request-id"] == crid and ok.headers["request-id"]
    error = graph("POST", ADELE, json={}, headers={"client-request-id": crid})
    assert error.json()["error"]["innerError"]["client-request-id"] == crid


def test_get_by_id_and_by_join_web_url(graph: Graph, delegated_token: str) -> None:
    meeting = graph("POST", ADELE, json={"externalId": "g"}).json()
    by_id = graph("GET", f"/users/{ORGANIZER_ID}/onlineMeetings/{meeting['id']}")
    assert by_id.status_code == 200 and by_id.json()["externalId"] == "g"
    url_filter = f"joinWebUrl eq '{meeting['joinWebUrl']}'"
    listed = graph("GET", f"/users/{ORGANIZER_ID}/onlineMeetings", params={"$filter": url_filter})
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["value"]] == [meeting["id"]]
    me_listed = graph("GET", "/me/onlineMeetings", token=delegated_token, params={"$filter": url_filter})
    assert [m["id"] for m in me_listed.json()["value"]] == [meeting["id"]]
    me_by_id = graph("GET", f"/me/onlineMeetings/{quote(meeting['id'])}", token=delegated_token)
    assert me_by_id.json()["id"] == meeting["id"]
    nothing = graph(
        "GET",
        f"/users/{ORGANIZER_ID}/onlineMeetings",
        params={"$filter": "joinWebUrl eq 'https://teams.microsoft.com/l/meetup-join/none'"},
    )
    assert nothing.json()["value"] == []
    assert_graph_error(graph("GET", f"/users/{ALEX_ID}/onlineMeetings/{meeting['id']}"), 404, "NotFound")
    assert_graph_error(graph("GET", f"/users/{ORGANIZER_ID}/onlineMeetings"), 400, "BadRequest")


def test_beta_endpoint(graph: Graph) -> None:
    response = graph("POST", ADELE, json={"externalId": "beta"}, version="beta")
    assert response.status_code == 201
    assert "/beta/$metadata" in response.json()["@odata.context"]


def test_unknown_graph_route(graph: Graph) -> None:
    assert_graph_error(graph("GET", "/users/x/messages"), 400, "BadRequest")


def test_keep_alive_reuses_the_connection(graph: Graph, emu: Any) -> None:
    for _ in range(5):
        assert graph("POST", ADELE, json={"externalId": "k"}).status_code in (200, 201)
    # the app_token fixture used another session; the five calls share one connection
    assert emu.stats()["connections"] == 2
