"""
### Interview loop: one Outlook calendar event with a Teams link per interview

Every morning at 07:00 (Europe/Berlin) this DAG reads the interviews of the next
`horizon_days` from a schedule file (a stand-in for an applicant tracking system's
export) and keeps one calendar event per interview in step with it, with dynamic task
mapping: the candidate and the panel are invited (Outlook invitations with the Teams
link), an interview the file moves is moved (one PATCH; the attendees receive an update),
and an interview the file marks `cancelled` is cancelled with the file's `comment` (the
attendees receive the cancellation).

**Schedule file.** CSV with the header
`interview_key,role,candidate,candidate_email,start,end,panel,optional,status,comment`:
`panel` holds the required attendees and `optional` the optional ones, each separated by
`;`; `start`/`end` are ISO-8601 with an offset; `status` is empty or `cancelled`. Text
fields must not contain Jinja markers (`{{`, `{%`): mapped values are rendered as
templates. The sample is `dags/data/interviews.csv`.

**Which interviews?** Those starting in `[anchor, anchor + horizon_days)`, where the
anchor is the run's `data_interval_end` (the cron tick; `run_after` for a run without a
logical date).

**Idempotency.** Each event's external id is `<dag_id>-<interview_key>`. A re-run, a
cleared task or a later run that sees the same interview again finds its event and sends
a PATCH only when the interview changed (`update_existing=True`). A cancelled interview's
key is spent: to book it again, give it a new key (for example a `-r2` suffix), or the new
event would invite everyone again under the old key's history (`docs/events.md`, "Cancel").

**Permission.** `Calendars.ReadWrite` (application, or delegated with
`Calendars.ReadWrite.Shared` for another user's calendar); no Teams application access
policy. The events are booked in the `organizer` mailbox (a recruiting mailbox).

**Pool.** The Graph calls run in the Airflow pool `teams_meetings`; create it before the
first run, e.g. `airflow pools set teams_meetings 4 "Microsoft Graph calls"`. Outlook
allows 4 concurrent requests per mailbox: keep the pool at 4 or below when one mailbox
organizes every interview.

| param | default | meaning |
|---|---|---|
| `schedule_file` | `data/interviews.csv` | CSV file; a relative path is relative to this DAG file |
| `organizer` | the emulator's organizer | mailbox (object id or UPN) that organizes the events; empty: the connection's `default_user_id` |
| `time_zone` | `Europe/Berlin` | the zone the events are written in (IANA or Windows name) |
| `horizon_days` | `7` | how far ahead of the anchor interviews are booked |
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, task

from airflow_provider_meetings.operators.calendar_events import (
    CancelTeamsEventOperator,
    CreateOrGetTeamsEventOperator,
)

log = logging.getLogger(__name__)

DAG_ID = "teams_interview_loop"
POOL = "teams_meetings"
#: The emulator's seeded organizer, Adele Vance (adelev@contoso.example), by Entra object id.
#: Use your recruiting mailbox's object id or UPN.
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"

with DAG(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable("0 7 * * *", timezone="Europe/Berlin"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Berlin"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["teams", "calendar", "events", "example"],
    default_args={
        "owner": "recruiting",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
    params={
        "schedule_file": Param("data/interviews.csv", type="string", minLength=1),
        "organizer": Param(ORGANIZER, type="string", description="Organizer mailbox: Entra object id or UPN"),
        "time_zone": Param("Europe/Berlin", type="string", description="IANA or Windows zone of the events"),
        "horizon_days": Param(7, type="integer", minimum=1, maximum=90),
    },
) as dag:
    # [START howto_interview_loop_read]
    @task
    def read_schedule(**context: Any) -> dict[str, list[dict[str, Any]]]:
        """The operator arguments of every interview in this run's window: to book or to cancel."""
        from airflow.sdk.exceptions import AirflowFailException
        from meetings_dag_helpers.events import resolve_events_file
        from meetings_dag_helpers.interviews import ScheduleError, cancel_kwargs, event_kwargs
        from meetings_dag_helpers.interviews import read_schedule as read_file
        from meetings_dag_helpers.window import run_anchor, starting_in

        params = context["params"]
        path = resolve_events_file(params["schedule_file"], Path(__file__).parent)
        start = run_anchor(context["dag_run"])
        end = start + timedelta(days=params["horizon_days"])
        try:
            interviews = starting_in(read_file(path), start, end)
        except ScheduleError as err:
            raise AirflowFailException(str(err)) from err  # bad data: retrying will not help
        log.info("%d interview(s) in %s starting in [%s, %s)", len(interviews), path, start, end)
        dag_id, organizer, zone = context["dag"].dag_id, params["organizer"], params["time_zone"]
        return {
            "book": [
                event_kwargs(i, dag_id=dag_id, organizer=organizer, time_zone=zone)
                for i in interviews
                if not i.cancelled
            ],
            "cancel": [cancel_kwargs(i, dag_id=dag_id, organizer=organizer) for i in interviews if i.cancelled],
        }

    @task
    def select(planned: dict[str, list[dict[str, Any]]], what: str) -> list[dict[str, Any]]:
        """One list of ``read_schedule`` (a mapped task maps over a whole XCom, not a key of one)."""
        return planned[what]

    planned = read_schedule()
    to_book = select.override(task_id="interviews_to_book")(planned, "book")
    to_cancel = select.override(task_id="interviews_to_cancel")(planned, "cancel")
    # [END howto_interview_loop_read]

    # [START howto_interview_loop_events]
    events = CreateOrGetTeamsEventOperator.partial(
        task_id="create_or_get_interview_event",
        conn_id="msgraph_meetings_default",
        update_existing=True,  # a moved interview is one PATCH (the attendees get an update); none when unchanged
        allow_new_time_proposals=False,  # the panel's time is fixed: invitees cannot propose another
        categories=["Interviews"],
        pool=POOL,
        map_index_template="{{ task.subject }}",
    ).expand_kwargs(to_book)
    cancellations = CancelTeamsEventOperator.partial(
        task_id="cancel_interview_event",
        conn_id="msgraph_meetings_default",
        pool=POOL,
        map_index_template="{{ task.external_id }}",
    ).expand_kwargs(to_cancel)
    # [END howto_interview_loop_events]

    @task(trigger_rule="none_failed")  # also runs on a day without interviews
    def summarize(planned: dict[str, list[dict[str, Any]]], **context: Any) -> dict[str, str]:
        """Each interview's outcome, by external id: the event's status, or cancelled/not_found."""
        ti = context["ti"]

        def pull(task_id: str, count: int) -> list[Any]:  # map index i handled planned[...][i]
            return ti.xcom_pull(task_ids=task_id, map_indexes=list(range(count))) if count else []

        booked, cancelled = planned["book"], planned["cancel"]
        outcome = {
            kwargs["external_id"]: (result or {}).get("status", "failed")
            for kwargs, result in zip(booked, pull("create_or_get_interview_event", len(booked)), strict=True)
        }
        for kwargs, result in zip(cancelled, pull("cancel_interview_event", len(cancelled)), strict=True):
            outcome[kwargs["external_id"]] = "cancelled" if (result or {}).get("cancelled") else "not_found"
        for external_id, status in outcome.items():
            log.info("%-40s %s", external_id, status)
        return outcome

    [events, cancellations] >> summarize(planned)
