"""Deferral on a real deployment: a long wait before a retry, the tasks wait in the triggerer.

``example_deferrable_meetings`` (``deferrable=True``, ``defer_after=5``) on LocalExecutor and
on CeleryExecutor (two Celery workers), with PostgreSQL and the stack's triggerer. Two causes
of a long wait: the emulator answers 429 with a ``Retry-After`` longer than ``defer_after``;
or it fails requests without ``Retry-After`` (503s for the kickoff, dropped ``$batch``
requests for the tutorials) until the exponential backoff outgrows ``defer_after`` (issue 20,
item 9). Through the REST API the test sees both tasks ``deferred`` on Airflow's
``DateTimeTrigger``, then the run succeed in one try each, every meeting exactly once, and
the emulator's counts show that the bulk task did not send again what it had finished.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_testlib import assert_meetings_exactly_once, past_anchor

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module", params=["local", "celery"])
def stack(request: pytest.FixtureRequest, stack_runner: Any) -> Any:
    """The stack with each executor in turn (pytest runs every test of one before the other)."""
    return stack_runner.up(request.param)


DAG_ID = "example_deferrable_meetings"
BULK_TASK = "create_or_get_tutorials"
SINGLE_TASK = "create_or_get_kickoff"
#: The DAG's organizers (the emulator's Adele Vance and Alex Wilber).
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
LEAD = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
#: Graph's pause: longer than the DAG's defer_after (5 s), short enough for a quick test.
RETRY_AFTER = 10
TUTORIALS = 6
THROTTLED_TUTORIALS = 3
#: Failures without Retry-After in a row: the backoff (1 s base, doubling, equal jitter) is
#: 4-8 s before the 4th retry and 8-16 s before the 5th, so one of them exceeds defer_after.
FAILURES_IN_A_ROW = 5
#: A day of its own for each test and executor (a logical date is unique per DAG).
DAYS_AGO = {
    ("retry_after", "local"): 3,
    ("retry_after", "celery"): 4,
    ("backoff", "local"): 5,
    ("backoff", "celery"): 6,
}


def trigger(stack: Any, cause: str) -> tuple[str, Any]:
    anchor = past_anchor(days_ago=DAYS_AGO[cause, stack.info["executor"]])
    run_id = stack.api.trigger(DAG_ID, logical_date=anchor.isoformat(), conf={"tutorials": TUTORIALS})["dag_run_id"]
    stack.api.set_paused(DAG_ID, False)
    return run_id, anchor


def test_throttled_tasks_defer_to_the_triggerer_and_resume(stack) -> None:
    api, emulator = stack.api, stack.emulator
    emulator.reset()
    throttled = {"status": 429, "retry_after": RETRY_AFTER}
    # The first three tutorials of the $batch (their organizer's path) and the kickoff, once each.
    emulator.script(throttled, times=THROTTLED_TUTORIALS, match=f"/users/{ORGANIZER}/")
    emulator.script(throttled, times=1, match=f"/users/{LEAD}/")

    run_id, anchor = trigger(stack, "retry_after")
    see_both_deferred(api, run_id)

    see_success_after_one_deferral(api, run_id)

    day = f"{anchor:%Y%m%d}"
    expected = {f"{DAG_ID}-{day}-kickoff", *(f"{DAG_ID}-{day}-tutorial-{week}" for week in range(1, TUTORIALS + 1))}
    meetings = assert_meetings_exactly_once(emulator, expected, f"{DAG_ID}-")
    # Every meeting created once; the tutorials done before the deferral were not sent again
    # (they would have answered 200), only the throttled ones were.
    assert emulator.stats()["by_route"]["createOrGet"] == {"429": THROTTLED_TUTORIALS + 1, "201": TUTORIALS + 1}

    results = api.xcom(DAG_ID, run_id, BULK_TASK)
    assert [(r["index"], r["status"], r["error"]) for r in results] == [(i, "created", None) for i in range(TUTORIALS)]
    assert [r["join_web_url"] for r in results] == [
        meetings[f"{DAG_ID}-{day}-tutorial-{week}"]["joinWebUrl"] for week in range(1, TUTORIALS + 1)
    ]
    assert api.xcom(DAG_ID, run_id, SINGLE_TASK, key="status") == "created"


def test_a_backoff_longer_than_defer_after_defers_the_tasks(stack) -> None:
    api, emulator = stack.api, stack.emulator
    emulator.reset()
    # No Retry-After anywhere: only the growing backoff makes a wait longer than defer_after.
    emulator.script(503, times=FAILURES_IN_A_ROW, match=f"/users/{LEAD}/")  # the kickoff's createOrGet
    emulator.script("drop", times=FAILURES_IN_A_ROW, match=r"\$batch")  # the tutorials' whole $batch

    run_id, anchor = trigger(stack, "backoff")
    see_both_deferred(api, run_id)
    see_success_after_one_deferral(api, run_id)

    day = f"{anchor:%Y%m%d}"
    expected = {f"{DAG_ID}-{day}-kickoff", *(f"{DAG_ID}-{day}-tutorial-{week}" for week in range(1, TUTORIALS + 1))}
    assert_meetings_exactly_once(emulator, expected, f"{DAG_ID}-")
    stats = emulator.stats()
    assert stats["pending_faults"] == 0 and stats["faults_applied"] == 2 * FAILURES_IN_A_ROW
    assert stats["by_route"]["createOrGet"] == {"503": FAILURES_IN_A_ROW, "201": TUTORIALS + 1}
    results = api.xcom(DAG_ID, run_id, BULK_TASK)
    assert [(r["index"], r["status"], r["error"]) for r in results] == [(i, "created", None) for i in range(TUTORIALS)]
    assert api.xcom(DAG_ID, run_id, SINGLE_TASK, key="status") == "created"


def see_both_deferred(api: Any, run_id: str) -> None:
    """Wait until both tasks were seen ``deferred`` on the triggerer's time trigger."""
    deferred: dict[str, dict[str, Any]] = {}

    def both_seen_deferred(instances: list[dict[str, Any]]) -> bool:
        for ti in instances:
            if ti["state"] == "deferred":
                deferred.setdefault(ti["task_id"], ti)
        return {BULK_TASK, SINGLE_TASK} <= set(deferred)

    api.wait_for_task_states(DAG_ID, run_id, both_seen_deferred, timeout=300, what="both tasks deferred", every=0.5)
    for ti in deferred.values():
        # Waiting on the triggerer's time trigger, not in a worker process.
        assert ti["trigger"]["classpath"].endswith("temporal.DateTimeTrigger"), ti


def see_success_after_one_deferral(api: Any, run_id: str) -> None:
    """The run succeeds; each task resumed once in its first try (not retried)."""
    finished = api.wait_for_run(DAG_ID, run_id, timeout=300)
    assert finished["state"] == "success", api.task_states(DAG_ID, run_id)
    for task_id in (BULK_TASK, SINGLE_TASK):
        tries = api.task_tries(DAG_ID, run_id, task_id)
        assert [t["try_number"] for t in tries] == [1], tries  # resumed, not retried
        assert api.xcom(DAG_ID, run_id, task_id, key="deferral")["deferrals"] == 1
