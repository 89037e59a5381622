"""Lookup by ``joinWebUrl``: Graph matches the organizer in the join URL's context.

A Teams join URL carries ``context={"Tid": ..., "Oid": ...}``; Graph answers the lookup
``GET .../onlineMeetings?$filter=JoinWebUrl eq '...'`` only for the organizer it names
(microsoftgraph/microsoft-graph-docs#10770: 404 "Organizer Id mismatch User Id";
microsoftgraph/microsoft-graph-docs-contrib#436: not for attendees). The emulator does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from emulator_testlib import assert_graph_error, create_path

from meetings_emulator.config import ALEX_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
NOBODY = "00000000-0000-0000-0000-000000000000"


def join_url(tenant_id: str, organizer_id: str) -> str:
    """A join URL of a meeting nobody has, organized by ``organizer_id``."""
    return (
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_bm9uZQ%40thread.v2/0?context="
        f"%7b%22Tid%22%3a%22{tenant_id}%22%2c%22Oid%22%3a%22{organizer_id}%22%7d"
    )


def by_join_url(graph: Graph, owner: str, url: str, **kwargs: Any) -> Any:
    return graph("GET", f"/{owner}/onlineMeetings", params={"$filter": f"JoinWebUrl eq '{url}'"}, **kwargs)


def test_the_organizer_finds_their_meeting_and_another_user_gets_404(graph: Graph) -> None:
    meeting = graph("POST", create_path(ORGANIZER_ID), json={"externalId": "j"}).json()

    found = by_join_url(graph, f"users/{ORGANIZER_ID}", meeting["joinWebUrl"])
    other = by_join_url(graph, f"users/{ALEX_ID}", meeting["joinWebUrl"])

    assert [m["id"] for m in found.json()["value"]] == [meeting["id"]]
    assert_graph_error(other, 404, "NotFound", f"Organizer Id mismatch User Id: {ALEX_ID}.")


def test_a_join_url_naming_the_caller_matches_nothing_but_answers_200(graph: Graph, emu: Any) -> None:
    answer = by_join_url(graph, f"users/{ORGANIZER_ID}", join_url(emu.tenant_id, ORGANIZER_ID.upper()))

    assert answer.status_code == 200 and answer.json()["value"] == []


def test_the_signed_in_user_must_be_the_join_urls_organizer(graph: Graph, emu: Any, delegated_token: str) -> None:
    # The delegated token's user is the seeded organizer; an all-zero Oid names nobody.
    mine = by_join_url(graph, "me", join_url(emu.tenant_id, ORGANIZER_ID), token=delegated_token)
    nobody = by_join_url(graph, "me", join_url(emu.tenant_id, NOBODY), token=delegated_token)

    assert mine.status_code == 200 and mine.json()["value"] == []
    assert_graph_error(nobody, 404, "NotFound", f"Organizer Id mismatch User Id: {ORGANIZER_ID}.")
