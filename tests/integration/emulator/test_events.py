"""Graph calendar events (Outlook) with a Teams link, over real HTTPS (issue 22, emulator side)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests
from emulator_testlib import GRAPH_SCOPE, assert_graph_error, make_app, make_session, side_by_side

from meetings_emulator.config import ALEX_ID, NOPOLICY_ID, ORGANIZER_ID
from meetings_emulator.runtime import run_emulator

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
EVENTS = f"/users/{ORGANIZER_ID}/events"
PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ExternalId"


def event_body(external_id: str = "ext-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "subject": "Interview: Dana Scully",
        "start": {"dateTime": "2030-03-05T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-03-05T10:00:00", "timeZone": "Europe/Berlin"},
        "attendees": [
            {"emailAddress": {"address": "alexw@contoso.example", "name": "Alex Wilber"}, "type": "required"},
            {"emailAddress": {"address": "room1@contoso.example"}, "type": "resource"},
        ],
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "singleValueExtendedProperties": [{"id": PROPERTY, "value": external_id}],
    }
    body.update(overrides)
    return body


def find(graph: Graph, value: str, property_id: str = PROPERTY, **kwargs: Any) -> Any:
    quoted = value.replace("'", "''")
    odata_filter = f"singleValueExtendedProperties/Any(ep: ep/id eq '{property_id}' and ep/value eq '{quoted}')"
    expand = f"singleValueExtendedProperties($filter=id eq '{PROPERTY}')"
    return graph("GET", EVENTS, params={"$filter": odata_filter, "$expand": expand}, **kwargs)


def test_create_answers_201_with_the_documented_fields(graph: Graph, emu: Any) -> None:
    response = graph("POST", EVENTS, json=event_body())
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["@odata.context"].endswith(f"users('{ORGANIZER_ID}')/events/$entity")
    assert event["id"] and event["iCalUId"] and event["webLink"].startswith("https://outlook.office365.com/")
    # Answers are in UTC without Prefer: outlook.timezone (user-post-events)
    assert event["start"] == {"dateTime": "2030-03-05T08:00:00.0000000", "timeZone": "UTC"}
    assert event["end"] == {"dateTime": "2030-03-05T09:00:00.0000000", "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == "Europe/Berlin"
    assert event["type"] == "singleInstance" and event["recurrence"] is None
    assert event["isOnlineMeeting"] is True and event["onlineMeetingProvider"] == "teamsForBusiness"
    join_url = event["onlineMeeting"]["joinUrl"]
    assert join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert ORGANIZER_ID in join_url  # the organizer's Oid in the context, as createOrGet builds it
    assert event["body"]["contentType"] == "html" and join_url.replace("&", "&amp;") in event["body"]["content"]
    assert [a["status"] for a in event["attendees"]] == [{"response": "none", "time": "0001-01-01T00:00:00Z"}] * 2
    assert [a["type"] for a in event["attendees"]] == ["required", "resource"]
    assert event["organizer"]["emailAddress"]["address"] == "adelev@contoso.example"
    assert "singleValueExtendedProperties" not in event  # only with $expand
    [stored] = emu.events()
    assert stored["state"] == "active" and stored["event"]["singleValueExtendedProperties"][0]["value"] == "ext-1"
    assert emu.stats()["events_created"] == 1 and emu.stats()["by_route"]["createEvent"] == {"201": 1}


def test_the_meeting_behind_the_event_is_found_by_its_join_url(graph: Graph) -> None:
    join_url = graph("POST", EVENTS, json=event_body()).json()["onlineMeeting"]["joinUrl"]
    found = graph("GET", f"/users/{ORGANIZER_ID}/onlineMeetings", params={"$filter": f"JoinWebUrl eq '{join_url}'"})
    assert found.status_code == 200
    [meeting] = found.json()["value"]
    assert meeting["joinWebUrl"] == join_url and meeting["subject"] == "Interview: Dana Scully"


def test_prefer_outlook_timezone_answers_in_that_zone(graph: Graph) -> None:
    headers = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
    event = graph("POST", EVENTS, json=event_body(), headers=headers).json()
    assert event["start"] == {"dateTime": "2030-03-05T00:00:00.0000000", "timeZone": "Pacific Standard Time"}


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "UTC"]
)
def test_listed_iana_and_windows_zones_are_accepted(graph: Graph, zone: str) -> None:
    start = {"dateTime": "2030-03-05T09:00:00", "timeZone": zone}
    end = {"dateTime": "2030-03-05T10:00:00", "timeZone": zone}
    assert graph("POST", EVENTS, json=event_body(start=start, end=end)).status_code == 201
    # a Windows zone name for the end: "W. Europe Standard Time" is Europe/Berlin
    windows = {"dateTime": "2030-03-06T10:00:00", "timeZone": "W. Europe Standard Time"}
    assert graph("POST", EVENTS, json=event_body(start=start, end=windows)).status_code == 201


@pytest.mark.parametrize("zone", ["Europe/Zurich", "America/Toronto", "CET"])
def test_unlisted_zones_are_refused(graph: Graph, emu: Any, zone: str) -> None:
    body = event_body(start={"dateTime": "2030-03-05T09:00:00", "timeZone": zone})
    response = graph("POST", EVENTS, json=body)
    assert_graph_error(response, 400, "TimeZoneNotSupportedException")
    assert zone in response.json()["error"]["message"]
    assert emu.events() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": {"dateTime": "2030-03-05T09:00:00Z", "timeZone": "UTC"}}, "without offset"),
        ({"end": {"dateTime": "2030-03-05T08:00:00", "timeZone": "Europe/Berlin"}}, "before its start"),
        ({"attendees": [{"emailAddress": {"address": "a@b.example"}, "type": "chair"}]}, "attendees.type"),
        ({"attendees": [{"emailAddress": {"name": "No address"}}]}, "emailAddress.address"),
        ({"singleValueExtendedProperties": [{"id": "ExternalId", "value": "x"}]}, "singleValueExtendedProperties"),
    ],
)
def test_invalid_bodies_are_refused(graph: Graph, change: dict[str, Any], message: str) -> None:
    response = graph("POST", EVENTS, json=event_body(**change))
    assert_graph_error(response, 400, "BadRequest")
    assert message in response.json()["error"]["message"]


def test_unknown_properties_are_refused_as_for_meetings(graph: Graph) -> None:
    response = graph("POST", EVENTS, json=event_body(externalId="x"))
    assert_graph_error(response, 400, "BadRequest")
    assert "'externalId' does not exist on type 'microsoft.graph.event'" in response.json()["error"]["message"]


def test_a_repeated_transaction_id_books_nothing_twice(graph: Graph, emu: Any) -> None:
    body = event_body(transactionId="7E163156-7762-4BEB-A1C6-729EA81755A7")
    first = graph("POST", EVENTS, json=body)
    second = graph("POST", EVENTS, json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert len(emu.events()) == 1
    stats = emu.stats()
    assert (stats["event_posts"], stats["events_created"]) == (2, 1)
    # another mailbox does not share the transactionId
    other = graph("POST", f"/users/{ALEX_ID}/events", json=body)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_a_post_whose_answer_is_lost_books_the_event(graph: Graph, emu: Any) -> None:
    emu.script("drop", when="after", match="POST /users/[^/]+/events$")
    body = event_body(transactionId="tx-lost")
    with pytest.raises(requests.ConnectionError):
        graph("POST", EVENTS, json=body)
    assert len(emu.events()) == 1  # carried out, then the connection dropped
    again = graph("POST", EVENTS, json=body)
    assert again.status_code == 201 and again.json()["id"] == emu.events()[0]["event"]["id"]
    assert len(emu.events()) == 1


def test_filter_by_extended_property_value_ignores_case_and_quotes_are_doubled(graph: Graph) -> None:
    created = graph("POST", EVENTS, json=event_body("O'Brien-1")).json()
    graph("POST", EVENTS, json=event_body("other"))
    response = find(graph, "o'brien-1")
    assert response.status_code == 200
    [found] = response.json()["value"]
    assert found["id"] == created["id"]
    assert found["singleValueExtendedProperties"] == [{"id": PROPERTY, "value": "O'Brien-1"}]
    # the Name in the property id is compared with case
    assert find(graph, "O'Brien-1", PROPERTY.replace("ExternalId", "externalid")).json()["value"] == []
    # an undoubled quote ends the literal: the filter is refused, not misread
    broken = "singleValueExtendedProperties/Any(ep: ep/id eq '" + PROPERTY + "' and ep/value eq 'O'Brien-1')"
    assert_graph_error(graph("GET", EVENTS, params={"$filter": broken}), 400, "BadRequest")


def test_get_by_id_and_paging(graph: Graph, emu: Any) -> None:
    ids = [graph("POST", EVENTS, json=event_body(f"page-{i}")).json()["id"] for i in range(12)]
    got = graph("GET", f"{EVENTS}/{quote(ids[0], safe='')}")
    assert got.status_code == 200 and got.json()["id"] == ids[0]
    first = graph("GET", EVENTS).json()
    assert [e["id"] for e in first["value"]] == ids[:10]
    second = graph("GET", first["@odata.nextLink"].removeprefix(f"{emu.url}/v1.0")).json()
    assert [e["id"] for e in second["value"]] == ids[10:] and "@odata.nextLink" not in second


def test_weekly_series_in_europe_berlin(graph: Graph) -> None:
    recurrence = {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
        "range": {"type": "numbered", "startDate": "2030-03-05", "numberOfOccurrences": 10},
    }
    response = graph("POST", EVENTS, json=event_body(recurrence=recurrence))
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["type"] == "seriesMaster"
    assert event["recurrence"]["pattern"] == {
        "type": "weekly",
        "interval": 1,
        "month": 0,
        "dayOfMonth": 0,
        "daysOfWeek": ["tuesday"],
        "firstDayOfWeek": "sunday",
        "index": "first",
    }
    assert event["recurrence"]["range"]["recurrenceTimeZone"] == "Europe/Berlin"
    wrong = {**recurrence, "range": {**recurrence["range"], "startDate": "2030-03-04"}}
    assert_graph_error(graph("POST", EVENTS, json=event_body(recurrence=wrong)), 400, "BadRequest")
    bad_type = {**recurrence, "pattern": {"type": "hourly", "interval": 1}}
    assert_graph_error(graph("POST", EVENTS, json=event_body(recurrence=bad_type)), 400, "BadRequest")


def test_patch_moves_the_event(graph: Graph, emu: Any) -> None:
    event = graph("POST", EVENTS, json=event_body()).json()
    move = {
        "start": {"dateTime": "2030-03-06T14:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-03-06T15:00:00", "timeZone": "Europe/Berlin"},
    }
    response = graph("PATCH", f"{EVENTS}/{event['id']}", json=move)
    assert response.status_code == 200
    moved = response.json()
    assert moved["start"]["dateTime"] == "2030-03-06T13:00:00.0000000"
    assert moved["onlineMeeting"]["joinUrl"] == event["onlineMeeting"]["joinUrl"]
    assert emu.stats()["events_updated"] == 1
    refused = graph("PATCH", f"{EVENTS}/{event['id']}", json={"transactionId": "new"})
    assert_graph_error(refused, 400, "BadRequest")


def test_patch_of_a_body_without_the_teams_block_drops_the_link(graph: Graph) -> None:
    event = graph("POST", EVENTS, json=event_body()).json()
    body = {"body": {"contentType": "html", "content": "<p>New agenda</p>"}}
    patched = graph("PATCH", f"{EVENTS}/{event['id']}", json=body).json()
    assert patched["onlineMeeting"] is None and patched["isOnlineMeeting"] is False


def test_cancel_with_comment_then_the_event_is_gone(graph: Graph, emu: Any) -> None:
    event = graph("POST", EVENTS, json=event_body("to-cancel")).json()
    response = graph("POST", f"{EVENTS}/{event['id']}/cancel", json={"comment": "Position filled"})
    assert response.status_code == 202 and not response.content
    assert find(graph, "to-cancel").json()["value"] == []
    assert_graph_error(graph("GET", f"{EVENTS}/{event['id']}"), 404, "ErrorItemNotFound")
    [stored] = emu.events()
    assert (stored["state"], stored["cancel_comment"]) == ("cancelled", "Position filled")
    other = graph("POST", EVENTS, json=event_body("other")).json()
    assert graph("POST", f"{EVENTS}/{other['id']}/cancel", json={"Comment": "Moved"}).status_code == 202
    assert emu.stats()["events_cancelled"] == 2


def test_delete_answers_204(graph: Graph, emu: Any) -> None:
    event = graph("POST", EVENTS, json=event_body()).json()
    assert graph("DELETE", f"{EVENTS}/{event['id']}").status_code == 204
    assert_graph_error(graph("DELETE", f"{EVENTS}/{event['id']}"), 404, "ErrorItemNotFound")
    assert emu.events()[0]["state"] == "deleted"


def test_upn_mailbox_and_no_access_policy_needed(graph: Graph) -> None:
    assert graph("POST", "/users/adelev@contoso.example/events", json=event_body()).status_code == 201
    assert graph("POST", f"/users/{NOPOLICY_ID}/events", json=event_body()).status_code == 201


def test_without_calendars_permission_403(graph: Graph, emu: Any) -> None:
    emu.set_app_roles(["OnlineMeetings.ReadWrite.All"])
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    response = graph("POST", EVENTS, json=event_body(), token=token)
    assert_graph_error(response, 403, "ErrorAccessDenied")
    assert emu.events() == []


def test_delegated_me_events(graph: Graph, delegated_token: str) -> None:
    response = graph("POST", "/me/events", json=event_body(), token=delegated_token)
    assert response.status_code == 201
    assert graph("GET", "/me/events", token=delegated_token).json()["value"][0]["id"] == response.json()["id"]
    other = graph("POST", f"/users/{ALEX_ID}/events", json=event_body(), token=delegated_token)
    assert_graph_error(other, 403, "ErrorAccessDenied")
    assert_graph_error(graph("POST", "/me/events", json=event_body()), 400, "BadRequest")


def test_events_in_a_batch(graph: Graph, emu: Any) -> None:
    requests_ = [
        {
            "id": str(i),
            "method": "POST",
            "url": f"/users/{ORGANIZER_ID}/events",
            "headers": {"Content-Type": "application/json"},
            "body": event_body(f"batch-{i}"),
        }
        for i in range(3)
    ]
    response = graph("POST", "/$batch", json={"requests": requests_})
    assert response.status_code == 200
    assert sorted(r["status"] for r in response.json()["responses"]) == [201, 201, 201]
    assert emu.stats()["events_created"] == 3


def test_mailbox_concurrency_limit(graph: Graph, emu: Any) -> None:
    emu.set_mailbox_concurrency(4, retry_after=None)
    emu.set_latency(400)
    statuses: list[int] = []
    bodies: list[Any] = []

    def post(i: int) -> None:
        response = graph("POST", EVENTS, json=event_body(f"c-{i}"), timeout=30)
        statuses.append(response.status_code)
        bodies.append(response)

    started = time.monotonic()
    side_by_side(post, 6)
    assert time.monotonic() - started < 5
    assert sorted(statuses) == [201, 201, 201, 201, 429, 429]
    throttled = next(r for r in bodies if r.status_code == 429)
    error = assert_graph_error(throttled, 429, "ApplicationThrottled")
    assert "MailboxConcurrency" in error["message"] and "Retry-After" not in throttled.headers
    assert emu.stats()["mailbox_peaks"][ORGANIZER_ID.lower()] == 4
    # another mailbox has slots of its own; turning the limit off lets everything through
    emu.set_mailbox_concurrency(None)
    assert graph("POST", EVENTS, json=event_body("after")).status_code == 201


def test_batch_items_count_against_the_mailbox_limit(graph: Graph, emu: Any) -> None:
    emu.set_mailbox_concurrency(4)
    item = {
        "id": "1",
        "method": "POST",
        "url": EVENTS,
        "headers": {"Content-Type": "application/json"},
        "body": event_body("batch-throttled"),
    }
    slots = emu.service.mailboxes  # four requests of the same app in flight on the mailbox
    with slots.slot(emu.client_id, ORGANIZER_ID), slots.slot(emu.client_id, ORGANIZER_ID):
        with slots.slot(emu.client_id, ORGANIZER_ID), slots.slot(emu.client_id, ORGANIZER_ID):
            response = graph("POST", "/$batch", json={"requests": [item]})
            with slots.slot("another-app", ORGANIZER_ID):  # the limit is per app and mailbox
                pass
    assert response.status_code == 424
    [answer] = response.json()["responses"]
    assert answer["status"] == 429 and answer["body"]["error"]["code"] == "ApplicationThrottled"
    assert emu.events() == []
    assert graph("POST", "/$batch", json={"requests": [item]}).status_code == 200


def test_calendar_names_its_online_meeting_providers(graph: Graph, emu: Any) -> None:
    calendar = graph("GET", f"/users/{ORGANIZER_ID}/calendar", params={"$select": "allowedOnlineMeetingProviders"})
    assert calendar.status_code == 200
    assert calendar.json()["allowedOnlineMeetingProviders"] == ["teamsForBusiness"]
    assert set(calendar.json()) == {"@odata.context", "id", "allowedOnlineMeetingProviders"}
    emu.set_online_meeting_providers("adelev@contoso.example", [])
    assert graph("GET", f"/users/{ORGANIZER_ID}/calendar").json()["allowedOnlineMeetingProviders"] == []
    # the event is booked, without a Teams meeting (201, isOnlineMeeting false)
    event = graph("POST", EVENTS, json=event_body()).json()
    assert event["isOnlineMeeting"] is False and event["onlineMeeting"] is None
    emu.reset()
    assert graph("GET", f"/users/{ORGANIZER_ID}/calendar").json()["allowedOnlineMeetingProviders"] == [
        "teamsForBusiness"
    ]


def test_events_survive_a_restart_with_a_state_file(tmp_path: Any) -> None:
    state = str(tmp_path / "state.json")
    with run_emulator(state_file=state) as first:
        token = make_app(first).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        session = make_session(first.ca_path)
        headers = {"Authorization": f"Bearer {token}"}
        body = event_body("kept", transactionId="tx-kept")
        created = session.post(f"{first.url}/v1.0{EVENTS}", json=body, headers=headers, timeout=10).json()
    with run_emulator(state_file=state) as second:
        token = make_app(second).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        session = make_session(second.ca_path)
        headers = {"Authorization": f"Bearer {token}"}
        again = session.post(f"{second.url}/v1.0{EVENTS}", json=body, headers=headers, timeout=10).json()
        assert again["id"] == created["id"]
        assert [e["event"]["id"] for e in second.events()] == [created["id"]]


def test_batched_events_go_at_the_rate_of_four_concurrent_requests(graph: Graph, emu: Any) -> None:
    emu.set_latency(600)
    items = [
        {
            "id": str(i),
            "method": "POST",
            "url": EVENTS,
            "headers": {"Content-Type": "application/json"},
            "body": event_body(f"paced-{i}"),
        }
        for i in range(8)
    ]
    started = time.monotonic()
    response = graph("POST", "/$batch", json={"requests": items}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and len(emu.events()) == 8
    # Two rounds of 4, as 8 unbatched requests 4 at a time take: the envelope's 0.6 s (the
    # first 4 items run within it), then 4 items x 0.15 s; not 0.6 s more for the envelope.
    assert 1.19 < elapsed < 1.65
