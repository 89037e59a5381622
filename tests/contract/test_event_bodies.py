"""Calendar-event bodies the provider sends, checked against the official ``event`` model.

The oracle is ``msgraph-sdk``'s ``Event`` (v1.0; the provider sends events to v1.0 and beta
alike): every property, enum value and nested type of the POST, the PATCH of each
``update_existing`` difference and the cancel body (``event-cancel``'s one parameter,
``comment``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from event_options_testlib import event_options

from airflow_provider_meetings.events.diff import changed_fields
from airflow_provider_meetings.events.options import SENSITIVITIES, SHOW_AS
from airflow_provider_meetings.events.request import EventSpec, cancel_body, prepare_event

START = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
EVERYTHING = {
    "attendees": [
        "ada@example.org",
        {"address": "panel@contoso.example", "name": "Panel", "type": "optional"},
        {"address": "room1@contoso.example", "name": "Room 1", "type": "resource"},
    ],
    "body": "<p>Bring an ID.</p>",
    "location": "Room 1",
    "recurrence": "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4",
    **event_options(show_as="workingElsewhere"),
}


def prepare(**kwargs):
    values = {"external_id": "i-1", "subject": "Interview", "start": START, "end": START + timedelta(hours=1)}
    values.update(kwargs)
    return prepare_event(EventSpec(**values, user_id="hr@contoso.example"), tenant_id="t")


def test_create_body_with_everything(graph_contract):
    body = prepare(**EVERYTHING).create_body()
    graph_contract.check(body, "event", "v1.0")


def test_every_option_value_is_the_models(graph_contract):
    for sensitivity in SENSITIVITIES:
        graph_contract.check(prepare(sensitivity=sensitivity).create_body(), "event", "v1.0")
    for show_as in SHOW_AS:
        graph_contract.check(prepare(show_as=show_as).create_body(), "event", "v1.0")


def test_update_body_with_every_difference(graph_contract):
    prepared = prepare(**EVERYTHING)
    patch = changed_fields(prepared, {"start": None, "end": None, "subject": "Old", "attendees": []})
    assert {"allowNewTimeProposals", "showAs", "categories", "start", "attendees", "body"} <= set(patch)
    graph_contract.check(patch, "event", "v1.0")


def test_cancel_body_is_the_actions_parameter(graph_contract):
    # event-cancel's parameter table says ``comment``, its example and Graph's metadata (the
    # SDK's CancelPostRequestBody) ``Comment``; GRAPH_FACTS ("Refinements") settles on the
    # table's spelling. The two differ only in case: pin that, so a change is deliberate.
    assert cancel_body(None) == {}
    body = cancel_body("The role was filled")
    assert body == {"comment": "The role was filled"}
    model = set(graph_contract.properties("cancelPostRequestBody", "v1.0")) - {"@odata.type"}
    assert model == {"Comment"}
    assert {name.lower() for name in body} == {name.lower() for name in model}
