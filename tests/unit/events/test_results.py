"""The XCom dicts of calendar-event calls: one shape for a single call and each bulk item."""

from __future__ import annotations

import json

from airflow_provider_meetings.events.results import EventBulkItemResult, EventResult, event_summary
from airflow_provider_meetings.graph.errors import GraphAPIError

EVENT = {
    "id": "AAMk+/=",
    "iCalUId": "ical-1",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMk",
    "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/x"},
    "attendees": [
        {"emailAddress": {"address": "ada@example.org"}, "status": {"response": "accepted"}},
        {"emailAddress": {"address": "bob@example.org"}},
    ],
}
LINK_KEYS = ("event_id", "ical_uid", "web_link", "outlook_url", "join_url")


def test_single_and_bulk_results_say_the_same_of_one_event():
    single = EventResult(EVENT, created=True, status="created", user_id="hr@contoso.com").to_dict()
    item = EventBulkItemResult(0, "e1", "hr@contoso.com", EVENT, status="created").to_dict()
    assert {key: item[key] for key in single} == single
    assert single["outlook_url"] == "https://outlook.office365.com/calendar/item/AAMk%2B%2F%3D"
    assert single["join_url"] == "https://teams.microsoft.com/l/meetup-join/x"
    assert single["responses"] == {"ada@example.org": "accepted", "bob@example.org": "none"}
    assert item["index"] == 0 and item["external_id"] == "e1"
    assert item["error"] is None and item["permanent"] is None


def test_a_failed_bulk_item_has_no_event_fields_and_says_why():
    error = GraphAPIError(403, "ErrorAccessDenied", "Access is denied.")
    item = EventBulkItemResult(3, "e4", None, error=error, attempts=1).to_dict()
    assert all(item[key] is None for key in (*LINK_KEYS, "status", "created", "responses"))
    assert item["error_status"] == 403 and item["error_code"] == "ErrorAccessDenied" and item["permanent"] is True
    json.dumps(item)


def test_a_cancelled_item_has_its_status_and_no_event():
    item = EventBulkItemResult(1, "e2", None, status="cancelled").to_dict()
    assert item["status"] == "cancelled" and item["created"] is False and item["event_id"] is None


def test_summary_of_an_event_without_teams_link_or_attendees():
    summary = event_summary({"id": "x"}, status="existing", created=False, user_id=None)
    assert summary["join_url"] is None and summary["responses"] == {}
