"""``CreateOrGetOnlineMeetingOperator(update_existing=True)`` and ``DeleteOnlineMeetingOperator``
in real DAG runs (``dag.test()``) against the emulator: what they do and what they push to XCom."""

from __future__ import annotations

import pytest
from reliability_testlib import LOGICAL_DATE, dag_source, load_dag, sync_and_cancel_tasks, task_instances, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

PARAMS = 'params={"start": "2027-03-01T09:00:00+01:00", "cancel": "nothing"}'


def run(dag, **conf):
    tis = task_instances(dag.test(logical_date=LOGICAL_DATE, run_conf=conf))
    assert {(ti.state, ti.try_number) for ti in tis.values()} == {("success", 1)}  # no task retry needed
    return tis


def test_sync_then_cancel_through_the_operators(dags_folder, graph_emulator, meetings_conn_id):
    tasks = sync_and_cancel_tasks(
        meetings_conn_id, "{{ dag.dag_id }}-lecture", "{{ params.start }}", "{{ params.cancel }}"
    )
    dag = load_dag(dags_folder, "sync_operators", dag_source("sync_operators", tasks, dag_arguments=PARAMS))
    statuses = []
    meetings = []
    for start in ("2027-03-01T09:00:00+01:00", "2027-03-02T09:00:00+01:00", "2027-03-02T08:00:00Z"):
        tis = run(dag, start=start)
        statuses.append((xcom(tis["sync"], "status"), xcom(tis["sync"], "created")))
        meetings.append(xcom(tis["sync"]))
        assert xcom(tis["cancel"]) == {
            "external_id": "nothing",
            "user_id": None,
            "deleted": False,
            "status": "not_found",
        }

    assert statuses == [("created", True), ("updated", False), ("unchanged", False)]
    assert len({m["id"] for m in meetings}) == 1 and len({m["joinWebUrl"] for m in meetings}) == 1
    assert meetings[1]["startDateTime"] == meetings[2]["startDateTime"] == "2027-03-02T08:00:00.0000000Z"
    assert graph_emulator.stats()["by_route"]["updateMeeting"] == {"200": 1}
    assert [m["external_id"] for m in graph_emulator.meetings()] == ["sync_operators-lecture"]

    tis = run(dag, start="2027-03-02T08:00:00Z", cancel="sync_operators-lecture")
    assert xcom(tis["sync"], "status") == "unchanged"
    assert (xcom(tis["cancel"], "status"), xcom(tis["cancel"])["deleted"]) == ("cancelled", True)
    assert graph_emulator.meetings() == []
    assert graph_emulator.stats()["by_route"]["deleteMeeting"] == {"204": 4}  # 3 of "nothing", 1 of the lecture
