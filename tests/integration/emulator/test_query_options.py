"""Query options as every route reads them (``meetings_emulator/odata.py``, one reader for all).

Each route used to parse its own: ``$top`` was a whole number on one route and anything
``int()`` takes on another, a repeated option was the first value on three routes and joined
on the fourth, a name encoded twice (``%2524top``) was read on three routes and ignored on one
(now ignored on every route, as Graph ignores a parameter it does not know).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from artifact_testlib import attendees, calendar_meeting, meeting_path
from emulator_testlib import assert_graph_error

from meetings_emulator.config import ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
EVENTS = f"/users/{ORGANIZER_ID}/events"


def _events(graph: Graph, n: int) -> None:
    for i in range(n):
        body = {
            "subject": f"Query {i}",
            "start": {"dateTime": "2030-03-05T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-03-05T10:00:00", "timeZone": "UTC"},
        }
        assert graph("POST", EVENTS, json=body).status_code == 201


@pytest.mark.parametrize("route", ["events", "attendanceRecords"])
@pytest.mark.parametrize("top", ["%205", "5%20", "%2B5", "5.0", "-1", "0"])
def test_top_is_a_whole_number_on_every_route(graph: Graph, emu: Any, route: str, top: str) -> None:
    # OData's $top is 1*DIGIT; the events list used to take " 5" and "+5" (int()), the
    # attendance records refused them.
    if route == "events":
        _events(graph, 1)
        path = EVENTS
    else:
        held = emu.hold_meeting(calendar_meeting(graph, ORGANIZER_ID), attendees=attendees(2))
        report = f"{meeting_path(ORGANIZER_ID, held['meetingId'])}/attendanceReports/{held['reportId']}"
        path = f"{report}/attendanceRecords"
        assert graph("GET", f"{path}?$top=1").status_code == 200  # the route reads $top
    response = graph("GET", f"{path}?$top={top}")
    assert_graph_error(response, 400, "BadRequest")
    assert "for $top query option" in response.json()["error"]["message"]


def test_a_system_query_option_given_twice_is_refused_on_every_route(graph: Graph, emu: Any) -> None:
    message = "Query option '{}' was specified more than once, but it must be specified at most once."
    _events(graph, 2)
    held = emu.hold_meeting(calendar_meeting(graph, ORGANIZER_ID), attendees=attendees(2))
    report = f"{meeting_path(ORGANIZER_ID, held['meetingId'])}/attendanceReports/{held['reportId']}"
    for path, option in (
        (f"{EVENTS}?$top=1&$top=2", "$top"),
        (f"/users/{ORGANIZER_ID}?$select=id&$select=displayName", "$select"),
        (f"{report}?$expand=attendanceRecords&$expand=attendanceRecords", "$expand"),
    ):
        assert_graph_error(graph("GET", path), 400, "BadRequest", message.format(option))


def test_a_name_encoded_once_is_read_and_one_encoded_twice_is_ignored(graph: Graph) -> None:
    _events(graph, 3)
    page = graph("GET", f"{EVENTS}?%24top=2").json()
    assert len(page["value"]) == 2 and "@odata.nextLink" in page
    assert set(graph("GET", f"/users/{ORGANIZER_ID}?%24select=id").json()) == {"@odata.context", "id"}
    page = graph("GET", f"{EVENTS}?%2524top=2").json()  # "%24top": no option of this route
    assert len(page["value"]) == 3 and "@odata.nextLink" not in page
    assert "displayName" in graph("GET", f"/users/{ORGANIZER_ID}?%2524select=id").json()
