"""CalendarEventsApi on a MockTransport: a small in-memory mailbox stands in for Graph."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from mock_graph_testlib import CLIENT_ID, CLIENT_SECRET, TENANT_ID, app_settings, mock_client

from airflow_provider_meetings.events.api import (
    CalendarAccessDeniedError,
    CalendarEventsApi,
    MissingJoinUrlError,
    prepare_calendar_event,
    prepare_calendar_lookup,
)
from airflow_provider_meetings.events.request import EVENTS_RESOURCE, EXTERNAL_ID_PROPERTY, EventSpec
from airflow_provider_meetings.graph.errors import InvalidRequestError, TransportError
from airflow_provider_meetings.graph.mock_transport import (
    MockRequest,
    MockTransport,
    graph_error_answer,
    json_answer,
)
from airflow_provider_meetings.graph.values import request_organizer
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from events.events_testlib import START, interview

_VALUE_RE = re.compile(r"ep/value eq '((?:[^']|'')*)'\)$")


class FakeCalendar:
    """Events of each mailbox, as Graph keeps them (the lookup compares without case)."""

    def __init__(self, *, join_url: bool = True, join_url_on_reread: bool = True) -> None:
        self.events: dict[str, dict] = {}
        self.transactions: dict[str, str] = {}
        self.join_url = join_url
        self.join_url_on_reread = join_url_on_reread
        self.lose_next_post_answer = False
        self.cancelled: list[tuple[str, dict]] = []
        self.patches: list[dict] = []
        self.posted: list[str] = []

    def __call__(self, request: MockRequest):
        parts = [unquote(part) for part in urlsplit(request.url).path.removeprefix("/v1.0/").split("/")]
        if request.method == "GET" and parts[-1] == "events":
            query = parse_qs(urlsplit(request.url).query)
            value = _VALUE_RE.search(query["$filter"][0]).group(1).replace("''", "'")
            hits = [e for e in self.events.values() if e["_key"].lower() == value.lower()]
            return json_answer(200, {"value": [self.public(e, request) for e in hits]})
        if request.method == "POST" and parts[-1] == "events":
            tid = request.json["transactionId"]
            self.posted.append(tid)
            if tid in self.transactions and self.transactions[tid] not in self.events:
                # A transactionId of a cancelled event: Graph's answer is not documented.
                return graph_error_answer(409, "ErrorDuplicateTransactionId")
            if tid in self.transactions:
                answer = json_answer(201, self.public(self.events[self.transactions[tid]], request))
            else:
                event_id = f"AAMk{uuid.uuid4().hex[:8]}/+="
                event = {**request.json, "id": event_id, "iCalUId": "ical-" + event_id, "webLink": "https://o/x"}
                event["_props"] = {p["id"]: p["value"] for p in event.pop("singleValueExtendedProperties")}
                event["_key"] = event["_props"][EXTERNAL_ID_PROPERTY]
                if self.join_url:
                    event["onlineMeeting"] = {"joinUrl": "https://teams.microsoft.com/l/meetup-join/" + event_id}
                self.events[event_id] = event
                self.transactions[tid] = event_id
                answer = json_answer(201, self.public(event, request))
            if self.lose_next_post_answer:
                self.lose_next_post_answer = False
                raise TransportError("read", request.url, "connection dropped after the request was carried out")
            return answer
        if parts[-1] == "cancel":
            event = self.events.pop(parts[-2], None)
            if event is None:
                return graph_error_answer(404, "ErrorItemNotFound")
            self.cancelled.append((parts[-2], request.json))
            return json_answer(202)
        event = self.events.get(parts[-1])
        if event is None:
            return graph_error_answer(404, "ErrorItemNotFound")
        if request.method == "PATCH":
            changes = dict(request.json)
            event["_props"].update({p["id"]: p["value"] for p in changes.pop("singleValueExtendedProperties", [])})
            event.update(changes)
            self.patches.append(request.json)
            return json_answer(200, self.public(event, request))
        if request.method == "GET":
            if self.join_url_on_reread:
                event.setdefault("onlineMeeting", {"joinUrl": "https://teams.microsoft.com/l/meetup-join/late"})
            return json_answer(200, self.public(event, request))
        raise AssertionError(request)

    @staticmethod
    def public(event: dict, request: MockRequest) -> dict:
        """Graph's answer: UTC times; the one extended property ``$expand`` names, if any."""
        answer = {k: v for k, v in event.items() if not k.startswith("_") and k != "transactionId"}
        expand = parse_qs(urlsplit(request.url).query).get("$expand")
        if expand:
            wanted = re.search(r"\(\$filter=id eq '([^']*)'\)$", expand[0]).group(1)
            props = [{"id": k, "value": v} for k, v in event["_props"].items() if k == wanted]
            answer["singleValueExtendedProperties"] = props
        for name in ("start", "end"):
            zone = ZoneInfo("UTC") if event[name]["timeZone"] == "UTC" else ZoneInfo(event[name]["timeZone"])
            local = datetime.fromisoformat(event[name]["dateTime"]).replace(tzinfo=zone)
            utc = local.astimezone(ZoneInfo("UTC"))
            answer[name] = {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
        return answer


def api(handler, **extra):
    transport = MockTransport(handler)
    client = mock_client(transport, app_settings(**extra))
    return CalendarEventsApi(client, delegated=client.settings.delegated), transport


def spec(**kwargs):
    return prepare_calendar_event(interview(**{"attendees": ["cand@example.org"], **kwargs}), app_settings())


def methods(transport):
    return [r.method for r in transport.requests]


def test_two_calls_give_one_event():
    calendar = FakeCalendar()
    events, transport = api(calendar)
    first = events.create_or_get(spec())
    second = events.create_or_get(spec())
    assert (first.status, first.created, second.status, second.created) == ("created", True, "existing", False)
    assert first.event_id == second.event_id and first.join_url == second.join_url
    assert len(calendar.events) == 1
    assert methods(transport) == ["GET", "POST", "GET"]
    post = transport.requests[1]
    assert post.path == "/v1.0/users/hr%40contoso.com/events"
    assert post.json["transactionId"]


def test_a_lost_answer_books_one_event():
    calendar = FakeCalendar()
    calendar.lose_next_post_answer = True
    events, transport = api(calendar)
    result = events.create_or_get(spec())
    assert result.created and len(calendar.events) == 1
    posts = [r for r in transport.requests if r.method == "POST"]
    assert len(posts) == 2 and posts[0].json["transactionId"] == posts[1].json["transactionId"]


def test_case_and_quotes_in_external_ids():
    calendar = FakeCalendar()
    events, _ = api(calendar)
    upper = events.create_or_get(spec(external_id="Course-A"))
    lower = events.create_or_get(spec(external_id="course-a"))
    assert upper.created and lower.created and upper.event_id != lower.event_id
    quoted = events.create_or_get(spec(external_id="O'Brien-1"))
    again = events.create_or_get(spec(external_id="O'Brien-1"))
    assert quoted.created and again.status == "existing" and again.event_id == quoted.event_id


def test_a_move_is_one_patch_and_a_repeat_none():
    calendar = FakeCalendar()
    events, transport = api(calendar)
    events.create_or_get(spec())
    moved = dict(start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1))
    result = events.create_or_get(spec(**moved), update_existing=True)
    assert result.status == "updated" and not result.created
    patch = transport.requests[-1]
    assert patch.method == "PATCH" and set(patch.json) == {"start", "end"}
    assert patch.json["start"] == {"dateTime": "2026-03-03T09:00:00", "timeZone": "Europe/Berlin"}
    before = len(transport.requests)
    repeat = events.create_or_get(spec(**moved), update_existing=True)
    assert repeat.status == "unchanged" and methods(transport)[before:] == ["GET"]


