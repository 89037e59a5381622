"""The normalized-subset comparison behind update_existing (events/diff.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_meetings.events.diff import body_with_teams_block, changed_fields, teams_block
from airflow_provider_meetings.events.request import (
    BODY_HASH_PROPERTY,
    body_hash,
    prepare_event,
)
from airflow_provider_meetings.graph.errors import InvalidRequestError
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


def test_a_start_with_microseconds_is_not_a_move():
    # A manual run's logical_date carries microseconds; the event is sent in whole seconds.
    late = prepare(start=START + timedelta(microseconds=123456), end=START + timedelta(hours=1, microseconds=7))
    assert late.fields["start"]["dateTime"] == "2026-03-02T09:00:00"
    assert changed_fields(late, graph_answer()) == {}


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


JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d&amp=1"
BLOCK = (
    '<div style="width:100%"><span>________________________________________________________________________________'
    f'</span></div>\r\n<div class="me-email-text"><div>Microsoft Teams meeting</div><a href="{JOIN.replace("&", "&amp;")}">'
    "Join the meeting now</a></div>"
)


def test_a_changed_body_is_sent_with_the_events_teams_block():
    # GRAPH_FACTS: a PATCH of body without the Teams block removes the link.
    found = graph_answer(
        body={"contentType": "html", "content": f"<html><body>\r\n<p>Old</p>\r\n{BLOCK}</body></html>"},
        onlineMeeting={"joinUrl": JOIN},
    )
    assert teams_block(found) == BLOCK
    patch = changed_fields(prepare(body="<p>New</p>"), found)
    assert patch["body"] == {"contentType": "html", "content": f"<p>New</p>\n{BLOCK}"}
    text = body_with_teams_block({"contentType": "text", "content": "a < b\nc"}, found)
    assert text == {"contentType": "html", "content": f"a &lt; b<br>\nc\n{BLOCK}"}


def test_a_body_without_the_join_link_is_sent_as_given():
    assert teams_block(graph_answer()) is None  # the link is not in the body
    assert body_with_teams_block({"contentType": "html", "content": "<p>x</p>"}, graph_answer()) == {
        "contentType": "html",
        "content": "<p>x</p>",
    }


def series_answer(start_date: str = "2026-03-02", **changes):
    recurrence = {
        "pattern": {
            "type": "weekly",
            "interval": 1,
            "daysOfWeek": ["monday"],
            "firstDayOfWeek": "sunday",
            "index": "first",
        },
        "range": {
            "type": "noEnd",
            "startDate": start_date,
            "endDate": "0001-01-01",
            "recurrenceTimeZone": "Europe/Berlin",
        },
    }
    return graph_answer(type="seriesMaster", recurrence=recurrence, **changes)


WEEKLY = "FREQ=WEEKLY;BYDAY=MO"


def test_a_series_moved_to_another_day_sends_its_recurrence():
    # range.startDate must be the start's date: start and end alone were a 400.
    week_later = prepare(start=START + timedelta(days=7), end=START + timedelta(days=7, hours=1), recurrence=WEEKLY)
    patch = changed_fields(week_later, series_answer())
    assert set(patch) == {"start", "end", "recurrence"}
    assert patch["recurrence"] == week_later.fields["recurrence"]
    assert patch["recurrence"]["range"]["startDate"] == "2026-03-09"
    hour_later = prepare(start=START + timedelta(hours=1), end=START + timedelta(hours=2), recurrence=WEEKLY)
    assert set(changed_fields(hour_later, series_answer())) == {"start", "end"}  # same day
    assert changed_fields(prepare(recurrence=WEEKLY), series_answer()) == {}


def test_a_single_event_and_a_series_are_not_turned_into_each_other():
    with pytest.raises(InvalidRequestError, match="a series was asked for, but .* is a single event"):
        changed_fields(prepare(recurrence=WEEKLY), graph_answer())
    with pytest.raises(InvalidRequestError, match="a single event was asked for, but .* is a series"):
        changed_fields(prepare(), series_answer())
