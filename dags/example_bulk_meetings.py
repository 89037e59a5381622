"""
### Teams meetings from an events file: all events in one bulk task

The same events and the same external ids as `teams_meetings_from_events` (which books
one mapped task per event), provisioned by one `BulkCreateOrGetOnlineMeetingsOperator`
task: Graph `$batch` requests of up to 20 meetings, a few in flight at once, slowing down
to the rate Graph accepts when it throttles. Choose this for large schedules (hundreds
or thousands of events a run); choose the mapped DAG for a handful of events that each
deserve their own retries and a row in the grid (see `docs/bulk.md`).

Both DAGs use `<dag_id>-<event_key>` as the external id, so each DAG books its own
meetings, and both keep them in step with the file: `update_existing=True` PATCHes the
meetings of moved events (a second `$batch` run, only for those that changed), and an
event whose `status` is `cancelled` is sent with `"cancelled": True`, which deletes its
meeting. A re-run finds the existing meetings (HTTP 200) and sends nothing more for
unchanged ones. The task fails at the end, after every other event is done, naming each
event that failed and why; the per-event results (with their `status`: `created`,
`updated`, `unchanged`, `cancelled`, `not_found`) are its XCom (`return_value`, or
`results` when it failed).

| param | default | meaning |
|---|---|---|
| `events_file` | `data/events.csv` | CSV or JSON file; a relative path is relative to this DAG file |
| `organizer` | the emulator's organizer | object id or UPN for rows without an organizer; empty: the connection's `default_user_id` |
| `duration_minutes` | `30` | length of events without an `end` |
| `horizon_hours` | `24` | how far ahead of the anchor events are booked |
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

DAG_ID = "example_bulk_meetings"
#: The emulator's seeded organizer, Adele Vance (adelev@contoso.example), by Entra object id:
#: Graph's onlineMeetings take the organizer's object id in the path. Use your organizer's id,
#: or UPN (looked up once per task; needs the User.Read.All application permission).
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
    },
) as dag:

    @task
    def read_events(**context: Any) -> list[dict[str, Any]]:
        """The meeting of every event in this run's window (same rules as the mapped DAG)."""
        from meetings_dag_helpers.events import bulk_items, read_events_file, resolve_events_file
        from meetings_dag_helpers.window import run_anchor, starting_in

        params = context["params"]
        path = resolve_events_file(params["events_file"], Path(__file__).parent)
        start = run_anchor(context["dag_run"])
        end = start + timedelta(hours=params["horizon_hours"])
        events = starting_in(read_events_file(path), start, end)
        log.info("%d event(s) in %s starting in [%s, %s)", len(events), path, start, end)
        duration = timedelta(minutes=params["duration_minutes"])
        return bulk_items(
            events, dag_id=context["dag"].dag_id, default_organizer=params["organizer"], default_duration=duration
        )

    # [START howto_bulk_operator]
    BulkCreateOrGetOnlineMeetingsOperator(
        task_id="create_or_get_meetings",
        conn_id="msgraph_meetings_default",
        meetings=read_events(),  # an XComArg: the list is resolved when the task runs
        update_existing=True,  # PATCH the meetings of moved events; items with "cancelled": True are deleted
        max_concurrency=4,  # $batch requests in flight; default: the connection's bulk_concurrency
    )
    # [END howto_bulk_operator]
