"""Deferrable operators in real DAG runs (``dag.test()``) against the emulator.

``dag.test()`` runs a deferred task's trigger in line (Airflow's own ``DateTimeTrigger``),
then resumes the task in ``execute_complete``: the whole deferral, without a triggerer
process. The emulator answers 429 with a ``Retry-After`` longer than ``defer_after``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from reliability_testlib import load_dag, task_instances, xcom

from airflow_provider_meetings.deferral import XCOM_DEFERRAL

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

LOGICAL_DATE = datetime(2026, 11, 28, tzinfo=timezone.utc)
#: Graph's pause in these tests; the operators defer for anything above 1 s.
RETRY_AFTER = 3

BULK_DAG = """
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import BulkCreateOrGetOnlineMeetingsOperator

with DAG(dag_id="{dag_id}", schedule=None, catchup=False, params={{"meetings": []}}, render_template_as_native_obj=True) as dag:
    BulkCreateOrGetOnlineMeetingsOperator(
        task_id="bulk",
        conn_id="{conn_id}",
        meetings="{{{{ params.meetings }}}}",
        update_existing=True,
        deferrable=True,
        defer_after=1,
        max_deferrals={max_deferrals},
    )
"""

SINGLE_DAG = """
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import (
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
)

with DAG(dag_id="{dag_id}", schedule=None, catchup=False, render_template_as_native_obj=True) as dag:
    create = CreateOrGetOnlineMeetingOperator(
        task_id="create",
        conn_id="{conn_id}",
        external_id="{{{{ dag.dag_id }}}}-lecture",
        subject="Lecture",
        deferrable=True,
        defer_after=1,
        max_deferrals=3,
    )
    create >> DeleteOnlineMeetingOperator(
        task_id="delete",
        conn_id="{conn_id}",
        external_id="{{{{ dag.dag_id }}}}-nothing",
        deferrable=True,
        defer_after=1,
    )
