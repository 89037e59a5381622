"""A template that renders a missing value fails the task before any request, naming the
field, the rendered value and the template (issue: ``bad_inputs-None`` was booked)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.operators.online_meetings import (
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
)

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "99999999-8888-7777-6666-555555555555"
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c6d"
EVENT_TEMPLATE = "{{ dag.dag_id }}-{{ dag_run.conf.get('event') }}"


class NoNetwork:
    """Stands in for the hook's HTTP client: any request fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a request was attempted ({name}) for input that is invalid")


class TaskInstance:
    def __init__(self) -> None:
        self.task_id, self.map_index, self.pushed = "t", -1, {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, **_: Any) -> Any:
        return None


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = {"tenant_id": TENANT, "default_user_id": ORGANIZER}
    # Not a prefix of another test's secret: Airflow's masker tries its patterns in set order, so
    # "unit-secret" masked only the start of hooks/test_online_meetings.py's secret in one process.
    conn = {"conn_type": "msgraph_meetings", "login": CLIENT, "password": "missing-value-secret", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_UNIT", json.dumps(conn))


def run(op: Any, dag: DAG, conf: dict[str, Any]) -> dict[str, Any]:
    """Render ``op`` as a run with ``conf`` would, then execute it without a network."""
    context: dict[str, Any] = {"dag": dag, "dag_run": SimpleNamespace(conf=conf), "params": op.params}
    op.render_template_fields(context)
    op.hook._client = NoNetwork()  # the client the hook would build on first use
    context["ti"] = TaskInstance()
    return op.execute(context)


@pytest.mark.parametrize(
    ("operator_class", "extra"),
    [
        pytest.param(CreateOrGetOnlineMeetingOperator, {"subject": "Review"}, id="create"),
        pytest.param(DeleteOnlineMeetingOperator, {}, id="delete"),
        pytest.param(DeleteOnlineMeetingOperator, {"deferrable": True}, id="delete-deferrable"),
    ],
)
def test_a_template_rendering_none_fails_the_task_and_shows_the_template(operator_class, extra):
    with DAG(dag_id="bad_inputs", schedule=None) as dag:
        op = operator_class(task_id="t", conn_id="meetings_unit", external_id=EVENT_TEMPLATE, **extra)
    assert op.unrendered["external_id"] == EVENT_TEMPLATE

    with pytest.raises(AirflowFailException) as caught:  # permanent: no task retries
        run(op, dag, conf={})

    assert op.external_id == "bad_inputs-None"
    assert str(caught.value) == (
        "InvalidRequestError: external_id: 'bad_inputs-None' contains None as a whole word: a template "
        "probably rendered a missing value; check what the template reads (dag_run.conf, params, the Airflow "
        "variable or XCom) and give it a value or a default; rendered from the template "
        "\"{{ dag.dag_id }}-{{ dag_run.conf.get('event') }}\""
    )
    assert isinstance(caught.value.__cause__, InvalidRequestError)


@pytest.mark.parametrize(
    ("arguments", "field", "template"),
    [
        pytest.param({"user_id": "{{ params.who }}@contoso.com"}, "user_id", "{{ params.who }}@contoso.com", id="user"),
        pytest.param(
            {"subject": "Interview with {{ params.who }}"}, "subject", "Interview with {{ params.who }}", id="subject"
        ),
        pytest.param(
            {"external_id": "{{ dag.dag_id }}-{{ params.who or '' }}"},
            "external_id",
            "{{ dag.dag_id }}-{{ params.who or '' }}",
            id="empty-var",
        ),
    ],
)
def test_each_templated_field_names_its_own_template(arguments, field, template):
    arguments.setdefault("external_id", "bad_inputs-1")
    with DAG(dag_id="bad_inputs", schedule=None, params={"who": None}) as dag:
        op = CreateOrGetOnlineMeetingOperator(task_id="t", conn_id="meetings_unit", **arguments)

    with pytest.raises(AirflowFailException) as caught:
        run(op, dag, conf={})

    message = str(caught.value)
    assert message.startswith(f"InvalidRequestError: {field}: {getattr(op, field)!r} ")
    assert message.endswith(f"; rendered from the template {template!r}")


def test_a_value_given_as_is_shows_no_template():
    with DAG(dag_id="bad_inputs", schedule=None) as dag:
        op = CreateOrGetOnlineMeetingOperator(task_id="t", conn_id="meetings_unit", external_id="bad_inputs-None")

    with pytest.raises(AirflowFailException) as caught:
        run(op, dag, conf={})
    assert "rendered from" not in str(caught.value)


def test_a_conf_with_the_key_books_as_before():
    with DAG(dag_id="bad_inputs", schedule=None) as dag:
        op = CreateOrGetOnlineMeetingOperator(task_id="t", conn_id="meetings_unit", external_id=EVENT_TEMPLATE)
    with pytest.raises(AssertionError, match="a request was attempted"):  # valid: it goes on to Graph
        run(op, dag, conf={"event": "kickoff"})
    assert op.external_id == "bad_inputs-kickoff"


# The bulk operator's error with its external_id_template: tests/integration/reliability/test_bad_input.py
