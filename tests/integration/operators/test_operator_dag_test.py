"""CreateOrGetOnlineMeetingOperator in a real DAG run (``dag.test()``) against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import LOGICAL_DATE, dag_source, load_dag, task_instances, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

TASK = """
CreateOrGetOnlineMeetingOperator(
    task_id="meeting",
    conn_id="{{{{ params.conn_id }}}}",  # templated: rendered before the hook is built
    external_id="{{{{ dag.dag_id }}}}-{{{{ ds }}}}",
    user_id={user_id!r},
    subject="Daily review {{{{ ds }}}}",
    start_date_time="{{{{ logical_date.add(hours=9).isoformat() }}}}",
    participants={{"attendees": [{{"upn": "{{{{ params.attendee }}}}"}}]}},
    params={{"attendee": "alexw@contoso.example", "conn_id": "{conn_id}"}},
    **RETRIES,
)
"""


def load_meeting_dag(dags_folder: Path, dag_id: str, conn_id: str, user_id: str | None = None) -> Any:
    """The test DAG (one task, ``meeting``), written into the DAGs folder and imported."""
    source = dag_source(dag_id, TASK.format(conn_id=conn_id, user_id=user_id))
    return load_dag(dags_folder, dag_id, source)


def task_instance(dag_run: Any) -> Any:
    return task_instances(dag_run)["meeting"]


def test_templated_meeting_is_created_then_reused(dags_folder, graph_emulator, meetings_conn_id):
    dag = load_meeting_dag(dags_folder, "meetings_daily_review", meetings_conn_id)

    first = dag.test(logical_date=LOGICAL_DATE)
    ti = task_instance(first)
    assert ti.state == "success"

    stored = graph_emulator.meetings()
    assert [m["external_id"] for m in stored] == ["meetings_daily_review-2026-11-28"]
    meeting = stored[0]["meeting"]
    assert meeting["subject"] == "Daily review 2026-11-28"
    assert meeting["startDateTime"].startswith("2026-11-28T09:00:00")
    assert [a.get("upn") for a in meeting["participants"]["attendees"]] == ["alexw@contoso.example"]

    returned = xcom(ti, "return_value")
    assert returned["id"] == meeting["id"]
    assert xcom(ti, "created") is True
    assert xcom(ti, "_link_JoinTeamsMeetingLink") == meeting["joinWebUrl"]

    second = dag.test(logical_date=LOGICAL_DATE)
    ti2 = task_instance(second)
    assert ti2.state == "success"
    assert xcom(ti2, "created") is False
    assert xcom(ti2, "return_value")["id"] == meeting["id"]
    assert len(graph_emulator.meetings()) == 1
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"201": 1, "200": 1}


def test_permanent_error_fails_the_task_without_retries(dags_folder, graph_emulator, meetings_conn_id):
    nopolicy = graph_emulator.user("nopolicy")["id"]
    dag = load_meeting_dag(dags_folder, "meetings_no_policy", meetings_conn_id, user_id=nopolicy)

    run = dag.test(logical_date=LOGICAL_DATE)
    ti = task_instance(run)

    assert ti.state == "failed"
    assert ti.try_number == 1  # retries=2 on the task, none used
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"403": 1}
    assert graph_emulator.meetings() == []


def test_organizer_by_upn_is_looked_up_and_both_ids_are_in_xcom(dags_folder, graph_emulator, meetings_conn_id):
    alex = graph_emulator.user("alexw")
    dag = load_meeting_dag(dags_folder, "meetings_by_upn", meetings_conn_id, user_id=alex["userPrincipalName"])

    ti = task_instance(dag.test(logical_date=LOGICAL_DATE))

    assert ti.state == "success"
    assert [m["user_id"] for m in graph_emulator.meetings()] == [alex["id"]]
    assert xcom(ti, "organizer") == {"user_id": alex["id"], "given_user_id": alex["userPrincipalName"]}
    assert xcom(ti, "return_value")["participants"]["organizer"]["identity"]["user"]["id"] == alex["id"]
    assert graph_emulator.stats()["by_route"]["getUser"] == {"200": 1}


def test_unknown_organizer_upn_fails_the_task_without_retries(dags_folder, graph_emulator, meetings_conn_id):
    dag = load_meeting_dag(dags_folder, "meetings_unknown_upn", meetings_conn_id, user_id="ghost@contoso.example")

    ti = task_instance(dag.test(logical_date=LOGICAL_DATE))

    assert ti.state == "failed"
    assert ti.try_number == 1  # retries=2 on the task, none used: the user does not exist
    assert graph_emulator.stats()["by_route"]["getUser"] == {"404": 1}
    assert "createOrGet" not in graph_emulator.stats()["by_route"]