"""


def throttle(emulator, match: str, times: int) -> None:
    """The next ``times`` Graph requests (``$batch`` items included) matching ``match`` answer
    429 with a Retry-After of :data:`RETRY_AFTER` seconds."""
    emulator.script({"status": 429, "retry_after": RETRY_AFTER}, times=times, match=match)


def meetings(*keys: str, **extra) -> list[dict]:
    return [{"external_id": key, "subject": f"Event {key}", **extra} for key in keys]


def test_bulk_task_defers_and_sends_only_what_was_not_done(dags_folder, graph_emulator, meetings_conn_id):
    dag = load_dag(
        dags_folder, "deferral_bulk", BULK_DAG.format(dag_id="deferral_bulk", conn_id=meetings_conn_id, max_deferrals=3)
    )
    items = meetings(*(f"deferral-bulk-{i}" for i in range(6)))
    throttle(graph_emulator, "createOrGet", times=3)  # the first three items of the batch

    started = time.monotonic()
    tis = task_instances(dag.test(logical_date=LOGICAL_DATE, run_conf={"meetings": items}))
    assert time.monotonic() - started >= RETRY_AFTER  # waited, in the (in-line) trigger

    assert tis["bulk"].state == "success"
    assert xcom(tis["bulk"], XCOM_DEFERRAL)["deferrals"] == 1
    results = xcom(tis["bulk"])
    assert [(r["index"], r["external_id"], r["status"], r["created"], r["error"]) for r in results] == [
        (i, f"deferral-bulk-{i}", "created", True, None) for i in range(6)
    ]
    # Each item was created once; the three done before the deferral were not sent again (no 200).
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"429": 3, "201": 6}
    held = {m["external_id"]: m["meeting"] for m in graph_emulator.meetings()}
    assert sorted(held) == [f"deferral-bulk-{i}" for i in range(6)]
    assert [r["meeting_id"] for r in results] == [held[f"deferral-bulk-{i}"]["id"] for i in range(6)]


def test_bulk_sync_and_cancel_after_deferral_report_what_a_run_without_it_would(
    dags_folder, graph_emulator, meetings_conn_id
):
    dag = load_dag(
        dags_folder, "deferral_sync", BULK_DAG.format(dag_id="deferral_sync", conn_id=meetings_conn_id, max_deferrals=3)
    )
    start = {"start_date_time": "2027-03-01T09:00:00Z"}
    first = meetings("sync-moved", "sync-same", "sync-cancelled", **start)
    tis = task_instances(dag.test(logical_date=LOGICAL_DATE, run_conf={"meetings": first}))
    assert [r["status"] for r in xcom(tis["bulk"])] == ["created"] * 3

    second = [
        {**first[0], "start_date_time": "2027-03-01T10:00:00Z"},  # moved: PATCH
        first[1],  # unchanged
        {"external_id": "sync-cancelled", "cancelled": True},  # existed: cancelled
        {"external_id": "sync-never-booked", "cancelled": True},  # none existed: not_found
    ]
    throttle(graph_emulator, "^(PATCH|DELETE) ", times=3)  # every PATCH and DELETE of step 2, once
    tis = task_instances(
        dag.test(logical_date=datetime(2026, 11, 29, tzinfo=timezone.utc), run_conf={"meetings": second})
    )

    assert tis["bulk"].state == "success"
    assert xcom(tis["bulk"], XCOM_DEFERRAL)["deferrals"] == 1
    results = xcom(tis["bulk"])
    assert [(r["external_id"], r["status"]) for r in results] == [
        ("sync-moved", "updated"),
        ("sync-same", "unchanged"),
        ("sync-cancelled", "cancelled"),
        ("sync-never-booked", "not_found"),
    ]
    assert sorted(m["external_id"] for m in graph_emulator.meetings()) == ["sync-moved", "sync-same"]
    by_route = graph_emulator.stats()["by_route"]
    assert by_route["updateMeeting"] == {"429": 1, "200": 1}
    assert by_route["deleteMeeting"] == {"429": 2, "204": 2}


def test_bulk_task_fails_naming_the_items_when_it_may_defer_no_more(dags_folder, graph_emulator, meetings_conn_id):
    dag = load_dag(
        dags_folder, "deferral_cap", BULK_DAG.format(dag_id="deferral_cap", conn_id=meetings_conn_id, max_deferrals=1)
    )
    alex = graph_emulator.user("alexw")["id"]
    items = [*meetings("cap-0"), *meetings("cap-1", user_id=alex)]
    # Item 0 (the default organizer) is throttled before the deferral and again after it;
    # item 1 (another organizer, another path) is not.
    throttle(graph_emulator, f"^POST /users/(?!{alex}).*/createOrGet", times=2)

    tis = task_instances(dag.test(logical_date=LOGICAL_DATE, run_conf={"meetings": items}))

    assert tis["bulk"].state == "failed"
    assert xcom(tis["bulk"], XCOM_DEFERRAL)["deferrals"] == 1
    results = xcom(tis["bulk"], "results")
    assert [r["status"] for r in results] == [None, "created"]
    assert results[0]["permanent"] is False and "Retry-After" not in results[0]["error"]
    assert "asked to wait" in results[0]["error"]
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"429": 2, "201": 1}


def test_single_and_delete_tasks_defer_and_resume(dags_folder, graph_emulator, meetings_conn_id):
    dag = load_dag(
        dags_folder, "deferral_single", SINGLE_DAG.format(dag_id="deferral_single", conn_id=meetings_conn_id)
    )
    throttle(graph_emulator, "createOrGet", times=1)  # the create task's first request
    throttle(graph_emulator, "^DELETE ", times=1)  # the delete task's DELETE, after its createOrGet

    tis = task_instances(dag.test(logical_date=LOGICAL_DATE))

    assert {ti.state for ti in tis.values()} == {"success"}
    assert xcom(tis["create"], XCOM_DEFERRAL)["deferrals"] == 1
    assert xcom(tis["create"], "status") == "created" and xcom(tis["create"], "created") is True
    assert xcom(tis["delete"], XCOM_DEFERRAL)["deferrals"] == 1
    assert xcom(tis["delete"]) == {
        "external_id": "deferral_single-nothing",
        "user_id": None,
        "deleted": False,
        "status": "not_found",
    }
    by_route = graph_emulator.stats()["by_route"]
    # The delete task's createOrGet ran once: after resuming it sent only the DELETE.
    assert by_route["createOrGet"] == {"429": 1, "201": 2}
    assert by_route["deleteMeeting"] == {"429": 1, "204": 1}
    assert [m["external_id"] for m in graph_emulator.meetings()] == ["deferral_single-lecture"]


UPN_DAG = """
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
)

