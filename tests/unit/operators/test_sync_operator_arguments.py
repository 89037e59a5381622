"""The sync and cancel arguments of the operators, without a network."""

from __future__ import annotations

import inspect

import pytest

from airflow_provider_meetings.graph.errors import GraphAPIError
from airflow_provider_meetings.meetings.results import BulkItemResult, MeetingResult, SyncResult
from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
    describe_result,
    status_of,
)
from airflow_provider_meetings.operators.task_outcome import summarize


def test_update_existing_is_off_unless_asked() -> None:
    assert CreateOrGetOnlineMeetingOperator(task_id="t", external_id="e").update_existing is False
    assert CreateOrGetOnlineMeetingOperator(task_id="t", external_id="e", update_existing=True).update_existing is True
    assert BulkCreateOrGetOnlineMeetingsOperator(task_id="b", meetings=[]).update_existing is False
    assert BulkCreateOrGetOnlineMeetingsOperator(task_id="b", meetings=[], update_existing=True).update_existing


def test_delete_operator_arguments() -> None:
    assert tuple(DeleteOnlineMeetingOperator.template_fields) == ("conn_id", "external_id", "user_id")
    assert tuple(DeleteOnlineMeetingOperator.template_ext) == ()
    parameters = inspect.signature(DeleteOnlineMeetingOperator.__init__).parameters
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for name, p in parameters.items() if name != "self")
    op = DeleteOnlineMeetingOperator(
        task_id="cancel", external_id="{{ dag.dag_id }}-{{ ds }}", user_id="{{ params.u }}"
    )
    assert (op.conn_id, op.external_id, op.user_id) == (
        "msgraph_meetings_default",
        "{{ dag.dag_id }}-{{ ds }}",
        "{{ params.u }}",
    )
    assert DeleteOnlineMeetingOperator(task_id="c", external_id="e", conn_id="prod").hook.conn_id == "prod"
    with pytest.raises(TypeError):
        DeleteOnlineMeetingOperator("cancel", "e")  # type: ignore[misc]


def test_delete_operator_renders_its_templates() -> None:
    from airflow.sdk import DAG

    with DAG(dag_id="render_delete", schedule=None):
        op = DeleteOnlineMeetingOperator(
            task_id="cancel",
            external_id="{{ params.key }}",
            user_id="{{ params.who }}",
            params={"key": "k", "who": "w"},
        )
    op.render_template_fields({"params": op.params})
    assert (op.external_id, op.user_id) == ("k", "w")


MEETING = {"id": "MSo1", "joinWebUrl": "https://teams.example/j"}


@pytest.mark.parametrize(
    ("result", "status", "verb"),
    [
        pytest.param(MeetingResult(MEETING, True), "created", "Created", id="201"),
        pytest.param(MeetingResult(MEETING, False), "existing", "Reused existing", id="200"),
        pytest.param(SyncResult(MEETING, True, status="created"), "created", "Created", id="sync created"),
        pytest.param(SyncResult(MEETING, False, status="updated"), "updated", "Updated", id="sync updated"),
        pytest.param(SyncResult(MEETING, False, status="unchanged"), "unchanged", "Unchanged", id="sync unchanged"),
    ],
)
def test_status_and_log_line(result: MeetingResult, status: str, verb: str) -> None:
    assert status_of(result) == status
    assert describe_result(result, "ev-1").startswith(f"{verb} Teams meeting id=MSo1")


def test_summarize_names_what_happened() -> None:
    results = [
        BulkItemResult(0, "a", None, meeting=MEETING, created=True, outcome="created"),
        BulkItemResult(1, "b", None, meeting=MEETING, created=False, outcome="updated"),
        BulkItemResult(2, "c", None, meeting=MEETING, created=False, outcome="updated"),
        BulkItemResult(3, "d", None, created=False, outcome="not_found"),
        BulkItemResult(4, "e", None, error=GraphAPIError(503, "x", "y")),
    ]
    assert summarize(results) == "1 created, 2 updated, 1 not found, 1 failed"
    assert summarize([]) == "0 failed"
    assert results[1].to_dict()["status"] == "updated" and results[4].to_dict()["status"] is None
