"""The optional event fields users expect (events/options.py): validation, bodies, the diff, XCom."""

from __future__ import annotations

import pytest
from event_options_testlib import graph_event_options

from airflow_provider_meetings.events.diff import changed_fields
from airflow_provider_meetings.events.options import GRAPH_NAMES, OPTIONS, option_fields
from airflow_provider_meetings.events.request import prepare_event
from airflow_provider_meetings.events.results import EventResult
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.operators.calendar_events import EVENT_OPTIONS, CreateOrGetTeamsEventOperator
from events.events_testlib import interview

EVERYTHING = {
    "allow_new_time_proposals": False,
    "hide_attendees": "true",
    "response_requested": False,
    "is_reminder_on": True,
    "reminder_minutes_before_start": "30",
    "sensitivity": "Private",
    "show_as": "workingelsewhere",
    "categories": ["Interviews", "Hiring"],
}


def prepare(**kwargs):
    return prepare_event(interview(external_id="i-1", **kwargs), tenant_id="t")


def test_given_options_are_sent_under_graphs_names_normalized():
    body = prepare(**EVERYTHING).create_body()
    normalized = graph_event_options(showAs="workingElsewhere", categories=["Interviews", "Hiring"])
    assert {name: body[name] for name in GRAPH_NAMES} == normalized


def test_options_not_given_are_not_sent():
    assert not set(GRAPH_NAMES) & set(prepare().create_body())


@pytest.mark.parametrize(
    ("keyword", "value", "words"),
    [
        ("allow_new_time_proposals", "no", "allow_new_time_proposals: must be true or false, got 'no'"),
        ("hide_attendees", 1, "hide_attendees: must be true or false"),
        ("reminder_minutes_before_start", -5, "reminder_minutes_before_start: must be a whole number"),
        ("reminder_minutes_before_start", True, "reminder_minutes_before_start: must be a whole number"),
        (
            "sensitivity",
            "secret",
            "sensitivity: 'secret' is not one of ['normal', 'personal', 'private', 'confidential']",
        ),
        ("show_as", "away", "show_as: 'away' is not one of ['free', 'tentative', 'busy', 'oof', 'workingElsewhere'"),
        ("categories", "Hiring", "categories: must be a list of category names, got str"),
        ("categories", ["Hiring", ""], "categories[1]: must be a non-empty string"),
        ("categories", ["Hiring", "hiring"], "categories[1]: 'hiring' is given twice"),
    ],
)
def test_a_bad_option_is_refused_naming_the_field_and_the_values(keyword, value, words):
    with pytest.raises(InvalidRequestError) as info:
        prepare(**{keyword: value})
    assert words in str(info.value)
    assert info.value.field.startswith(keyword)


def test_the_operator_knows_every_option():
    assert EVENT_OPTIONS == tuple(OPTIONS)
    assert set(EVENT_OPTIONS) <= set(CreateOrGetTeamsEventOperator.template_fields)


def graph_event(**changes):
    event = {
        "subject": "Interview",
        "start": {"dateTime": "2026-03-02T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"},
        "attendees": [],
        "allowNewTimeProposals": True,
        "hideAttendees": False,
        "responseRequested": True,
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
        "sensitivity": "normal",
        "showAs": "busy",
        "categories": [],
    }
    event.update(changes)
    return event


def test_the_diff_patches_only_the_given_options_that_differ():
    prepared = prepare(allow_new_time_proposals=False, show_as="busy", categories=["Hiring", "Interviews"])
    assert changed_fields(prepared, graph_event()) == {
        "allowNewTimeProposals": False,
        "categories": ["Hiring", "Interviews"],
    }
    same = graph_event(allowNewTimeProposals=False, categories=["interviews", "hiring"])
    assert changed_fields(prepared, same) == {}  # categories as a set, without case
    assert changed_fields(prepare(), graph_event(sensitivity="private")) == {}  # not given: not compared


def test_option_fields_of_nothing():
    assert option_fields({}) == {}


def test_responses_by_address():
    event = {
        "id": "x",
        "attendees": [
            {"emailAddress": {"address": "ada@example.org"}, "status": {"response": "accepted"}},
            {"emailAddress": {"address": "room1@contoso.example"}, "type": "resource"},
        ],
    }
    result = EventResult(event=event, created=False, status="existing")
    assert result.to_dict()["responses"] == {"ada@example.org": "accepted", "room1@contoso.example": "none"}