with DAG(dag_id="{dag_id}", schedule=None, catchup=False) as dag:
    single = CreateOrGetOnlineMeetingOperator(
        task_id="single", conn_id="{conn_id}", external_id="upn-single", user_id="{alex}", deferrable=True, defer_after=1
    )
    single >> BulkCreateOrGetOnlineMeetingsOperator(
        task_id="bulk",
        conn_id="{conn_id}",
        meetings=[{{"external_id": "upn-bulk-0"}}, {{"external_id": "upn-bulk-1"}}],
        user_id="{megan}",
        deferrable=True,
        defer_after=1,
    )
"""


def test_an_organizer_lookup_told_to_wait_long_defers_the_task(dags_folder, graph_emulator, meetings_conn_id):
    alex, megan = (graph_emulator.user(name)["userPrincipalName"] for name in ("alexw", "meganb"))
    source = UPN_DAG.format(dag_id="deferral_upn", conn_id=meetings_conn_id, alex=alex, megan=megan)
    dag = load_dag(dags_folder, "deferral_upn", source)
    throttle(graph_emulator, "^GET /users/alexw", times=1)  # the single task's lookup
    throttle(graph_emulator, "^GET /users/meganb", times=1)  # the bulk task's ($batch item)

    tis = task_instances(dag.test(logical_date=LOGICAL_DATE))

    assert {ti.state for ti in tis.values()} == {"success"}
    assert xcom(tis["single"], XCOM_DEFERRAL)["deferrals"] == 1
    assert xcom(tis["bulk"], XCOM_DEFERRAL)["deferrals"] == 1
    assert [r["status"] for r in xcom(tis["bulk"])] == ["created", "created"]
    assert xcom(tis["single"], "organizer") == {"user_id": graph_emulator.user("alexw")["id"], "given_user_id": alex}
    assert sorted(m["external_id"] for m in graph_emulator.meetings()) == ["upn-bulk-0", "upn-bulk-1", "upn-single"]


# -- deferral beyond Retry-After (issue 20, item 9): any next wait longer than defer_after -----

BACKOFF_DAG = """
from airflow.sdk import DAG

from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
)

with DAG(dag_id="{dag_id}", schedule=None, catchup=False) as dag:
    single = CreateOrGetOnlineMeetingOperator(
        task_id="single", conn_id="{conn_id}", external_id="backoff-single", deferrable=True, defer_after=1
    )
    single >> BulkCreateOrGetOnlineMeetingsOperator(
        task_id="bulk",
        conn_id="{conn_id}",
        meetings=[{{"external_id": "backoff-bulk-%d" % n}} for n in range(5)],
        deferrable=True,
        defer_after=1,
    )
"""


def test_a_backoff_longer_than_defer_after_defers_on_a_later_retry(dags_folder, graph_emulator, meetings_conn_id):
    # 5xx and dropped $batch requests without Retry-After: the backoff (1 s base, doubling)
    # is slept while it is at most defer_after (the first retry: 0.5-1 s), and the next,
    # longer one (1-2 s) defers the task, on its second retry, not only on a first attempt.
    dag = load_dag(
        dags_folder, "deferral_backoff", BACKOFF_DAG.format(dag_id="deferral_backoff", conn_id=meetings_conn_id)
    )
    graph_emulator.script(503, times=3, match="^POST .*createOrGet")  # the single task's own requests
    graph_emulator.script("drop", times=2, match=r"\$batch")  # the bulk task's whole $batch, twice in a row

    tis = task_instances(dag.test(logical_date=LOGICAL_DATE))

    assert {ti.state for ti in tis.values()} == {"success"}, {t: ti.state for t, ti in tis.items()}
    assert xcom(tis["single"], XCOM_DEFERRAL)["deferrals"] == 1
    assert xcom(tis["bulk"], XCOM_DEFERRAL)["deferrals"] == 1
    assert xcom(tis["single"], "status") == "created"
    assert [r["status"] for r in xcom(tis["bulk"])] == ["created"] * 5
    stats = graph_emulator.stats()
    # single: 503, 503 (then deferred), 503 after resuming (slept), 201; bulk: 5 created once each
    assert stats["by_route"]["createOrGet"] == {"503": 3, "201": 6}, stats["by_route"]
    assert stats["faults_applied"] == 5 and stats["pending_faults"] == 0
    assert sorted(m["external_id"] for m in graph_emulator.meetings()) == [
        "backoff-bulk-0",
        "backoff-bulk-1",
        "backoff-bulk-2",
        "backoff-bulk-3",
        "backoff-bulk-4",
        "backoff-single",
    ]
