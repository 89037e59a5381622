"""
### Teams meetings from an events file: bulk tasks on several workers at once

The events of `example_bulk_meetings`, split into `chunks` parts, each provisioned by
its own mapped `BulkCreateOrGetOnlineMeetingsOperator` task. With the CeleryExecutor
(or any executor with several workers) the parts run at once, on different workers.
They share one Graph limit per tenant and app, which Graph keeps counting while it
throttles: the connection's **rate budget** (extra `rate_budget`: `file` on one machine,
`redis` or `database` across machines) paces them together, so that a 429 seen by one
worker pauses all of them instead of each keeping the others throttled. The
`teams_meetings` pool caps how many of these tasks run at once; the budget caps their
requests per second (see `docs/bulk.md`, "Pools and the rate budget").

Each task's log names the budget it uses. External ids are `<dag_id>-<event_key>`, as
in the other events DAGs (so this DAG books its own meetings); a re-run finds them.

| param | default | meaning |
|---|---|---|
| `events_file` | `data/events.csv` | CSV or JSON file; a relative path is relative to this DAG file |
| `organizer` | the emulator's organizer | object id or UPN for rows without an organizer; empty: the connection's `default_user_id` |
| `duration_minutes` | `30` | length of events without an `end` |
| `horizon_hours` | `24` | how far ahead of the anchor events are booked |
| `chunks` | `4` | bulk tasks the events are split into (each runs on any free worker) |
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, task

from airflow_provider_meetings.operators.online_meetings import BulkCreateOrGetOnlineMeetingsOperator

log = logging.getLogger(__name__)

DAG_ID = "example_bulk_meetings_chunked"
#: The emulator's seeded organizer, Adele Vance (adelev@contoso.example), by Entra object id.
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"

with DAG(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable("0 6 * * *", timezone="Europe/Paris"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["teams", "meetings", "example", "bulk"],
    default_args={
        "owner": "data-platform",
        # Only transient failures use these: permanent ones fail the task at once.
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
    },
    params={
        "events_file": Param("data/events.csv", type="string", minLength=1),
        "organizer": Param(ORGANIZER, type="string", description="Default organizer's Entra object id or UPN"),
        "duration_minutes": Param(30, type="integer", minimum=5, maximum=24 * 60),
        "horizon_hours": Param(24, type="integer", minimum=1, maximum=14 * 24),
        "chunks": Param(4, type="integer", minimum=1, maximum=64),
    },
) as dag:

    @task
    def split_events(**context: Any) -> list[list[dict[str, Any]]]:
        """The meeting of every event in this run's window, in ``chunks`` parts."""
        from meetings_dag_helpers.events import bulk_items, chunks, read_events_file, resolve_events_file
        from meetings_dag_helpers.window import run_anchor, starting_in

        params = context["params"]
        path = resolve_events_file(params["events_file"], Path(__file__).parent)
        start = run_anchor(context["dag_run"])
        events = starting_in(read_events_file(path), start, start + timedelta(hours=params["horizon_hours"]))
        duration = timedelta(minutes=params["duration_minutes"])
        items = bulk_items(
            events, dag_id=context["dag"].dag_id, default_organizer=params["organizer"], default_duration=duration
        )
        parts = chunks(items, params["chunks"])
        log.info("%d event(s) in %s in %d bulk task(s)", len(items), path, len(parts))
        return parts

    # [START howto_bulk_operator_chunked]
    BulkCreateOrGetOnlineMeetingsOperator.partial(
        task_id="create_or_get_meetings",
        conn_id="msgraph_meetings_default",
        pool="teams_meetings",  # at most the pool's slots of these tasks at once
        update_existing=True,
    ).expand(meetings=split_events())  # one bulk task per part, on any free worker
    # [END howto_bulk_operator_chunked]
