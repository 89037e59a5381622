"""The normalized-subset comparison behind update_existing (events/diff.py)."""

from __future__ import annotations

from datetime import timedelta

from airflow_provider_meetings.events.diff import changed_fields
from airflow_provider_meetings.events.request import (
    BODY_HASH_PROPERTY,
    body_hash,
    prepare_event,
)
from events.events_testlib import START, interview


def prepare(**kwargs):
    attendees = ["cand@example.org", {"address": "panel@contoso.com", "type": "optional"}]
    return prepare_event(interview(**{"attendees": attendees, "location": "Room 1", **kwargs}), tenant_id="t")


def graph_answer(**changes):
    """An event as Graph returns it: UTC, 7 digits, HTML body with the Teams block, statuses."""
    event = {
        "id": "AAMk=",
        "subject": "Interview",
        "start": {"dateTime": "2026-03-02T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"},
        "attendees": [
            {
                "emailAddress": {"address": "Cand@Example.org", "name": "Cand"},
                "type": "required",
                "status": {"response": "none"},
            },
            {"emailAddress": {"address": "panel@contoso.com"}, "type": "optional", "status": {"response": "accepted"}},
        ],
        "location": {"displayName": "Room 1", "locationType": "default"},
        "body": {"contentType": "html", "content": "<html><body>Teams block</body></html>"},
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/x"},
    }
    event.update(changes)
    return event


def test_equal_event_needs_nothing():
    assert changed_fields(prepare(), graph_answer()) == {}


def test_a_move_sends_start_and_end_only():
    moved = prepare(start=START + timedelta(hours=2), end=START + timedelta(hours=3))
    assert changed_fields(moved, graph_answer()) == {
        "start": {"dateTime": "2026-03-02T11:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-02T12:00:00", "timeZone": "Europe/Berlin"},
    }


def test_subject_attendees_and_location():
    patch = changed_fields(
        prepare(subject="Interview 2", attendees=["cand@example.org"], location="Room 2"), graph_answer()
    )
    assert set(patch) == {"subject", "attendees", "location"}
    assert patch["attendees"] == [{"emailAddress": {"address": "cand@example.org"}, "type": "required"}]


def test_attendee_type_change_counts():
    patch = changed_fields(prepare(attendees=["cand@example.org", "panel@contoso.com"]), graph_answer())
    assert set(patch) == {"attendees"}


def test_body_sent_only_when_its_hash_changed():
    prepared = prepare(body="<p>Bring your ID</p>")
    same = graph_answer(
        singleValueExtendedProperties=[{"id": BODY_HASH_PROPERTY, "value": body_hash(prepared.fields["body"])}]
    )
    assert changed_fields(prepared, same) == {}
    other = graph_answer(singleValueExtendedProperties=[{"id": BODY_HASH_PROPERTY, "value": "0" * 32}])
    patch = changed_fields(prepared, other)
    assert patch["body"] == prepared.fields["body"]
    assert patch["singleValueExtendedProperties"] == [
        {"id": BODY_HASH_PROPERTY, "value": body_hash(prepared.fields["body"])}
    ]


def test_body_without_hash_compares_the_text():
    prepared = prepare(body="<p>Bring your ID</p>")
    holding = graph_answer(
        body={"contentType": "html", "content": "<html><p>Bring  your ID</p><div>Teams</div></html>"}
    )
    assert changed_fields(prepared, holding) == {}
    assert "body" in changed_fields(prepared, graph_answer())


def test_no_body_asked_never_touches_the_body():
    assert "body" not in changed_fields(prepare(), graph_answer(body={"content": "anything"}))
