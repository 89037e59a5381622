"""BulkCreateOrGetTeamsEventsOperator without a network: arguments, XCom, failing at the end."""

from __future__ import annotations

import inspect
import json
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_meetings.events.results import EventBulkItemResult
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.operators.calendar_events import BulkCreateOrGetTeamsEventsOperator

EVENT = {"id": "AAMk/+=", "iCalUId": "ical-1", "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/x"}}


class FakeHook:
    def __init__(self, errors: dict[int, BaseException] | None = None) -> None:
        self.errors = errors or {}
        self.calls: list[tuple[list[Any], dict[str, Any]]] = []

    def create_or_get_events(self, specs, **kwargs):
        specs = list(specs)
        self.calls.append((specs, kwargs))
        return [
            EventBulkItemResult(n, s.get("external_id"), s.get("user_id"), error=self.errors[n])
            if n in self.errors
            else EventBulkItemResult(n, s.get("external_id"), s.get("user_id"), event=EVENT, status="created")
            for n, s in enumerate(specs)
        ]


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def operator(hook: FakeHook, **kwargs: Any) -> BulkCreateOrGetTeamsEventsOperator:
    values = {"task_id": "events", "events": [{"external_id": "a"}, {"external_id": "b", "user_id": "u2"}]}
    values.update(kwargs)
    op = BulkCreateOrGetTeamsEventsOperator(**values)
    op.__dict__["hook"] = hook
    return op


def test_arguments_are_keyword_only_and_events_templated() -> None:
    parameters = inspect.signature(BulkCreateOrGetTeamsEventsOperator.__init__).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in parameters.items() if n not in ("self", "kwargs"))
    assert set(BulkCreateOrGetTeamsEventsOperator.template_fields) == {"conn_id", "events", "user_id"}


def test_xcom_is_one_dict_per_item_and_the_default_organizer_fills_in() -> None:
    hook = FakeHook()
    result = operator(hook, user_id="u1", update_existing=True).execute({})
    assert [r["external_id"] for r in result] == ["a", "b"] and {r["status"] for r in result} == {"created"}
    assert json.loads(json.dumps(result)) == result
    specs, kwargs = hook.calls[0]
    assert [s["user_id"] for s in specs] == ["u1", "u2"] and kwargs["update_existing"] is True


def test_permanent_failures_fail_without_retries_naming_the_items() -> None:
    ti = FakeTI()
    hook = FakeHook({1: InvalidRequestError("events[1].subject", "is missing")})
    with pytest.raises(AirflowFailException, match=r"1 of 2 event\(s\) failed .*b: events\[1\].subject"):
        operator(hook).execute({"ti": ti})
    assert [r["error"] is None for r in ti.pushed["results"]] == [True, False]


def test_transient_failures_leave_task_retries() -> None:
    hook = FakeHook({0: GraphAPIError(503, "ServiceUnavailable", "busy")})
    with pytest.raises(AirflowException, match="a retry creates only what is missing"):
        operator(hook).execute({"ti": SimpleNamespace(xcom_push=lambda key, value: None)})


def test_events_must_be_a_list() -> None:
    with pytest.raises(AirflowFailException, match="events must be a list"):
        operator(FakeHook(), events={"external_id": "a"}).execute({})
