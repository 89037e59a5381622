"""Real Airflow (``dag.test()``): a task retry after a transient failure reuses the meetings
already made; permanent errors fail the task with the message and spend no retries.
"""

from __future__ import annotations

import pytest
from reliability_testlib import (
    LOGICAL_DATE,
    Expected,
    assert_exactly_once,
    dag_source,
    load_dag,
    nothing_sent,
    task_instances,
    xcom,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db"), pytest.mark.timeout(120)]

RETRY_TASKS = """
BulkCreateOrGetOnlineMeetingsOperator(
    task_id="bulk",
    conn_id="issue6_no_hook_retries",
    meetings=[{{"event": f"ev-{{n:02d}}"}} for n in range(30)],
    external_id_template="{{{{ dag.dag_id }}}}-{{{{ ds }}}}-{{{{ item.event }}}}",
    user_id="{bulk_user}",
    **RETRIES,
)
CreateOrGetOnlineMeetingOperator(
    task_id="single",
    conn_id="issue6_no_hook_retries",
    external_id="{{{{ dag.dag_id }}}}-{{{{ ds }}}}-single",
    user_id="{single_user}",
    **RETRIES,
)
"""


def test_task_retry_after_transient_failures_reuses_what_exists(dags_folder, graph_emulator, monkeypatch):
    graph_emulator.reset()
    alex, megan = graph_emulator.user("alexw")["id"], graph_emulator.user("meganb")["id"]
    # No retries inside the hook: the first try of each task fails on its first transient fault.
    monkeypatch.setenv("AIRFLOW_CONN_ISSUE6_NO_HOOK_RETRIES", graph_emulator.connection_json(max_retries=0, timeout=1))
    # Bulk: 5 of 30 items are unavailable (503) on the first try, the other 25 are created.
    graph_emulator.script(503, times=5, match=f"/users/{alex}/")
    # Single: the meeting is created, then the answer takes longer than the 1 s timeout.
    graph_emulator.script("slow", when="after", seconds=1.5, match=f"/users/{megan}/")
    tasks = RETRY_TASKS.format(bulk_user=alex, single_user=megan)
    dag = load_dag(dags_folder, "issue6_task_retries", dag_source("issue6_task_retries", tasks))

    run = dag.test(logical_date=LOGICAL_DATE)
    tis = task_instances(run)

    prefix = "issue6_task_retries-2026-11-28"
    expected = [Expected(alex, f"{prefix}-ev-{n:02d}") for n in range(30)] + [Expected(megan, f"{prefix}-single")]
    stored = assert_exactly_once(graph_emulator, expected)
    assert (tis["bulk"].state, tis["bulk"].try_number) == ("success", 2)
    assert (tis["single"].state, tis["single"].try_number) == ("success", 2)

    bulk = xcom(tis["bulk"])
    # Second try: the 25 made by the first try come back (200), only the 5 missing are created.
    assert sorted(r["created"] for r in bulk) == [False] * 25 + [True] * 5
    assert {r["meeting_id"] for r in bulk} == {stored[(alex, e.external_id)]["id"] for e in expected[:30]}
    single = xcom(tis["single"])
    assert single["id"] == stored[(megan, f"{prefix}-single")]["id"]
    assert xcom(tis["single"], "created") is False  # made by the first try, whose answer was lost
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"201": 31, "503": 5, "200": 26}


PERMANENT_TASKS = """
CreateOrGetOnlineMeetingOperator(
    task_id="end_before_start", conn_id="{conn}", external_id="x",
    start_date_time="2026-11-28T10:00:00Z", end_date_time="2026-11-28T09:00:00Z", **RETRIES,
)
CreateOrGetOnlineMeetingOperator(
    task_id="user_id_with_path", conn_id="{conn}", external_id="x", user_id="../me", **RETRIES,
)
CreateOrGetOnlineMeetingOperator(
    task_id="unknown_cloud", conn_id="issue6_unknown_cloud", external_id="x", **RETRIES,
)
BulkCreateOrGetOnlineMeetingsOperator(
    task_id="bulk_all_invalid", conn_id="{conn}",
    meetings=[{{"external_id": ""}}, {{"external_id": "x", "start_date_time": "2026-11-28T10:00:00"}}],
    **RETRIES,
)
BulkCreateOrGetOnlineMeetingsOperator(  # a template renders to text unless render_template_as_native_obj
    task_id="bulk_rendered_to_text", conn_id="{conn}", meetings="{{{{ params.items }}}}",
    params={{"items": [{{"external_id": "a"}}]}}, **RETRIES,
)
"""


def test_bad_input_fails_the_task_at_once_without_requests(
    dags_folder, graph_emulator, meetings_conn_id, monkeypatch, capfd
):
    monkeypatch.setenv("AIRFLOW_CONN_ISSUE6_UNKNOWN_CLOUD", graph_emulator.connection_json(cloud="azure-germany"))
    tasks = PERMANENT_TASKS.format(conn=meetings_conn_id)
    dag = load_dag(dags_folder, "issue6_permanent_failures", dag_source("issue6_permanent_failures", tasks))

    with nothing_sent(graph_emulator):
        run = dag.test(logical_date=LOGICAL_DATE)
    tis = task_instances(run)

    for task_id, ti in tis.items():
        assert (ti.state, ti.try_number) == ("failed", 1), f"{task_id}: a permanent error spent a task retry"
    # The task log (dag.test() writes it to stdout) carries the provider's message.
    output = capfd.readouterr()
    log = output.out + output.err
    for text in (
        "InvalidRequestError: end_date_time: end_date_time '2026-11-28T09:00:00Z'",
        "InvalidRequestError: user_id: '../me' is neither an Entra object id",
        "ConnectionConfigError: connection field 'cloud': 'azure-germany' is not one of",
        "2 of 2 meeting(s) failed (the other 0 are done): meetings[0]: meetings[0].external_id: is empty",
        "meetings[1].start_date_time: '2026-11-28T10:00:00' has no timezone",
        "meetings must be a list of meeting mappings (or an XCom of one), got str",
    ):
        assert text in log, text
