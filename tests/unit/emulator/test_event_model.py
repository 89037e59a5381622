"""The calendar-event model of the emulator (events.py, event_times.py, event_recurrence.py, mailboxes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from meetings_emulator.config import default_users
from meetings_emulator.errors import GraphError
from meetings_emulator.event_recurrence import checked_recurrence
from meetings_emulator.event_times import LISTED_IANA_ZONES, WINDOWS_ZONES, from_utc_ticks, to_utc_ticks, zone
from meetings_emulator.events import EventNotFound, EventStore, StoredEvent, property_key
from meetings_emulator.mailboxes import MailboxConcurrency, MailboxSlots

ADELE, ALEX = default_users()[0], default_users()[1]
PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name ExternalId"
JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d"


def join_url(start: int, end: int, subject: str) -> str:
    return JOIN


def body(external_id: str = "ext", **overrides: Any) -> dict[str, Any]:
    data = {
        "subject": "Interview",
        "start": {"dateTime": "2030-07-01T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-07-01T10:00:00", "timeZone": "Europe/Berlin"},
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "singleValueExtendedProperties": [{"id": PROPERTY, "value": external_id}],
    }
    data.update(overrides)
    return data


def test_every_listed_zone_has_tz_data_and_windows_names_map_to_listed_ones() -> None:
    for name in LISTED_IANA_ZONES | set(WINDOWS_ZONES):
        zone(name)
    assert {"Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"} <= (
        LISTED_IANA_ZONES
    )
    assert "Europe/Zurich" not in LISTED_IANA_ZONES and "America/Toronto" not in LISTED_IANA_ZONES


def test_wall_clock_time_keeps_across_daylight_saving() -> None:
    winter = to_utc_ticks("2030-01-07T09:00:00", "Europe/Berlin", "start")
    summer = to_utc_ticks("2030-07-01T09:00:00.1234567", "W. Europe Standard Time", "start")
    assert from_utc_ticks(winter, "UTC")["dateTime"] == "2030-01-07T08:00:00.0000000"
    assert from_utc_ticks(summer, "UTC")["dateTime"] == "2030-07-01T07:00:00.1234567"
    assert from_utc_ticks(summer, "Europe/Berlin")["dateTime"] == "2030-07-01T09:00:00.1234567"


@pytest.mark.parametrize("value", ["2030-07-01T09:00:00Z", "2030-07-01T09:00:00+02:00", "2030-07-01", "soon"])
def test_date_times_with_an_offset_or_malformed_are_refused(value: str) -> None:
    with pytest.raises(GraphError) as caught:
        to_utc_ticks(value, "UTC", "start")
    assert caught.value.status == 400


def test_unlisted_zone_is_time_zone_not_supported() -> None:
    with pytest.raises(GraphError) as caught:
        to_utc_ticks("2030-07-01T09:00:00", "Europe/Zurich", "start")
    assert (caught.value.status, caught.value.code) == (400, "TimeZoneNotSupportedException")


def test_property_ids_compare_type_and_guid_without_case_and_name_with_case() -> None:
    shouted = "string {66F5A359-4659-4830-9070-00047EC6AC6E} Name ExternalId"
    assert property_key(PROPERTY) == property_key(shouted)
    assert property_key(PROPERTY) != property_key(PROPERTY.replace("ExternalId", "externalid"))
    with pytest.raises(GraphError):
        property_key("ExternalId")


def test_create_then_find_by_property_value_without_case() -> None:
    store = EventStore()
    created, event = store.create("t", ADELE, body("Course-A"), join_url)
    assert created and event.resource["onlineMeeting"] == {"joinUrl": JOIN}
    assert [e.id for e in store.find_by_property("t", ADELE.id, PROPERTY, "course-a")] == [event.id]
    assert store.find_by_property("t", ALEX.id, PROPERTY, "Course-A") == []
    assert event.view()["start"] == {"dateTime": "2030-07-01T07:00:00.0000000", "timeZone": "UTC"}
    assert "singleValueExtendedProperties" not in event.view()
    assert event.view(expand=(PROPERTY,))["singleValueExtendedProperties"] == [{"id": PROPERTY, "value": "Course-A"}]


def test_transaction_id_returns_the_first_event_per_mailbox() -> None:
    store = EventStore()
    _, first = store.create("t", ADELE, body(transactionId="tx"), join_url)
    created, again = store.create("t", ADELE, body(transactionId="tx", subject="changed"), join_url)
    assert (created, again.id, again.resource["subject"]) == (False, first.id, "Interview")
    created, other = store.create("t", ALEX, body(transactionId="tx"), join_url)
    assert created and other.id != first.id


def test_without_teams_provider_there_is_no_join_url() -> None:
    _, event = EventStore().create("t", ADELE, body(isOnlineMeeting=False), join_url)
    assert event.resource["onlineMeeting"] is None and event.resource["isOnlineMeeting"] is False


def test_cancel_and_delete_leave_the_calendar_but_are_kept() -> None:
    store = EventStore()
    _, a = store.create("t", ADELE, body("a"), join_url)
    _, b = store.create("t", ADELE, body("b"), join_url)
    store.cancel("t", ADELE.id, a.id, "sorry")
    store.delete("t", ADELE.id, b.id)
    assert store.in_calendar("t", ADELE.id) == [] and len(store) == 0
    assert [(e.state, e.cancel_comment) for e in store.all()] == [("cancelled", "sorry"), ("deleted", None)]
    with pytest.raises(EventNotFound):
        store.get("t", ADELE.id, a.id)


def test_update_keeps_the_link_and_refuses_read_only_properties() -> None:
    store = EventStore()
    _, event = store.create("t", ADELE, body(), join_url)
    moved = store.update("t", ADELE.id, event.id, {"subject": "Moved"}, join_url)
    assert moved.resource["subject"] == "Moved" and moved.resource["onlineMeeting"] == {"joinUrl": JOIN}
    with pytest.raises(GraphError):
        store.update("t", ADELE.id, event.id, {"iCalUId": "x"}, join_url)
    with pytest.raises(EventNotFound):
        store.update("t", ALEX.id, event.id, {"subject": "x"}, join_url)


def test_stored_events_round_trip_through_json() -> None:
    _, event = EventStore().create("t", ADELE, body(transactionId="tx"), join_url)
    again = StoredEvent.from_json(event.to_json())
    assert again == event


def test_recurrence_defaults_and_rules() -> None:
    recurrence = {
        "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 1},
        "range": {"type": "endDate", "startDate": "2030-07-01", "endDate": "2030-12-31"},
    }
    checked = checked_recurrence(recurrence, "2030-07-01", "Europe/Berlin")
    assert checked["pattern"]["month"] == 0 and checked["pattern"]["index"] == "first"
    assert checked["range"] == {
        "type": "endDate",
        "startDate": "2030-07-01",
        "endDate": "2030-12-31",
        "recurrenceTimeZone": "Europe/Berlin",
        "numberOfOccurrences": 0,
    }
    for broken in (
        {**recurrence, "pattern": {"type": "weekly", "interval": 1}},  # weekly needs daysOfWeek
        {**recurrence, "range": {"type": "numbered", "startDate": "2030-07-01"}},
        {**recurrence, "range": {"type": "noEnd", "startDate": "2030-07-02"}},  # not the start's date
    ):
        with pytest.raises(GraphError):
            checked_recurrence(broken, "2030-07-01", "Europe/Berlin")


def test_mailbox_slots_limit_per_app_and_mailbox() -> None:
    slots = MailboxSlots(limit=2, retry_after=None)
    with slots.slot("app", "A"), slots.slot("app", "a"):
        with pytest.raises(MailboxConcurrency) as caught, slots.slot("app", "A"):
            pass
        assert caught.value.code == "ApplicationThrottled" and "MailboxConcurrency" in caught.value.message
        assert "Retry-After" not in caught.value.headers
        with slots.slot("app", "B"), slots.slot("other-app", "A"):
            pass
    with slots.slot("app", "A"):
        pass
    assert slots.peaks() == {"a": 2, "b": 1}
    slots.configure(None, 2)
    assert MailboxConcurrency(2).headers == {"Retry-After": "2"}
