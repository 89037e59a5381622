"""BulkCreateOrGetOnlineMeetingsOperator in real DAG runs (``dag.test()``) against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import LOGICAL_DATE, dag_source, load_dag, task_instances, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

TASKS = """
@task
def plan():
    items = [{{"event_key": f"ev-{{i}}", "subject": f"Event {{i}}"}} for i in range(25)]
    items[3]["user_id"] = "{nopolicy}"
    items[7]["start_date_time"] = "2026-12-07T09:00:00"  # naive: refused before sending
    return items

BulkCreateOrGetOnlineMeetingsOperator(
    task_id="bulk",
    conn_id="{conn_id}",
    meetings=plan(),
    external_id_template="{{{{ dag.dag_id }}}}-{{{{ item.event_key }}}}",
    max_concurrency=2,
    progress_interval=0.2,
    retries=1,
    retry_delay=timedelta(seconds=1),
)
"""


def load_bulk_dag(dags_folder: Path, dag_id: str, conn_id: str, nopolicy: str) -> Any:
    """The test DAG (``plan`` feeding the task ``bulk``), written into the DAGs folder and imported."""
    tasks = TASKS.format(conn_id=conn_id, nopolicy=nopolicy)
    return load_dag(dags_folder, dag_id, dag_source(dag_id, tasks))


@pytest.mark.parametrize("given_as", ["id", "userPrincipalName"])
def test_bulk_operator_fails_at_the_end_naming_the_failed_items(
    dags_folder: Path, graph_emulator: Any, meetings_conn_id: str, hook_logs: Any, given_as: str
) -> None:
    dag_id = f"meetings_bulk_partial_{given_as}"
    nopolicy = graph_emulator.user("nopolicy")[given_as]  # a UPN is looked up first, then refused alike
    dag = load_bulk_dag(dags_folder, dag_id, conn_id=meetings_conn_id, nopolicy=nopolicy)

    ti = task_instances(dag.test(logical_date=LOGICAL_DATE))["bulk"]
    assert ti.state == "failed"

    stored = sorted(m["external_id"] for m in graph_emulator.meetings())
    expected = sorted(f"{dag_id}-ev-{i}" for i in range(25) if i not in (3, 7))
    assert stored == expected  # everything else was created

    results = xcom(ti, "results")
    assert [r["external_id"] for r in results] == [f"{dag_id}-ev-{i}" for i in range(25)]
    failed = {r["external_id"]: r for r in results if r["error"]}
    assert set(failed) == {f"{dag_id}-ev-3", f"{dag_id}-ev-7"}
    assert failed[f"{dag_id}-ev-3"]["error_status"] == 403 and failed[f"{dag_id}-ev-3"]["permanent"]
    # The organizer's object id, and what the item gave.
    assert failed[f"{dag_id}-ev-3"]["user_id"] == graph_emulator.user("nopolicy")["id"]
    assert failed[f"{dag_id}-ev-3"]["given_user_id"] == nopolicy
    assert failed[f"{dag_id}-ev-7"]["error"].startswith("meetings[7].start_date_time")
    ok = [r for r in results if not r["error"]]
    assert all(r["created"] and r["meeting_id"] and r["join_web_url"] for r in ok)

    errors = "\n".join(hook_logs.messages("error"))
    assert f"{dag_id}-ev-3" in errors and f"{dag_id}-ev-7" in errors
    assert "25/25 done" in hook_logs.text
    assert ti.try_number == 1  # permanent failures only: AirflowFailException, no task retry


def test_transient_failures_fail_normally_and_the_task_retry_creates_only_what_is_missing(
    dags_folder: Path, graph_emulator: Any, meetings_conn_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag_id = "meetings_bulk_rerun"
    # One retry per item, so that scripted 503s outlast the bound quickly.
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_BULK_ONE_RETRY", graph_emulator.connection_json(max_retries=1))
    # Everyone has a policy this time: the organizer of item 3 is the default organizer.
    default_user = graph_emulator.info()["default_user_id"]
    dag = load_bulk_dag(dags_folder, dag_id, conn_id="meetings_bulk_one_retry", nopolicy=default_user)
    # 24 first attempts and 16 retries fail: 8 meetings get created by the first try.
    graph_emulator.script({"status": 503}, match="createOrGet", times=40)

    ti = task_instances(dag.test(logical_date=LOGICAL_DATE))["bulk"]
    # Try 1 failed with transient errors, so the task was retried; try 2 created the
    # missing meetings and failed only for the invalid item 7 (permanent).
    assert ti.try_number == 2 and ti.state == "failed"
    results = xcom(ti, "results")
    assert sum(1 for r in results if r["created"]) == 16
    assert sum(1 for r in results if r["created"] is False) == 8
    assert [r["external_id"] for r in results if r["error"]] == [f"{dag_id}-ev-7"]
    stored = [m["external_id"] for m in graph_emulator.meetings()]
    assert len(stored) == len(set(stored)) == 24
