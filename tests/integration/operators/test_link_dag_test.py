"""The "Join Teams meeting" link in a real DAG run (``dag.test()``) against the emulator.

Airflow's task runner calls the link's ``get_link`` after every try (``finalize``), and the
worker's API client logs ``[error] XCom not found`` for an XCom that does not exist: a task
that failed before returning a meeting must not get that false second error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import LOGICAL_DATE, dag_source, load_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

TASK = """
CreateOrGetOnlineMeetingOperator(
    task_id="meeting",
    conn_id="{conn_id}",
    external_id="{dag_id}-2026-12-01",
    subject="Link check",
    start_date_time={start},
)
"""


def load_link_dag(dags_folder: Path, dag_id: str, conn_id: str, start: str) -> Any:
    """The test DAG, written into the DAGs folder and imported."""
    task = TASK.format(dag_id=dag_id, conn_id=conn_id, start=start)
    return load_dag(dags_folder, dag_id, dag_source(dag_id, task))


def run_and_capture(dag: Any, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """The task instance of a ``dag.test()`` run, and what the run printed (the task's log lines)."""
    capsys.readouterr()
    run = dag.test(logical_date=LOGICAL_DATE)
    captured = capsys.readouterr()
    (ti,) = run.get_task_instances()
    return ti, captured.out + captured.err


def test_task_failing_on_bad_input_logs_no_xcom_error_from_the_link(
    dags_folder, graph_emulator, meetings_conn_id, capsys
):
    naive = "datetime(2026, 12, 1, 9, 0)"  # no tzinfo: rejected before any request
    dag = load_link_dag(dags_folder, "meetings_link_failed", meetings_conn_id, naive)

    ti, output = run_and_capture(dag, capsys)

    assert ti.state == "failed"
    assert "is a naive datetime" in output  # the task's own error is in the captured log
    # finalize() ran get_link: the link is stored (Airflow 3.3 also logs "::group::Post Execute"; 3.2 does not)
    assert "XCom not found" not in output
    assert xcom(ti, "_link_JoinTeamsMeetingLink") == ""  # the link was still stored, empty
    assert graph_emulator.meetings() == []


def test_successful_task_still_gets_the_join_url(dags_folder, graph_emulator, meetings_conn_id, capsys):
    aware = "datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)"
    dag = load_link_dag(dags_folder, "meetings_link_success", meetings_conn_id, aware)

    ti, output = run_and_capture(dag, capsys)

    assert ti.state == "success"
    (stored,) = graph_emulator.meetings()
    assert stored["meeting"]["joinWebUrl"].startswith("https://")
    assert xcom(ti, "_link_JoinTeamsMeetingLink") == stored["meeting"]["joinWebUrl"]
    assert "XCom not found" not in output
