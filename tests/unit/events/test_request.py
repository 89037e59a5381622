"""Validation and bodies of calendar events (events/request.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pendulum
import pytest

from airflow_provider_meetings.events.request import (
    BODY_HASH_PROPERTY,
    EXTERNAL_ID_PROPERTY,
    external_id_of,
    lookup_filter,
    lookup_query,
    prepare_event,
    prepare_lookup,
    transaction_id,
    utc_instant,
)
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import odata_string
from events.events_testlib import START, interview

TENANT = "11111111-2222-3333-4444-555555555555"


def prepare(**kwargs):
    return prepare_event(interview(**kwargs), tenant_id=TENANT)


def test_body_of_a_simple_event():
    prepared = prepare(attendees=["cand@example.org", {"address": "room1@contoso.com", "type": "resource"}])
    body = prepared.create_body()
    assert body["subject"] == "Interview"
    assert body["start"] == {"dateTime": "2026-03-02T09:00:00", "timeZone": "Europe/Berlin"}
    assert body["end"] == {"dateTime": "2026-03-02T10:00:00", "timeZone": "Europe/Berlin"}
    assert body["isOnlineMeeting"] is True
    assert body["onlineMeetingProvider"] == "teamsForBusiness"
    assert body["attendees"] == [
        {"emailAddress": {"address": "cand@example.org"}, "type": "required"},
        {"emailAddress": {"address": "room1@contoso.com"}, "type": "resource"},
    ]
    assert body["singleValueExtendedProperties"] == [{"id": EXTERNAL_ID_PROPERTY, "value": "interview-1"}]
    assert body["transactionId"] == transaction_id(TENANT, "hr@contoso.com", "interview-1")
    assert "body" not in body and "location" not in body and "recurrence" not in body
    assert prepared.base == "users/hr%40contoso.com/events"


def test_delegated_events_go_to_me():
    prepared = prepare(user_id=None)
    assert prepared.base == "me/events"
    assert prepared.transaction_id == transaction_id(TENANT, None, "interview-1")


def test_app_only_events_need_an_organizer():
    with pytest.raises(InvalidRequestError, match="app-only tokens cannot use /me/events"):
        prepare_event(interview(user_id=None), tenant_id=TENANT, delegated=False)
    with pytest.raises(InvalidRequestError, match="app-only tokens cannot use /me/events"):
        prepare_lookup("interview-1", tenant_id=TENANT, user_id="", delegated=False)
    lookup = prepare_lookup(
        "interview-1", tenant_id=TENANT, user_id="", default_user_id="hr@contoso.com", delegated=False
    )
    assert lookup.base == "users/hr%40contoso.com/events"


def test_unlisted_zone_is_sent_as_its_windows_name_with_its_wall_clock_time():
    start = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/Zurich"))
    body = prepare(start=start, end=start + timedelta(minutes=45)).create_body()
    assert body["start"] == {"dateTime": "2026-07-01T09:00:00", "timeZone": "W. Europe Standard Time"}
    assert body["end"]["dateTime"] == "2026-07-01T09:45:00"


def test_pendulum_start_keeps_its_zone():
    start = pendulum.datetime(2026, 11, 2, 14, 30, tz="America/New_York")
    body = prepare(start=start, end=start.add(hours=1)).create_body()
    assert body["start"] == {"dateTime": "2026-11-02T14:30:00", "timeZone": "America/New_York"}


def test_time_zone_overrides_and_converts_strings_with_offsets():
    body = prepare(
        start="2026-03-02T08:00:00Z", end="2026-03-02T09:00:00+00:00", time_zone="Europe/Berlin"
    ).create_body()
    assert body["start"] == {"dateTime": "2026-03-02T09:00:00", "timeZone": "Europe/Berlin"}


def test_fixed_offset_single_event_is_sent_in_utc():
    start = datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=2)))
    body = prepare(start=start, end=start + timedelta(hours=1)).create_body()
    assert body["start"] == {"dateTime": "2026-03-02T08:00:00", "timeZone": "UTC"}


def test_fixed_offset_series_is_refused():
    start = datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=2)))
    with pytest.raises(InvalidRequestError, match="time_zone"):
        prepare(start=start, end=start + timedelta(hours=1), recurrence="FREQ=WEEKLY")


WEEKLY = "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"
PLUS_ONE = timezone(timedelta(hours=1))


def same_instant(start: datetime) -> dict[str, tuple]:
    """One hour from ``start`` as datetimes and as the ISO strings a template renders."""
    end = start + timedelta(hours=1)
    forms = {"datetime": (start, end), "isoformat": (start.isoformat(), end.isoformat())}
    if start.utcoffset() == timedelta(0):
        forms["z"] = tuple(moment.isoformat().replace("+00:00", "Z") for moment in (start, end))
    return forms


@pytest.mark.parametrize(
    ("start", "recurrence", "zone", "wall_clock"),
    [
        pytest.param(datetime(2026, 12, 7, 9, tzinfo=timezone.utc), WEEKLY, "UTC", "09:00", id="utc-series"),
        pytest.param(datetime(2026, 12, 7, 9, tzinfo=timezone.utc), None, "UTC", "09:00", id="utc-single"),
        pytest.param(datetime(2026, 12, 7, 10, tzinfo=PLUS_ONE), None, "UTC", "09:00", id="fixed-offset-single"),
    ],
)
def test_a_string_start_gives_the_body_of_its_datetime(start, recurrence, zone, wall_clock):
    bodies = {
        form: prepare(start=begin, end=end, recurrence=recurrence).create_body()
        for form, (begin, end) in same_instant(start).items()
    }
    expected = bodies.pop("datetime")
    assert expected["start"] == {"dateTime": f"2026-12-07T{wall_clock}:00", "timeZone": zone}
    if recurrence:
        assert expected["recurrence"]["range"]["recurrenceTimeZone"] == zone
    assert bodies and all(body == expected for body in bodies.values())


@pytest.mark.parametrize("form", ["datetime", "isoformat"])
def test_a_fixed_offset_series_is_refused_as_string_and_as_datetime(form):
    begin, end = same_instant(datetime(2026, 12, 7, 10, tzinfo=PLUS_ONE))[form]
    with pytest.raises(InvalidRequestError, match="has a fixed offset, not a zone") as info:
        prepare(start=begin, end=end, recurrence=WEEKLY)
    assert info.value.field == "time_zone"
    body = prepare(start=begin, end=end, recurrence=WEEKLY, time_zone="Europe/Berlin").create_body()
    assert body["start"] == {"dateTime": "2026-12-07T10:00:00", "timeZone": "Europe/Berlin"}


def test_berlin_series_keeps_berlin():
    body = prepare(recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20").create_body()
    assert body["start"]["timeZone"] == "Europe/Berlin"
    assert body["recurrence"]["range"]["startDate"] == "2026-03-02"
    assert body["recurrence"]["range"]["recurrenceTimeZone"] == "Europe/Berlin"


def test_body_location_and_body_hash():
    body = prepare(body="<p>Bring your ID</p>", location="Room 1").create_body()
    assert body["body"] == {"contentType": "html", "content": "<p>Bring your ID</p>"}
    assert body["location"] == {"displayName": "Room 1"}
    assert [p["id"] for p in body["singleValueExtendedProperties"]] == [EXTERNAL_ID_PROPERTY, BODY_HASH_PROPERTY]


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"start": datetime(2026, 3, 2, 9)}, "start", "naive"),
        ({"end": "2026-03-02T10:00:00"}, "end", "no timezone"),
        ({"start": None}, "start", "required"),
        ({"end": START}, "end", "not after"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "not a time zone"),
        ({"external_id": "interview-None"}, "external_id", "None"),
        ({"external_id": ""}, "external_id", "empty"),
        ({"subject": "Interview with None"}, "subject", "None"),
        ({"subject": None}, "subject", "non-empty"),
        ({"user_id": "a/b"}, "user_id", "neither"),
        ({"attendees": "cand@example.org"}, "attendees", "list"),
        ({"attendees": ["None"]}, "attendees[0]", "None"),
        ({"attendees": ["not-an-address"]}, "attendees[0]", "e-mail"),
        ({"attendees": [{"address": "a@b.org", "type": "chair"}]}, "attendees[0].type", "resource"),
        ({"attendees": [{"address": "a@b.org", "role": "x"}]}, "attendees[0]", "unknown"),
        ({"attendees": ["a@b.org", "A@b.org"]}, "attendees[1]", "once"),
        ({"body": 3}, "body", "string"),
        ({"location": 3}, "location", "displayName"),
        ({"recurrence": "FREQ=DAILY;BYHOUR=9"}, "recurrence", "BYHOUR"),
    ],
)
def test_refused_before_any_request(kwargs, field, words):
    with pytest.raises(InvalidRequestError) as info:
        prepare(**kwargs)
    assert info.value.field == field
    assert words in str(info.value)


def test_transaction_id_is_deterministic_and_specific():
    one = transaction_id(TENANT, "HR@contoso.com", "x-1")
    assert one == transaction_id(TENANT.upper(), "hr@contoso.com", "x-1")
    assert one != transaction_id(TENANT, "hr@contoso.com", "X-1")  # ids keep their case
    assert one != transaction_id(TENANT, "it@contoso.com", "x-1")
    assert one != transaction_id("99999999-2222-3333-4444-555555555555", "hr@contoso.com", "x-1")


@pytest.mark.parametrize(
    ("organizer", "expected"),
    [
        (None, "26a1b8ef-3d35-5a53-a9be-35e85fc48c93"),
        ("", "26a1b8ef-3d35-5a53-a9be-35e85fc48c93"),
        ("6F0D3A52-9C1E-4B7A-8E25-3D4A1F6C9B80", "fde5e0d5-73a1-5d9e-b140-edf636f626c9"),
        ("HR@Contoso.com", "6a8d2a4c-65ff-5322-9dde-e2d4d2f84ab4"),
        ("hr@contoso.com", "6a8d2a4c-65ff-5322-9dde-e2d4d2f84ab4"),
        ("jane_example.org#EXT#@contoso.onmicrosoft.com", "bb6eddd5-2941-5a53-a364-71c55abc850d"),
    ],
)
def test_transaction_id_keeps_its_exact_value(organizer, expected):
    """Pinned: events booked earlier are found again only under the same ``transactionId``."""
    assert transaction_id(TENANT, organizer, "interview-1") == expected


def test_odata_quoting():
    assert odata_string("O'Brien-1") == "'O''Brien-1'"
    assert "ep/value eq 'O''Brien-1')" in lookup_filter("O'Brien-1")


@pytest.mark.parametrize("external_id", ["O'Brien-1", "a&$top=1", "x#y", "a b' or 'x' eq 'x"])
def test_nothing_in_an_id_changes_the_query(external_id):
    query = lookup_query(external_id)
    assert query.count("&") == 1 and "#" not in query and " " not in query and "'" not in query
    assert unquote(query.split("&")[0].removeprefix("$filter=")) == lookup_filter(external_id)


def test_external_id_of_compares_the_property_id_without_case():
    event = {"singleValueExtendedProperties": [{"id": EXTERNAL_ID_PROPERTY.upper(), "value": "Course-A"}]}
    assert external_id_of(event) == "Course-A"
    assert external_id_of({}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"dateTime": "2026-03-02T08:00:00.0000000", "timeZone": "UTC"}, datetime(2026, 3, 2, 8, tzinfo=timezone.utc)),
        (
            {"dateTime": "2026-03-02T09:00:00", "timeZone": "Europe/Berlin"},
            datetime(2026, 3, 2, 8, tzinfo=timezone.utc),
        ),
        (
            {"dateTime": "2026-03-02T09:00:00", "timeZone": "W. Europe Standard Time"},
            datetime(2026, 3, 2, 8, tzinfo=timezone.utc),
        ),
        ({"dateTime": "garbage", "timeZone": "UTC"}, None),
        (None, None),
    ],
)
def test_utc_instant(value, expected):
    assert utc_instant(value) == expected


def test_transaction_id_generations_are_deterministic_and_distinct():
    from airflow_provider_meetings.events.request import generation_transaction_id

    prepared = prepare()
    first = prepared.transaction_id
    assert prepared.create_body()["transactionId"] == first  # events booked before keep their id
    ids = [prepared.create_body(n)["transactionId"] for n in range(4)]
    assert ids[0] == first and len(set(ids)) == 4
    assert ids == [generation_transaction_id(first, n) for n in range(4)]  # the same on every run
