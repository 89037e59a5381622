"""``teams_meetings_from_events`` through the REST API on LocalExecutor with PostgreSQL."""

from __future__ import annotations

import pytest
from e2e_testlib import (
    CANCEL_TASK,
    DAG_ID,
    MAPPED_TASK,
    REPORT_TASK,
    assert_meetings_exactly_once,
    external_id,
    not_successful,
)

pytestmark = pytest.mark.timeout(900)


def test_a_triggered_run_books_every_event_once_through_the_scheduler(local_stack, events_run) -> None:
    api, emulator = local_stack.api, local_stack.emulator
    assert api.health()["metadatabase"]["status"] == "healthy"
    emulator.reset()

    run = events_run(local_stack, days_ago=2)
    finished = run.wait(timeout=300)

    states = api.task_states(DAG_ID, run.run_id)
    assert finished["state"] == "success", states
    assert not_successful(states) == {CANCEL_TASK: "skipped"}, states
    # The scheduler scheduled it: one mapped task per event, each queued and run by an executor.
    mapped = run.mapped()
    assert len(mapped) == len(run.events) == 4
    for ti in mapped:
        assert ti["queued_when"] and ti["start_date"] and ti["pid"], ti
        assert ti["pool"] == "teams_meetings" and ti["try_number"] == 1, ti

    meetings = assert_meetings_exactly_once(emulator, run.expected_external_ids, f"{DAG_ID}-")
    assert emulator.stats()["by_route"]["createOrGet"] == {"201": 4}

    report = run.report()
    assert set(report) == {row["event_key"] for row in run.events}
    for key, row in report.items():
        meeting = meetings[external_id(key)]
        assert row["status"] == "created"
        assert row["meeting_id"] == meeting["id"]
        assert row["join_url"] == meeting["joinWebUrl"]

    # What the UI shows comes from the same place: the XCom and the extra link of each task.
    for ti in mapped:
        returned = run.meeting_of(ti["map_index"])
        assert returned["joinWebUrl"] == meetings[returned["externalId"]]["joinWebUrl"]
        links = api.extra_links(DAG_ID, run.run_id, MAPPED_TASK, map_index=ti["map_index"])
        assert links == {"Join Teams meeting": returned["joinWebUrl"]}
    assert api.task_instance(DAG_ID, run.run_id, REPORT_TASK)["state"] == "success"