def test_body_is_compared_by_its_hash_and_sent_only_when_changed():
    calendar = FakeCalendar()
    events, transport = api(calendar)
    events.create_or_get(spec(body="<p>Bring an ID</p>"))
    before = len(transport.requests)
    same = events.create_or_get(spec(body="<p>Bring an ID</p>"), update_existing=True)
    assert same.status == "unchanged" and methods(transport)[before:] == ["GET", "GET"]
    assert "$expand=" in transport.requests[-1].url and transport.requests[-1].path.count("/events/") == 1
    changed = events.create_or_get(spec(body="<p>Bring two IDs</p>"), update_existing=True)
    assert changed.status == "updated" and set(calendar.patches[-1]) == {"body", "singleValueExtendedProperties"}
    again = events.create_or_get(spec(body="<p>Bring two IDs</p>"), update_existing=True)
    assert again.status == "unchanged"


def test_missing_join_url_is_read_once_more():
    calendar = FakeCalendar(join_url=False)
    events, transport = api(calendar)
    result = events.create_or_get(spec())
    assert result.join_url == "https://teams.microsoft.com/l/meetup-join/late"
    assert methods(transport) == ["GET", "POST", "GET"]


def test_join_url_still_missing_fails_with_advice():
    events, transport = api(FakeCalendar(join_url=False, join_url_on_reread=False))
    with pytest.raises(MissingJoinUrlError, match="allowedOnlineMeetingProviders lacks teamsForBusiness"):
        events.create_or_get(spec())
    assert methods(transport) == ["GET", "POST", "GET"]


