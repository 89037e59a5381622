"""``dags/example_deferrable_meetings.py`` through ``airflow dags test`` against a throttling emulator.

``airflow dags test`` runs a deferred task's ``DateTimeTrigger`` in line, then resumes it.
"""

from __future__ import annotations

from typing import Any

import pytest

# whole sample DAGs and the docs' commands: make test-slow (part of make e2e in CI), not make test
pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAG_ID = "example_deferrable_meetings"
RUN_DATE = "2026-12-07T05:00:00+00:00"
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
LEAD = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
#: Longer than the DAG's defer_after (5 s).
RETRY_AFTER = 7


def test_both_tasks_defer_and_book_every_meeting_once(sample_airflow: Any, graph_emulator: Any) -> None:
    graph_emulator.reset()
    # Two of the tutorials (their organizer's path) and the kickoff (its lead's) are throttled once.
    graph_emulator.script({"status": 429, "retry_after": RETRY_AFTER}, times=2, match=f"/users/{ORGANIZER}/")
    graph_emulator.script({"status": 429, "retry_after": RETRY_AFTER}, times=1, match=f"/users/{LEAD}/")

    result = sample_airflow.dags_test(DAG_ID, RUN_DATE)

    output = result.stdout + result.stderr
    assert output.count("deferring to the triggerer") == 2, output[-4000:]
    assert "4 of 6 item(s) were done before the deferral; sending the other 2" in output
    stored = sorted(m["external_id"] for m in graph_emulator.meetings())
    assert stored == sorted(
        [f"{DAG_ID}-20261207-kickoff", *(f"{DAG_ID}-20261207-tutorial-{week}" for week in range(1, 7))]
    )
    # Every meeting created once; nothing done before a deferral was sent again (no 200).
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"429": 3, "201": 7}
