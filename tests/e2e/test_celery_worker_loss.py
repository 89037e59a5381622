"""CeleryExecutor with two workers: one dies (SIGKILL) while mapped tasks run; every meeting still exists once.

What brings the run home in Airflow 3.3: the dead worker's tasks stop heartbeating; after
``[scheduler] task_instance_heartbeat_timeout`` (30 s in the stack) the scheduler fails
them, the dag-processor runs their failure handling, the sample DAG's ``retries=2`` puts
them up for retry after ``retry_delay`` (1 minute), and the surviving worker runs them
again. createOrGet then returns the meeting the first try created (HTTP 200).
"""

from __future__ import annotations

import time

import psutil
import pytest
from e2e_testlib import CANCEL_TASK, DAG_ID, MAPPED_TASK, assert_meetings_exactly_once, external_id, not_successful
from meetings_stack.processes import kill_tree

pytestmark = pytest.mark.timeout(900)

#: Graph answers each createOrGet this long after creating the meeting: the window in
#: which the worker dies (shorter than the connection's 30 s request timeout).
SLOW_ANSWER_S = 25


def test_a_killed_worker_loses_no_meeting_and_books_none_twice(celery_stack, events_run) -> None:
    api, emulator = celery_stack.api, celery_stack.emulator
    workers = celery_stack.celery_workers()
    assert len(workers) == 2 and all(r.alive() for r in workers.values())
    emulator.reset()
    # The first four createOrGet calls create their meeting, then answer 25 s late.
    emulator.script({"kind": "slow", "seconds": SLOW_ANSWER_S}, when="after", match="createOrGet", times=4)

    run = events_run(celery_stack, days_ago=3)

    def all_mapped_running_and_booked(instances: list[dict]) -> bool:
        running = [ti for ti in run.mapped(instances) if ti["state"] == "running" and ti["pid"]]
        return len(running) == len(run.events) and not emulator.pending_faults()

    instances = api.wait_for_task_states(
        DAG_ID, run.run_id, all_mapped_running_and_booked, timeout=240, what="every mapped task running"
    )
    assert len(emulator.meetings()) == 4  # created; the answers are still on their way

    # The worker that runs the first mapped task dies with everything it started.
    by_worker = {name: [] for name in workers}
    for ti in run.mapped(instances):
        ancestors = {p.pid for p in psutil.Process(ti["pid"]).parents()}
        owner = next(name for name, record in workers.items() if record.pid in ancestors)
        by_worker[owner].append(ti["map_index"])
    victim = next(name for name, indexes in by_worker.items() if indexes)
    survivor = next(name for name in workers if name != victim)
    killed_at = time.monotonic()
    assert kill_tree(workers[victim].pid)
    assert not workers[victim].alive()

    finished = run.wait(timeout=420)
    took = time.monotonic() - killed_at
    states = api.task_states(DAG_ID, run.run_id)
    assert finished["state"] == "success", states
    assert not_successful(states) == {CANCEL_TASK: "skipped"}, states
    assert workers[survivor].alive()

    # The dead worker's tasks failed on the heartbeat timeout and ran again; the others once.
    for ti in run.mapped():
        tries = api.task_tries(DAG_ID, run.run_id, MAPPED_TASK, map_index=ti["map_index"])
        if ti["map_index"] in by_worker[victim]:
            assert ti["try_number"] == 2, (ti, tries)
            assert [t["state"] for t in tries][0] in ("failed", "up_for_retry"), tries
        else:
            assert ti["try_number"] == 1, (ti, tries)

    meetings = assert_meetings_exactly_once(emulator, run.expected_external_ids, f"{DAG_ID}-")
    assert emulator.stats()["by_route"]["createOrGet"] == {"201": 4, "200": len(by_worker[victim])}
    report = run.report()
    reused = {run.meeting_of(index)["externalId"] for index in by_worker[victim]}
    for key, row in report.items():
        assert row["status"] == ("unchanged" if external_id(key) in reused else "created"), (key, row)
        assert row["join_url"] == meetings[external_id(key)]["joinWebUrl"]
    print(f"{victim} killed with map indexes {by_worker[victim]}; the run succeeded {took:.0f} s later")
