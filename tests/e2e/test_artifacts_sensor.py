"""The artifacts sensor on a real deployment: it defers, waits in the triggerer, resumes.

``example_meeting_artifacts`` on LocalExecutor with PostgreSQL and the stack's triggerer.
The meeting is a calendar event's, booked through the stack's emulator; it has not taken
place when the run starts, so the sensor's first check (on the worker) finds nothing and
the task defers on ``TeamsMeetingArtifactsTrigger``. While it waits, the test has the
emulator hold the meeting (``hold_meeting``); the trigger's next check (every 15 s, in a
thread of the triggerer) sees the attendance report and the task resumes in one try, and
the storing task writes the attendance files.
"""

from __future__ import annotations

import csv
import datetime
import json
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(900)

DAG_ID = "example_meeting_artifacts"
SENSOR = "wait_for_artifacts"
STORE = "store_artifacts"
TRIGGER = "airflow_provider_meetings.triggers.meeting_artifacts.TeamsMeetingArtifactsTrigger"
ALEX = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
ATTENDEES = [
    {
        "id": ALEX,
        "displayName": "Alex Wilber",
        "email": "alexw@contoso.example",
        "role": "Presenter",
        "intervals": [{"join": "2030-05-06T09:00:00Z", "leave": "2030-05-06T09:40:00Z"}],
    },
    {
        "id": "pstn-44-20-7946-0000",
        "displayName": "+44 20 7946 0000",
        "email": None,
        "role": "Attendee",
        "intervals": [{"join": "2030-05-06T09:05:00Z", "leave": "2030-05-06T09:15:00Z"}],
    },
]


def book_event(stack: Any, monkeypatch: pytest.MonkeyPatch, key: str) -> str:
    """A calendar event with a Teams meeting in the stack's emulator; its join URL."""
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    monkeypatch.setenv("AIRFLOW_CONN_E2E_ARTIFACTS", json.dumps(stack.emulator_connection()))
    start = datetime.datetime(2030, 5, 6, 9, 0, tzinfo=datetime.timezone.utc)
    with OnlineMeetingsHook(conn_id="e2e_artifacts") as hook:
        end = start + datetime.timedelta(hours=1)
        return hook.create_or_get_event(key, subject="E2E clinic", start=start, end=end).join_url


def wait_until_parsed(api: Any, dag_id: str, timeout: float = 180) -> None:
    """The stack waits for the older sample DAGs only; this one may be parsed a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            api.dag(dag_id)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def test_the_sensor_defers_to_the_triggerer_and_resumes_when_the_meeting_ended(
    local_stack, monkeypatch, tmp_path: Path
) -> None:
    api, emulator = local_stack.api, local_stack.emulator
    emulator.reset()
    join_url = book_event(local_stack, monkeypatch, "e2e-artifacts-clinic")
    destination = tmp_path / "artifacts"

    wait_until_parsed(api, DAG_ID)
    conf = {"join_url": join_url, "destination": str(destination)}
    run_id = api.trigger(DAG_ID, logical_date=None, conf=conf)["dag_run_id"]
    api.set_paused(DAG_ID, False)

    def sensor_deferred(instances: list[dict[str, Any]]) -> bool:
        return any(ti["task_id"] == SENSOR and ti["state"] == "deferred" for ti in instances)

    instances = api.wait_for_task_states(DAG_ID, run_id, sensor_deferred, timeout=300, what="the sensor deferred")
    (sensor,) = [ti for ti in instances if ti["task_id"] == SENSOR]
    assert sensor["trigger"]["classpath"] == TRIGGER, sensor
    kwargs = json.dumps(sensor["trigger"].get("kwargs", ""))
    assert "secret" not in kwargs.lower() and "token" not in kwargs.lower()  # identifiers only
    checks_before = emulator.stats()["by_route"]["listAttendanceReports"]["200"]

    held = emulator.hold_meeting(join_url, attendees=ATTENDEES)

    finished = api.wait_for_run(DAG_ID, run_id, timeout=300)
    assert finished["state"] == "success", api.task_states(DAG_ID, run_id)
    assert [t["try_number"] for t in api.task_tries(DAG_ID, run_id, SENSOR)] == [1]  # resumed, not retried
    assert emulator.stats()["by_route"]["listAttendanceReports"]["200"] > checks_before  # the trigger checked
    status = api.xcom(DAG_ID, run_id, SENSOR)
    assert (status["meeting_id"], status["attendance"], status["ready"]) == (held["meetingId"], 1, True)

    result = api.xcom(DAG_ID, run_id, STORE)
    assert result["counts"]["attendance_records"] == 2
    (csv_path, json_path) = (Path(p) for p in result["paths"]["attendance"])
    assert csv_path.is_relative_to(destination) and json_path.is_file()
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [(r["display_name"], r["interval_seconds"]) for r in rows] == [
        ("Alex Wilber", "2400"),
        ("+44 20 7946 0000", "600"),
    ]
