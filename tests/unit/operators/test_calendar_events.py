"""The calendar-event operators and links without a network: arguments, templating, errors, XCom."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_meetings.events.results import EventResult
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.links.calendar_events import JoinTeamsEventLink, OutlookEventLink, url_of
from airflow_provider_meetings.operators.calendar_events import (
    EVENT_OPTIONS,
    CancelTeamsEventOperator,
    CreateOrGetTeamsEventOperator,
)

EVENT = {
    "id": "AAMk/+=",
    "iCalUId": "ical-1",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMk",
    "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/x"},
}


class FakeHook:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, tuple, dict]] = []

    def create_or_get_event(self, *args, **kwargs):
        self.calls.append(("create_or_get_event", args, kwargs))
        if self.error:
            raise self.error
        return EventResult(event=EVENT, created=True, status="created", user_id=kwargs["user_id"])

    def cancel_event(self, *args, **kwargs):
        self.calls.append(("cancel_event", args, kwargs))
        if self.error:
            raise self.error
        return True

    def cancel_event_occurrence(self, *args, **kwargs):
        self.calls.append(("cancel_event_occurrence", args, kwargs))
        return True


def make_event_operator(**kwargs):
    values = {
        "task_id": "event",
        "external_id": "interview-{{ params.candidate }}",
        "subject": "Interview with {{ params.candidate }}",
        "start": "2026-03-02T09:00:00+01:00",
        "end": "2026-03-02T10:00:00+01:00",
    }
    values.update(kwargs)
    return CreateOrGetTeamsEventOperator(**values)


def test_arguments_are_keyword_only_and_templated():
    for cls in (CreateOrGetTeamsEventOperator, CancelTeamsEventOperator):
        parameters = inspect.signature(cls.__init__).parameters
        assert all(
            p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in parameters.items() if n not in ("self", "kwargs")
        )
    assert set(CreateOrGetTeamsEventOperator.template_fields) == {
        "conn_id",
        "external_id",
        "subject",
        "start",
        "end",
        "user_id",
        "attendees",
        "time_zone",
        "body",
        "location",
        "recurrence",
        *EVENT_OPTIONS,
    }
    assert set(CancelTeamsEventOperator.template_fields) == {
        "conn_id",
        "external_id",
        "user_id",
        "comment",
        "occurrence_date",
    }


def test_templates_render_and_the_result_is_the_xcom():
    from airflow.sdk import DAG

    with DAG(dag_id="event_render", schedule=None):
        op = make_event_operator(
            attendees=["{{ params.candidate }}@example.org", {"address": "panel@contoso.com", "type": "optional"}],
            params={"candidate": "ada"},
        )
    op.render_template_fields({"params": op.params})
    assert op.external_id == "interview-ada" and op.attendees[0] == "ada@example.org"
    hook = FakeHook()
    op.__dict__["hook"] = hook
    result = op.execute({})
    assert result["join_url"] == EVENT["onlineMeeting"]["joinUrl"] and result["status"] == "created"
    assert result["outlook_url"] == "https://outlook.office365.com/calendar/item/AAMk%2F%2B%3D"
    assert json.loads(json.dumps(result)) == result
    (_, args, kwargs) = hook.calls[0]
    assert args == ("interview-ada",) and kwargs["update_existing"] is False and kwargs["user_id"] is None
    assert all(kwargs[name] is None for name in EVENT_OPTIONS)  # not given: Graph's defaults


def test_options_are_templated_and_passed_on():
    from airflow.sdk import DAG

    with DAG(dag_id="event_options", schedule=None):
        op = make_event_operator(
            allow_new_time_proposals="{{ params.proposals }}",
            sensitivity="{{ params.sensitivity }}",
            categories=["{{ params.category }}"],
            params={"candidate": "ada", "proposals": "false", "sensitivity": "", "category": "Hiring"},
        )
    op.render_template_fields({"params": op.params})
    hook = FakeHook()
    op.__dict__["hook"] = hook
    op.execute({})
    (_, _, kwargs) = hook.calls[0]
    assert kwargs["allow_new_time_proposals"] == "false"  # the hook validates it (to False)
    assert kwargs["sensitivity"] is None  # rendered empty: not given
    assert kwargs["categories"] == ["Hiring"]


def test_invalid_input_fails_without_retries_and_names_the_template():
    from airflow.sdk import DAG

    with DAG(dag_id="event_fail", schedule=None):
        op = make_event_operator(params={"candidate": None})
    op.render_template_fields({"params": op.params})
    op.__dict__["hook"] = FakeHook(InvalidRequestError("external_id", "'interview-None' contains None"))
    with pytest.raises(AirflowFailException, match="rendered from the template 'interview-"):
        op.execute({})


def test_transient_errors_pass_through_for_task_retries():
    op = make_event_operator()
    op.__dict__["hook"] = FakeHook(GraphAPIError(503, "ServiceUnavailable", "busy"))
    with pytest.raises(GraphAPIError):
        op.execute({})


def test_cancel_operator():
    op = CancelTeamsEventOperator(task_id="cancel", external_id="interview-ada", comment="Filled")
    hook = FakeHook()
    op.__dict__["hook"] = hook
    assert op.execute({}) == {
        "external_id": "interview-ada",
        "user_id": None,
        "cancelled": True,
        "occurrence_date": None,
    }
    assert hook.calls[0][2] == {"user_id": None, "comment": "Filled"}


def test_cancel_operator_with_an_occurrence_date_cancels_that_day():
    op = CancelTeamsEventOperator(
        task_id="cancel", external_id="weekly", comment="Holiday", occurrence_date="2030-04-02"
    )
    hook = FakeHook()
    op.__dict__["hook"] = hook
    assert op.execute({})["occurrence_date"] == "2030-04-02"
    assert hook.calls == [
        ("cancel_event_occurrence", ("weekly", "2030-04-02"), {"user_id": None, "comment": "Holiday"})
    ]


@pytest.mark.parametrize(("state", "asked"), [("failed", []), ("success", ["return_value"])])
def test_links_read_the_return_value_of_a_task_that_succeeded(monkeypatch, state, asked):
    from airflow.sdk.execution_time.xcom import XCom

    seen: list[str] = []
    value = {"join_url": "https://teams.microsoft.com/l/x", "outlook_url": "https://outlook.office365.com/c/i"}

    def get_value(*, ti_key, key):
        seen.append(key)
        return value

    monkeypatch.setattr(XCom, "get_value", get_value)
    ti = SimpleNamespace(dag_id="d", task_id="event", run_id="r", map_index=-1, try_number=1, state=state)
    join = JoinTeamsEventLink().get_link(make_event_operator(), ti_key=ti)
    outlook = OutlookEventLink().get_link(make_event_operator(), ti_key=ti)
    assert (join, outlook) == ((value["join_url"], value["outlook_url"]) if state == "success" else ("", ""))
    assert seen == asked * 2


def test_url_of_ignores_what_is_not_a_url():
    assert url_of({"join_url": "javascript:alert(1)"}, "join_url") == ""
    assert url_of(None, "join_url") == ""


def test_operator_serialises_with_its_links(monkeypatch):
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    monkeypatch.setattr(DagSerialization, "_load_operator_extra_links", True)
    with DAG(dag_id="event_serialise", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        make_event_operator(attendees=["a@example.org"], recurrence="FREQ=WEEKLY;COUNT=4")
    task = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).get_task("event")
    assert {"Join Teams meeting", "Open in Outlook"} <= set(task.extra_links)