def test_cancel_with_comment():
    calendar = FakeCalendar()
    events, transport = api(calendar)
    created = events.create_or_get(spec())
    assert events.cancel(spec(), comment="The role was filled") is True
    cancel = transport.requests[-1]
    assert cancel.method == "POST" and cancel.path.endswith("/cancel")
    assert "%2F%2B%3D" in cancel.url  # the id is one encoded path segment
    assert calendar.cancelled == [(created.event_id, {"comment": "The role was filled"})]
    assert events.cancel(spec()) is False


@pytest.mark.parametrize(
    ("extra", "user_id", "words"),
    [
        ({}, "hr@contoso.com", "application permission Calendars.ReadWrite"),
        ({"refresh_token": "r"}, None, "delegated permission Calendars.ReadWrite"),
        ({"refresh_token": "r"}, "hr@contoso.com", "Calendars.ReadWrite.Shared"),
    ],
)
def test_403_names_the_permission_and_is_not_retried(extra, user_id, words):
    events, transport = api(lambda request: graph_error_answer(403, "ErrorAccessDenied", "Access is denied."), **extra)
    prepared = prepare_calendar_event(
        EventSpec(external_id="x", subject="s", start=START, end=START + timedelta(hours=1), user_id=user_id),
        app_settings(**extra),
    )
    with pytest.raises(CalendarAccessDeniedError, match=words) as info:
        events.create_or_get(prepared)
    assert info.value.status == 403 and info.value.permanent
    assert len(transport.requests) == 1


def test_delegated_events_go_to_me():
    calendar = FakeCalendar()
    events, transport = api(calendar, refresh_token="r")
    prepared = prepare_calendar_event(
        EventSpec(external_id="x", subject="s", start=START, end=START + timedelta(hours=1)),
        app_settings(refresh_token="r"),
    )
    events.create_or_get(prepared)
    assert transport.requests[0].path == "/v1.0/me/events"


def test_app_only_without_organizer_is_refused():
    with pytest.raises(InvalidRequestError, match="user_id"):
        spec(user_id=None)


