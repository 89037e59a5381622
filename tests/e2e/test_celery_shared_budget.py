"""CeleryExecutor with two workers: bulk tasks on both at once share one rate budget in Redis.

The stack's connection keeps its rate budget in the stack's Redis with ``EXECUTOR=celery``
(``scripts/meetings_stack/airflow_components.py``), as a deployment whose workers run on
several machines would. ``example_bulk_meetings_chunked`` splits a few hundred events into
four bulk tasks; with two workers of two slots each, both workers run two of them at once
against the emulator's rate limit (which, like Graph, counts throttled requests too).
Every meeting is created once, and each task's log names the shared budget it used.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from e2e_testlib import assert_meetings_exactly_once, past_anchor

pytestmark = pytest.mark.timeout(900)

DAG_ID = "example_bulk_meetings_chunked"
TASK_ID = "create_or_get_meetings"
EVENTS = 400
CHUNKS = 4
#: The tenant's limit in the emulator (requests per sliding second, batch items count):
#: 400 meetings take 20 s at best, long enough for the four tasks to overlap.
LIMIT = 20
LATENCY_MS = 100


def write_events(path: Path, anchor_iso: str, count: int) -> list[str]:
    """``count`` events, one a minute from an hour after the anchor; returns their keys."""
    from datetime import datetime

    first = datetime.fromisoformat(anchor_iso) + timedelta(hours=1)
    keys = [f"budget-{i:04d}" for i in range(count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["event_key", "title", "start", "end", "organizer", "attendees", "status"])
        for i, key in enumerate(keys):
            start = first + timedelta(minutes=i)
            writer.writerow([key, f"Shared budget {i}", start.isoformat(), (start + timedelta(minutes=30)).isoformat()])
    return keys


def task_logs(airflow_home: Path, run_id: str) -> dict[int, str]:
    """The mapped tasks' log files by map index (the stack's components share this machine)."""
    folder = airflow_home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={TASK_ID}"
    logs: dict[int, str] = {}
    for path in sorted(folder.glob("map_index=*/attempt=*.log")):
        index = int(path.parent.name.split("=", 1)[1])
        logs[index] = logs.get(index, "") + path.read_text(errors="replace")
    return logs


def test_two_workers_running_bulk_at_once_share_one_budget(celery_stack) -> None:
    api, emulator = celery_stack.api, celery_stack.emulator
    workers = celery_stack.celery_workers()
    assert len(workers) == 2 and all(r.alive() for r in workers.values())
    extra = json.loads(api.connection("msgraph_meetings_default")["extra"])
    assert extra["rate_budget"] == "redis", "the celery stack's connection shares its budget in Redis"

    anchor = past_anchor(days_ago=6)
    events_file = celery_stack.state_dir / "e2e-events" / f"budget-{anchor:%Y%m%d}.csv"
    keys = write_events(events_file, anchor.isoformat(), EVENTS)
    emulator.reset()
    emulator.set_latency(LATENCY_MS)
    emulator.set_rate_limit(LIMIT, retry_after=1)
    try:
        run = api.trigger(
            DAG_ID,
            logical_date=anchor.isoformat(),
            conf={"events_file": str(events_file), "horizon_hours": 48, "chunks": CHUNKS},
        )
        api.set_paused(DAG_ID, False)
        run_id = run["dag_run_id"]

        # Which worker runs each mapped task, and how many ran at once on each.
        owner_of: dict[int, str] = {}
        most_at_once: dict[str, int] = dict.fromkeys(workers, 0)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            state = api.dag_run(DAG_ID, run_id)["state"]
            if state in ("success", "failed"):
                break
            running: dict[str, int] = dict.fromkeys(workers, 0)
            for ti in api.task_instances(DAG_ID, run_id):
                if ti["task_id"] != TASK_ID or ti["state"] != "running" or not ti.get("pid"):
                    continue
                try:
                    ancestors = {p.pid for p in psutil.Process(ti["pid"]).parents()}
                except psutil.NoSuchProcess:
                    continue
                owner = next((name for name, r in workers.items() if r.pid in ancestors), None)
                if owner is not None:
                    owner_of[ti["map_index"]] = owner
                    running[owner] += 1
            if all(running.values()):
                most_at_once = {name: max(most_at_once[name], running[name]) for name in workers}
            time.sleep(1)
        finished = api.wait_for_run(DAG_ID, run_id, timeout=60)
        stats = emulator.stats()
    finally:
        # No limit and no latency for the tests after this one (each resets the emulator
        # when it starts; the meetings stay for the checks below).
        emulator.set_rate_limit(None)
        emulator.set_latency(0)

    states = api.task_states(DAG_ID, run_id)
    assert finished["state"] == "success", states
    assert all(most_at_once.values()), f"both workers ran bulk tasks at the same time: {most_at_once}, {owner_of}"

    assert_meetings_exactly_once(emulator, {f"{DAG_ID}-{key}" for key in keys}, f"{DAG_ID}-")
    assert stats["meetings_created"] == EVENTS, stats["by_route"]

    logs = task_logs(Path(celery_stack.info["airflow_home"]), run_id)
    assert sorted(logs) == list(range(CHUNKS)), sorted(logs)
    redis_password = celery_stack.secrets()["redis_password"]
    for index, text in logs.items():
        shared = [line for line in text.splitlines() if "rate budget" in line and "redis" in line.lower()]
        assert shared, f"map index {index}: no line about the shared budget in its log:\n{text[-3000:]}"
        assert redis_password not in text, f"map index {index}: the Redis password is in the task log"
    print(
        f"{EVENTS} meetings in {CHUNKS} bulk tasks on {sorted(set(owner_of.values()))}, most at once per worker "
        f"{most_at_once}; {stats['throttled']} throttled answers at {LIMIT}/s"
    )
