"""Where the emulator once invented an answer, it now gives the documented one (issue 20, item 10).

Each test names the Microsoft page it follows; what no page documents is listed under
"Graph messages and assumptions" in docs/emulator.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from emulator_testlib import create_path

from meetings_emulator.config import ALEX_ID, MEGAN_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
ADELE = create_path(ORGANIZER_ID)
MEETINGS = f"/users/{ORGANIZER_ID}/onlineMeetings"
#: Not a Graph query option: "query parameters specified in a request might fail silently.
#: This can be true for unsupported query parameters" (https://learn.microsoft.com/graph/query-parameters,
#: "Error handling for query parameters").
UNKNOWN = {"not-a-graph-option": "1", "trace": "x"}


def test_unknown_query_parameters_are_ignored(graph: Graph, emu: Any) -> None:
    created = graph("POST", ADELE, json={"externalId": "q"}, params=UNKNOWN)
    assert created.status_code == 201
    meeting = created.json()
    assert graph("GET", f"{MEETINGS}/{meeting['id']}", params=UNKNOWN).json()["id"] == meeting["id"]
    listed = graph("GET", MEETINGS, params={**UNKNOWN, "$filter": f"joinWebUrl eq '{meeting['joinWebUrl']}'"})
    assert [m["id"] for m in listed.json()["value"]] == [meeting["id"]]
    patched = graph("PATCH", f"{MEETINGS}/{meeting['id']}", json={"subject": "S"}, params=UNKNOWN)
    assert patched.status_code == 200 and patched.json()["subject"] == "S"
    user = graph("GET", f"/users/{ALEX_ID}", params={**UNKNOWN, "$select": "id"})
    assert user.status_code == 200 and user.json()["id"] == ALEX_ID
    assert graph("DELETE", f"{MEETINGS}/{meeting['id']}", params=UNKNOWN).status_code == 204
    assert emu.stats()["by_route"].get("other") is None


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_attendee_role_is_null_unless_sent(graph: Graph, version: str) -> None:
    # Microsoft's createOrGet example answers "role": null for an attendee sent without one
    # and "presenter" for the organizer (https://learn.microsoft.com/graph/api/onlinemeeting-createorget)
    attendees = [
        {"upn": "alexw@contoso.example", "identity": {"user": {"id": ALEX_ID}}},
        {"upn": "meganb@contoso.example", "identity": {"user": {"id": MEGAN_ID}}, "role": "presenter"},
    ]
    body = {"externalId": "roles", "participants": {"attendees": attendees}}
    meeting = graph("POST", ADELE, json=body, version=version).json()
    participants = meeting["participants"]
    assert participants["organizer"]["role"] == "presenter"
    assert [(a["upn"], a["role"]) for a in participants["attendees"]] == [
        ("alexw@contoso.example", None),
        ("meganb@contoso.example", "presenter"),
    ]
    # the stored meeting answers the same to a later createOrGet, and a PATCH keeps the rule
    again = graph("POST", ADELE, json=body, version=version).json()
    assert again["participants"]["attendees"] == participants["attendees"]
    patch = {"participants": {"attendees": list(reversed(attendees))}}
    updated = graph("PATCH", f"{MEETINGS}/{meeting['id']}", json=patch, version=version).json()
    assert [a["role"] for a in updated["participants"]["attendees"]] == ["presenter", None]


def test_equal_start_and_end_are_accepted(graph: Graph) -> None:
    # The createOrGet page names two errors: an end without a start, and an end earlier than the
    # start. An end equal to the start is neither (accepting it is an assumption, docs/emulator.md).
    same = "2030-01-01T10:00:00Z"
    response = graph("POST", ADELE, json={"externalId": "eq", "startDateTime": same, "endDateTime": same})
    assert response.status_code == 201
    assert response.json()["startDateTime"] == response.json()["endDateTime"] == "2030-01-01T10:00:00.0000000Z"


def test_a_retry_after_a_lost_201_gets_200_and_the_same_meeting(graph: Graph, emu: Any) -> None:
    # createOrGet: "201 Created [...] if a new meeting is created, or a 200 OK [...] if an existing
    # meeting is retrieved". The first attempt created the meeting, its answer was lost (a 504
    # after processing, the emulator's model of a lost answer): the retry finds it, so a client
    # reports it as existing (created=False) although its own attempt created it.
    emu.script(504, when="after")
    assert graph("POST", ADELE, json={"externalId": "lost"}).status_code == 504
    [stored] = emu.meetings()
    retry = graph("POST", ADELE, json={"externalId": "lost"})
    assert retry.status_code == 200
    assert retry.json()["id"] == stored["meeting"]["id"]
    assert emu.stats()["meetings_created"] == 1
    assert emu.stats()["by_route"]["createOrGet"] == {"504": 1, "200": 1}
