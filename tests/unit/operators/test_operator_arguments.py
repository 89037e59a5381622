"""CreateOrGetOnlineMeetingOperator and its link without a network: arguments, templating, errors."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timezone

import pytest
from airflow.sdk.exceptions import AirflowFailException
from import_cost_testlib import loaded_by

from airflow_provider_meetings.graph.errors import (
    ApplicationAccessPolicyError,
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    InvalidRequestError,
    RetriesExhaustedError,
)
from airflow_provider_meetings.hooks.online_meetings import MeetingResult
from airflow_provider_meetings.links.online_meetings import JoinTeamsMeetingLink, join_url_of
from airflow_provider_meetings.meetings.organizers import (
    OrganizerLookupDeniedError,
    OrganizerLookupError,
    OrganizerNotFoundError,
)
from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
    describe_result,
)
from airflow_provider_meetings.operators.task_outcome import fail_permanent_errors

TEMPLATED = (
    "conn_id",
    "external_id",
    "user_id",
    "subject",
    "start_date_time",
    "end_date_time",
    "participants",
    "chat_info",
)


def make_operator(**kwargs):
    kwargs.setdefault("task_id", "meeting")
    kwargs.setdefault("external_id", "{{ dag.dag_id }}-{{ ds }}")
    return CreateOrGetOnlineMeetingOperator(**kwargs)


def test_template_fields_are_every_argument():
    assert tuple(CreateOrGetOnlineMeetingOperator.template_fields) == TEMPLATED
    assert tuple(CreateOrGetOnlineMeetingOperator.template_ext) == ()
    assert set(CreateOrGetOnlineMeetingOperator.template_fields_renderers) == {"participants", "chat_info"}


def test_arguments_are_keyword_only_and_kept_verbatim():
    parameters = inspect.signature(CreateOrGetOnlineMeetingOperator.__init__).parameters
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for name, p in parameters.items() if name != "self")

    participants = {"attendees": [{"upn": "{{ params.who }}"}]}
    op = make_operator(
        conn_id="meetings_prod",
        user_id="{{ params.organizer }}",
        subject="Review {{ ds }}",
        start_date_time="2026-11-28T10:00:00",  # naive: refused at run time, not at parse time
        end_date_time="{{ data_interval_end }}",
        participants=participants,
        chat_info={"threadId": "19:abc@thread.v2"},
    )
    assert op.conn_id == "meetings_prod"
    assert op.external_id == "{{ dag.dag_id }}-{{ ds }}"
    assert op.user_id == "{{ params.organizer }}"
    assert op.start_date_time == "2026-11-28T10:00:00"
    assert op.participants is participants
    assert op.hook.conn_id == "meetings_prod"


def test_defaults():
    op = make_operator()
    assert op.conn_id == "msgraph_meetings_default"
    assert [getattr(op, name) for name in TEMPLATED[2:]] == [None] * 6  # all but conn_id and external_id
    assert [link.name for link in op.operator_extra_links] == ["Join Teams meeting"]


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        CreateOrGetOnlineMeetingOperator("meeting", "ext")  # type: ignore[misc]


def test_nested_templates_render_recursively():
    from airflow.sdk import DAG

    with DAG(dag_id="render_check", schedule=None):
        op = make_operator(
            external_id="{{ params.key }}",
            participants={"attendees": [{"upn": "{{ params.who }}"}], "organizer": {"upn": "{{ params.org }}"}},
            params={"key": "k-1", "who": "alexw@contoso.example", "org": "adelev@contoso.example"},
        )
    context = {"params": op.params}
    op.render_template_fields(context)

    assert op.external_id == "k-1"
    assert op.participants == {
        "attendees": [{"upn": "alexw@contoso.example"}],
        "organizer": {"upn": "adelev@contoso.example"},
    }


@pytest.mark.parametrize(
    "operator_class",
    [CreateOrGetOnlineMeetingOperator, DeleteOnlineMeetingOperator, BulkCreateOrGetOnlineMeetingsOperator],
)
def test_conn_id_renders_and_the_hook_uses_the_rendered_id(operator_class):
    from airflow.sdk import DAG

    required = {"meetings": []} if operator_class is BulkCreateOrGetOnlineMeetingsOperator else {"external_id": "k"}
    with DAG(dag_id="render_conn_id", schedule=None):
        op = operator_class(task_id="meeting", conn_id="meetings_{{ params.env }}", params={"env": "prod"}, **required)
    assert "conn_id" in operator_class.template_fields
    op.render_template_fields({"params": op.params})

    assert op.conn_id == "meetings_prod"
    assert op.hook.conn_id == "meetings_prod"


# -- errors: which ones burn task retries --------------------------------------------------------

_NO_POLICY = {"error": {"code": "Forbidden", "message": "No Application Access Policy found for this app."}}


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(InvalidRequestError("end_date_time", "before start"), id="invalid request"),
        pytest.param(ConnectionConfigError("tenant_id", "missing"), id="connection config"),
        pytest.param(AuthenticationError("invalid_client", "AADSTS7000215: Invalid client secret"), id="bad secret"),
        pytest.param(ApplicationAccessPolicyError(403, "Forbidden", "No policy"), id="403 access policy"),
        pytest.param(GraphAPIError(400, "BadRequest", "nope"), id="400"),
        pytest.param(
            OrganizerLookupDeniedError(
                "a@contoso.com", "no", cause=GraphAPIError(403, "Authorization_RequestDenied", "")
            ),
            id="403 organizer lookup",
        ),
        pytest.param(
            OrganizerNotFoundError("a@contoso.com", "no", cause=GraphAPIError(404, "Request_ResourceNotFound", "")),
            id="404 organizer lookup",
        ),
    ],
)
def test_permanent_errors_fail_the_task_without_retry(error):
    with pytest.raises(AirflowFailException) as caught, fail_permanent_errors():
        raise error
    assert caught.value.__cause__ is error
    assert str(error) in str(caught.value)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            RetriesExhaustedError("createOrGet", 7, 300.0, GraphAPIError(429, "TooManyRequests", "x")),
            id="retries exhausted",
        ),
        pytest.param(GraphAPIError(503, "ServiceNotAvailable", "later"), id="503"),
        pytest.param(
            OrganizerLookupError("a@contoso.com", "later", cause=GraphAPIError(503, "ServiceNotAvailable", "")),
            id="organizer lookup 503",
        ),
        pytest.param(AuthenticationError("temporarily_unavailable", "AADSTS50196", permanent=False), id="entra outage"),
        pytest.param(OSError("disk"), id="not ours"),
    ],
)
def test_transient_errors_are_reraised_as_is(error):
    with pytest.raises(type(error)) as caught, fail_permanent_errors():
        raise error
    assert caught.value is error


# -- log line and link -----------------------------------------------------------------------

MEETING = {
    "id": "MSo1",
    "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x",
    "participants": {"organizer": {"identity": {"user": {"id": "0b6c-01", "displayName": "Adele Vance"}}}},
}


@pytest.mark.parametrize(
    ("created", "start"),
    [
        pytest.param(True, "Created Teams meeting", id="201"),
        pytest.param(False, "Reused existing Teams meeting", id="200"),
    ],
)
def test_describe_result(created, start):
    line = describe_result(MeetingResult(MEETING, created), "dag-2026-11-28")

    assert line.startswith(start)
    for fact in ("id=MSo1", MEETING["joinWebUrl"], "external_id=dag-2026-11-28", "organizer=Adele Vance"):
        assert fact in line


@pytest.mark.parametrize(
    ("user_id", "given_user_id", "organizer"),
    [
        pytest.param(
            "0b6c-01",
            "adelev@contoso.example",
            "organizer=Adele Vance (user_id=0b6c-01, given as adelev@contoso.example)",
            id="by UPN",
        ),
        pytest.param("0b6c-01", "0b6c-01", "organizer=Adele Vance (user_id=0b6c-01)", id="by object id"),
        pytest.param(None, None, "organizer=Adele Vance", id="/me"),
    ],
)
def test_describe_result_names_the_organizer_as_given_and_resolved(user_id, given_user_id, organizer):
    line = describe_result(MeetingResult(MEETING, True, user_id=user_id, given_user_id=given_user_id), "e")
    assert line.endswith(f"external_id=e {organizer}")


def test_describe_result_tolerates_a_sparse_meeting():
    assert "organizer=unknown" in describe_result(MeetingResult({"id": "m"}, True), "e")


@pytest.mark.parametrize(
    ("value", "url"),
    [
        pytest.param(MEETING, MEETING["joinWebUrl"], id="meeting"),
        pytest.param(None, "", id="no xcom"),
        pytest.param({"id": "m"}, "", id="no joinWebUrl"),
        pytest.param({"joinWebUrl": "javascript:alert(1)"}, "", id="not http"),
        pytest.param(["not", "a", "dict"], "", id="wrong type"),
    ],
)
def test_join_url_of(value, url):
    assert join_url_of(value) == url


def test_link_identity():
    link = JoinTeamsMeetingLink()
    assert link.name == "Join Teams meeting"
    assert link.xcom_key == "_link_JoinTeamsMeetingLink"


@pytest.mark.parametrize(
    ("state", "url"),
    [
        pytest.param("failed", "", id="failed"),
        pytest.param("up_for_retry", "", id="up_for_retry"),
        pytest.param("deferred", "", id="deferred"),
        pytest.param("success", MEETING["joinWebUrl"], id="success"),
    ],
)
def test_link_reads_the_return_value_only_of_a_task_that_succeeded(monkeypatch, state, url):
    """The task runner passes the task instance, with its final state, as ``ti_key``
    (the dag.test() level is tests/integration/operators/test_link_dag_test.py)."""
    from types import SimpleNamespace

    from airflow.sdk.execution_time.xcom import XCom

    asked: list[str] = []

    def get_value(*, ti_key, key):
        asked.append(key)
        return MEETING

    monkeypatch.setattr(XCom, "get_value", get_value)
    ti = SimpleNamespace(dag_id="d", task_id="meeting", run_id="r", map_index=-1, try_number=1, state=state)

    assert JoinTeamsMeetingLink().get_link(make_operator(), ti_key=ti) == url
    assert asked == (["return_value"] if state == "success" else [])


def test_operator_serialises_with_its_link(monkeypatch):
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    # Airflow flips this class attribute when it loads DAGs without links (dag.test() does).
    monkeypatch.setattr(DagSerialization, "_load_operator_extra_links", True)

    with DAG(dag_id="serialise_check", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        make_operator(participants={"attendees": ["alexw@contoso.example"]})
    restored = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    task = restored.get_task("meeting")

    assert "Join Teams meeting" in task.extra_links
    assert json.loads(json.dumps(DagSerialization.serialize_dag(dag)))  # plain JSON


# -- import cost ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "modules",
    [
        ("operators.online_meetings", "hooks.online_meetings", "links.online_meetings"),
        ("operators.calendar_events", "links.calendar_events"),
    ],
)
def test_importing_the_operator_module_loads_neither_msal_nor_requests(modules):
    assert loaded_by(f"airflow_provider_meetings.{module}" for module in modules) == []


@pytest.mark.parametrize("native", [False, True])
def test_external_id_template_renders_text_in_native_dags(native) -> None:
    # render_template_as_native_obj=True made "{{ item.key }}" of "20260101" the int 20260101,
    # and every item failed with "external_id: must be a string".
    from airflow.sdk import DAG

    with DAG("native_bulk", schedule=None, render_template_as_native_obj=native):
        task = BulkCreateOrGetOnlineMeetingsOperator(
            task_id="bulk",
            meetings=[],
            external_id_template="{{ item.key }}-{{ item.n }}",
            user_id="adele@contoso.example",
        )
    items = [{"key": "20260101", "n": 5, "subject": "s"}, {"key": "1e3", "n": None}]
    specs = list(task._specs(items, {"ds": "2026-01-01"}))
    assert [spec["external_id"] for spec in specs] == ["20260101-5", "1e3-None"]  # "None": refused by the hook
    with DAG("native_bulk_alone", schedule=None, render_template_as_native_obj=native):
        alone = BulkCreateOrGetOnlineMeetingsOperator(
            task_id="bulk", meetings=[], external_id_template="{{ item.key }}", user_id="adele@contoso.example"
        )
    assert [spec["external_id"] for spec in alone._specs([{"key": "20260101"}, {"key": 7}], {})] == ["20260101", "7"]
