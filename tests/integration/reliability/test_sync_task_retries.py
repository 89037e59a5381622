"""Real Airflow (``dag.test()``): tasks that move and cancel meetings, retried after transient
failures, never leave a duplicate or a cancelled meeting behind.

Each task's first try fails on purpose (the connection has no retries of its own): a PATCH
or DELETE that Graph applied but whose answer was lost, or batch items answered 503. The
second try starts over with createOrGet and finds what the first one did.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from reliability_testlib import LOGICAL_DATE, dag_source, load_dag, sync_and_cancel_tasks, task_instances, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db"), pytest.mark.timeout(180)]

BASE = datetime(2027, 2, 1, 8, tzinfo=timezone.utc)
CONN = "sync_retries_no_hook_retries"
BULK_MOVED, BULK_CANCELLED = range(20), range(20, 30)

BULK_TASK = """
BulkCreateOrGetOnlineMeetingsOperator(
    task_id="bulk",
    conn_id="{conn}",
    meetings={bulk_items!r},
    user_id="{alex}",
    update_existing=True,
    **RETRIES,
)
"""


def slot(n: int, *, moved: bool) -> tuple[str, str]:
    start = BASE + timedelta(hours=n) + (timedelta(days=7) if moved else timedelta(0))
    return start.isoformat(), (start + timedelta(minutes=50)).isoformat()


def graph_time(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def bulk_item(n: int, *, moved: bool) -> dict:
    start, end = slot(n, moved=moved)
    return {
        "external_id": f"session-{n:02d}",
        "subject": f"Session {n}",
        "start_date_time": start,
        "end_date_time": end,
    }


def test_retried_sync_tasks_leave_each_meeting_once_and_no_cancelled_one(
    dags_folder, graph_emulator, monkeypatch, make_hook
):
    users = {name: graph_emulator.user(name)["id"] for name in ("adelev", "alexw", "meganb")}
    adele, alex, megan = users["adelev"], users["alexw"], users["meganb"]
    # What the previous runs booked.
    hook = make_hook()
    lecture = hook.sync_meeting("lecture", user_id=megan, subject="Lecture", start_date_time=slot(0, moved=False)[0])
    hook.sync_meeting("interview", user_id=adele, subject="Interview")
    booked = hook.create_or_get_meetings([{**bulk_item(n, moved=False), "user_id": alex} for n in range(30)])
    ids = {r.external_id: r.meeting_id for r in booked}

    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", graph_emulator.connection_json(max_retries=0, timeout=1))
    # First tries: the PATCH and the DELETE are applied but their answers come too late;
    # 3 PATCH and 3 DELETE items of the bulk task are unavailable.
    graph_emulator.script("slow", when="after", seconds=1.5, match=f"^PATCH .*/users/{megan}/", times=1)
    graph_emulator.script("slow", when="after", seconds=1.5, match=f"^DELETE .*/users/{adele}/", times=1)
    graph_emulator.script(503, match=f"^PATCH .*/users/{alex}/", times=3)
    graph_emulator.script(503, match=f"^DELETE .*/users/{alex}/", times=3)
    items = [bulk_item(n, moved=True) for n in BULK_MOVED] + [
        {"external_id": f"session-{n:02d}", "cancelled": True} for n in BULK_CANCELLED
    ]
    lecture_start, lecture_end = slot(0, moved=True)
    tasks = sync_and_cancel_tasks(
        CONN, "lecture", lecture_start, "interview", user_id=megan, end=lecture_end, cancel_user=adele
    ) + BULK_TASK.format(conn=CONN, alex=alex, bulk_items=items)
    dag = load_dag(dags_folder, "sync_task_retries", dag_source("sync_task_retries", tasks))

    run = dag.test(logical_date=LOGICAL_DATE)
    tis = task_instances(run)

    assert {task: (ti.state, ti.try_number) for task, ti in tis.items()} == {
        "sync": ("success", 2),
        "cancel": ("success", 2),
        "bulk": ("success", 2),
    }
    stored = graph_emulator.meetings()
    counts = Counter((m["user_id"], m["external_id"]) for m in stored)
    assert counts == Counter([(megan, "lecture")] + [(alex, f"session-{n:02d}") for n in BULK_MOVED])
    meetings = {m["external_id"]: m["meeting"] for m in stored}
    # The lecture moved once, kept its id; the second try found it moved: nothing to send.
    assert meetings["lecture"]["id"] == lecture.meeting["id"]
    assert meetings["lecture"]["startDateTime"] == graph_time(lecture_start)
    assert (xcom(tis["sync"], "status"), xcom(tis["sync"], "created")) == ("unchanged", False)
    # The interview is gone; the first try deleted it, so the second found none (and left none).
    assert xcom(tis["cancel"]) == {
        "external_id": "interview",
        "user_id": adele,
        "deleted": False,
        "status": "not_found",
    }
    # Bulk: every remaining session once, moved, with its id; the cancelled ones gone.
    for n in BULK_MOVED:
        meeting = meetings[f"session-{n:02d}"]
        assert meeting["id"] == ids[f"session-{n:02d}"]
        assert (meeting["startDateTime"], meeting["endDateTime"]) == tuple(map(graph_time, slot(n, moved=True)))
    statuses = Counter(r["status"] for r in xcom(tis["bulk"]))
    # Second try: 17 moved by the first try are unchanged, 3 move now; 3 cancellations happen
    # now, 7 were done by the first try (their createOrGet made a meeting, deleted at once).
    assert statuses == {"unchanged": 17, "updated": 3, "cancelled": 3, "not_found": 7}
    by_route = graph_emulator.stats()["by_route"]
    assert by_route["updateMeeting"] == {"200": 1 + 20, "503": 3}
    assert by_route["deleteMeeting"] == {"204": 1 + 1 + 10 + 7, "503": 3}