@pytest.mark.parametrize(
    "prepare",
    [
        lambda user_id: spec(user_id=user_id),
        lambda user_id: prepare_calendar_lookup("interview-1", app_settings(), user_id=user_id),
    ],
    ids=["event", "lookup"],
)
@pytest.mark.parametrize("user_id", [None, ""])
def test_app_only_without_organizer_gets_the_one_message_of_every_resource(prepare, user_id):
    with pytest.raises(InvalidRequestError) as expected:
        request_organizer(None, default_user_id=None, delegated=False, resource=EVENTS_RESOURCE)
    with pytest.raises(InvalidRequestError) as caught:
        prepare(user_id)
    assert str(caught.value) == str(expected.value)
    assert "app-only tokens cannot use /me/events" in str(caught.value)


def test_an_empty_organizer_is_the_connections_default():
    conn = app_settings(default_user_id="hr@contoso.com")
    assert prepare_calendar_lookup("interview-1", conn, user_id="").user_id == "hr@contoso.com"
    assert prepare_calendar_event(interview(user_id=""), conn).user_id == "hr@contoso.com"


def test_result_to_dict():
    events, _ = api(FakeCalendar())
    result = events.create_or_get(spec())
    data = result.to_dict()
    assert data["event_id"] == result.event_id and data["status"] == "created"
    assert data["ical_uid"].startswith("ical-") and data["join_url"].startswith("https://teams")
    assert data["outlook_url"].startswith("https://outlook.office365.com/calendar/item/AAMk")
    assert "/+=" not in data["outlook_url"]


# -- the hook's methods ------------------------------------------------------------------------


@pytest.fixture
def hook(monkeypatch):
    conn = {
        "conn_type": "msgraph_meetings",
        "login": CLIENT_ID,
        "password": CLIENT_SECRET,
        "extra": {"tenant_id": TENANT_ID, "default_user_id": "hr@contoso.com"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS_UNIT", json.dumps(conn))
    hook = OnlineMeetingsHook(conn_id="events_unit")
    calendar = FakeCalendar()
    hook._client = mock_client(MockTransport(calendar), hook.settings)
    return hook, calendar


def test_hook_create_or_get_event_and_cancel(hook):
    hook, calendar = hook
    kwargs = dict(subject="Interview", start=START, end=START + timedelta(hours=1), attendees=["cand@example.org"])
    first = hook.create_or_get_event("interview-1", **kwargs)
    again = hook.create_or_get_event("interview-1", update_existing=True, **kwargs)
    assert (first.status, again.status) == ("created", "unchanged")
    assert first.to_dict()["join_url"] == again.join_url
    assert hook.cancel_event("interview-1", comment="Filled") is True
    assert hook.cancel_event("interview-1") is False
    assert calendar.cancelled[0][1] == {"comment": "Filled"}


def test_hook_refuses_bad_input_before_a_client_exists(monkeypatch):
    conn = {"conn_type": "msgraph_meetings", "login": "c", "password": "p", "extra": {"tenant_id": TENANT_ID}}
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS_UNIT", json.dumps(conn))
    hook = OnlineMeetingsHook(conn_id="events_unit")
    with pytest.raises(InvalidRequestError, match="naive"):
        hook.create_or_get_event(
            "x", subject="s", start=datetime(2026, 1, 1, 9), end=datetime(2026, 1, 1, 10), user_id="hr@contoso.com"
        )
    with pytest.raises(InvalidRequestError, match="user_id"):
        hook.cancel_event("x")  # app-only, no organizer
    assert hook._client is None


def test_a_409_for_a_cancelled_bookings_transaction_id_books_under_the_next_generation():
    calendar = FakeCalendar()
    events, _ = api(calendar)
    prepared = spec()
    first = events.create_or_get(prepared)
    assert events.cancel(prepared, comment="Off") is True
    again = events.create_or_get(prepared)
    assert again.created and again.event_id != first.event_id
    assert events.cancel(prepared) is True
    third = events.create_or_get(prepared)
    assert third.created and len(set(calendar.posted)) == 3  # generations 0, 1, 2
    assert calendar.posted[0] == prepared.transaction_id and len(calendar.posted) == 6  # 0 | 0, 1 | 0, 1, 2
