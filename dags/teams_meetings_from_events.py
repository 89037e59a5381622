"""
### Teams meetings from an events file: one meeting per event, kept in step

Every morning at 06:00 (Europe/Paris) this DAG reads the events of the next
`horizon_hours` from an events file (a stand-in for a course timetable, an interview
system or a ticket queue) and keeps one Teams meeting per event in step with it, with
dynamic task mapping: a new event gets its meeting, a moved (retitled, re-staffed) one
has its meeting updated, a cancelled one has its meeting deleted. It writes a CSV report:
event key, status (`created`, `updated`, `unchanged`, `cancelled`, `not_found`), meeting
id, join URL.

**Events file.** CSV (`event_key,title,start,end,organizer,attendees,status`, attendees
separated by `;`) or JSON (a list of objects with those keys). `start`/`end` are ISO-8601
with an offset; rows without `end` last `duration_minutes`, rows without `organizer` are
booked for the `organizer` param. `status` is empty for an event that takes place and
`cancelled` for one that does not. Text fields must not contain Jinja markers (`{{`,
`{%`): mapped values are rendered as templates. The sample is `dags/data/events.csv`.

**Which events?** Those starting in `[anchor, anchor + horizon_hours)`, where the anchor
is the run's `data_interval_end` (the cron tick; `run_after` for a run without a logical
date).

**Idempotency.** Each meeting's external id is `<dag_id>-<event_key>`: the event's own key
plus the DAG id, so two DAGs reading the same source do not share meetings. A re-run, a
cleared task or a later run that sees the same event again finds the existing meeting
(HTTP 200) and sends a PATCH only when the event changed (`update_existing=True`): the
meeting keeps its id and join link. A cancelled event's meeting is deleted (once; later
runs report `not_found`).

**Removed events are not cancelled.** An event that disappears from the file keeps its
meeting: the DAG keeps no state between runs, so it cannot tell an event removed from the
file from one that moved out of the window, or from a truncated export. Mark it
`cancelled` instead, for at least one run that sees it.

**Pool.** The Graph calls run in the Airflow pool `teams_meetings`, which caps how many
run at once across all DAGs. Create it before the first run, e.g.
`airflow pools set teams_meetings 4 "Microsoft Graph createOrGet calls"`. A task whose
pool does not exist is never scheduled: it waits forever without an error.

| param | default | meaning |
|---|---|---|
| `events_file` | `data/events.csv` | CSV or JSON file; a relative path is relative to this DAG file |
| `organizer` | the emulator's organizer | object id or UPN for rows without an organizer; empty: the connection's `default_user_id` |
| `duration_minutes` | `30` | length of events without an `end` |
| `horizon_hours` | `24` | how far ahead of the anchor events are booked |
| `output_dir` | empty | where the report goes; empty: `$AIRFLOW_HOME/meetings_output` |

**Many events at once?** The DAG `example_bulk_meetings` books the same events file with
one `BulkCreateOrGetOnlineMeetingsOperator` task (Graph `$batch`, up to 20 meetings a
request). Choose it for hundreds of events a run; keep this mapped DAG when each event
deserves its own retries and row in the grid (`docs/bulk.md`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, task

from airflow_provider_meetings.operators.online_meetings import (
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
)

log = logging.getLogger(__name__)

DAG_ID = "teams_meetings_from_events"
POOL = "teams_meetings"
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
    tags=["teams", "meetings", "example"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
    params={
        "events_file": Param("data/events.csv", type="string", minLength=1),
        "organizer": Param(ORGANIZER, type="string", description="Default organizer's Entra object id or UPN"),
        "duration_minutes": Param(30, type="integer", minimum=5, maximum=24 * 60),
        "horizon_hours": Param(24, type="integer", minimum=1, maximum=14 * 24),
        "output_dir": Param("", type="string", description="Empty: $AIRFLOW_HOME/meetings_output"),
    },
) as dag:
    # [START howto_events_read]
    @task
    def read_events(**context: Any) -> dict[str, list[dict[str, Any]]]:
        """The operator arguments of every event in this run's window: to book or to cancel."""
        from airflow.sdk.exceptions import AirflowFailException
        from meetings_dag_helpers.events import (
            EventsFileError,
            cancel_kwargs,
            meeting_kwargs,
            read_events_file,
            resolve_events_file,
        )
        from meetings_dag_helpers.window import run_anchor, starting_in

        params = context["params"]
        path = resolve_events_file(params["events_file"], Path(__file__).parent)
        start = run_anchor(context["dag_run"])
        end = start + timedelta(hours=params["horizon_hours"])
        try:
            events = starting_in(read_events_file(path), start, end)
        except EventsFileError as err:
            raise AirflowFailException(str(err)) from err  # bad data: retrying will not help
        log.info("%d event(s) in %s starting in [%s, %s)", len(events), path, start, end)
        dag_id, organizer = context["dag"].dag_id, params["organizer"]
        duration = timedelta(minutes=params["duration_minutes"])
        return {
            "book": [
                meeting_kwargs(e, dag_id=dag_id, default_organizer=organizer, default_duration=duration)
                for e in events
                if not e.cancelled
            ],
            "cancel": [cancel_kwargs(e, dag_id=dag_id, default_organizer=organizer) for e in events if e.cancelled],
        }

    @task
    def select(planned: dict[str, list[dict[str, Any]]], what: str) -> list[dict[str, Any]]:
        """One list of ``read_events`` (a mapped task maps over a whole XCom, not a key of one)."""
        return planned[what]

    planned = read_events()
    to_book = select.override(task_id="events_to_book")(planned, "book")
    to_cancel = select.override(task_id="events_to_cancel")(planned, "cancel")
    # [END howto_events_read]

    # [START howto_events_mapped_operator]
    meetings = CreateOrGetOnlineMeetingOperator.partial(
        task_id="create_or_get_meeting",
        conn_id="msgraph_meetings_default",
        update_existing=True,  # a moved event moves its meeting (one PATCH; none when nothing changed)
        pool=POOL,  # caps concurrent Graph calls; the pool must exist (see the DAG docs)
        map_index_template="{{ task.subject }}",
    ).expand_kwargs(to_book)
    cancellations = DeleteOnlineMeetingOperator.partial(
        task_id="cancel_meeting",
        conn_id="msgraph_meetings_default",
        pool=POOL,
        map_index_template="{{ task.external_id }}",
    ).expand_kwargs(to_cancel)
    # [END howto_events_mapped_operator]

    # [START howto_events_report]
    @task(trigger_rule="none_failed")  # also runs, with an empty report, on a day without events
    def write_report(planned: dict[str, list[dict[str, Any]]], **context: Any) -> str:
        """Collect every mapped result into ``meetings.csv``; return its path."""
        from meetings_dag_helpers.events import event_key_of
        from meetings_dag_helpers.outputs import (
            REPORT_FILE,
            report_csv,
            report_row,
            resolve_output_dir,
            run_folder,
            write_text,
        )
        from meetings_dag_helpers.window import run_anchor

        ti, dag_id = context["ti"], context["dag"].dag_id

        def pull(task_id: str, key: str, count: int) -> list[Any]:  # map index i handled planned[...][i]
            return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=list(range(count))) if count else []

        booked, cancelled = planned["book"], planned["cancel"]
        meetings = pull("create_or_get_meeting", "return_value", len(booked)) + [{}] * len(cancelled)
        statuses = pull("create_or_get_meeting", "status", len(booked))
        statuses += pull("cancel_meeting", "status", len(cancelled))
        rows = [
            report_row(event_key_of(dag_id, kwargs["external_id"]), meeting or {}, status)
            for kwargs, meeting, status in zip(booked + cancelled, meetings, statuses, strict=True)
        ]
        folder = run_folder(resolve_output_dir(context["params"]["output_dir"]), dag_id, run_anchor(context["dag_run"]))
        path = write_text(folder / REPORT_FILE, report_csv(rows))
        for row in rows:
            log.info("%-24s %-9s %s", row["event_key"], row["status"], row["join_url"])
        log.info("Report of %d meeting(s): %s", len(rows), path)
        return str(path)

    [meetings, cancellations] >> write_report(planned)
    # [END howto_events_report]
