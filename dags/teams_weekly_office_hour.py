"""
### Weekly Teams office hour: one meeting per DAG run

Every Monday at 08:00 (Europe/Paris) this DAG books the *next* office hour in Microsoft
Teams through `onlineMeetings/createOrGet`, then writes an iCalendar invitation with the
join link.

**When is the meeting?** The office hour is every Monday, `start_offset_minutes` after
08:00 Paris time (14:00 by default), for `duration_minutes`. A run books the next one
*ahead of the run*, never one in the past: a scheduled run books the session of the week
after its tick (it may start up to a week late: unpausing with `catchup=False` runs last
Monday's tick at once), a manual run the next session after it is triggered (or after the
date given to `airflow dags test`).

**Idempotency.** The external id is `<dag_id>-<session date>`, e.g.
`teams_weekly_office_hour-2026-12-07`. Graph identifies a meeting by tenant + organizer +
external id, so clearing or re-running a run, or a manual run for the same session, gets
the meeting the first attempt created (HTTP 200) instead of a second one. Changing the
params of a run that already booked its meeting does **not** change that meeting:
createOrGet only *gets* existing meetings.

| param | default | meaning |
|---|---|---|
| `organizer` | the emulator's organizer | Entra object id (preferred) or UPN of the organizer; empty: the connection's `default_user_id` |
| `subject` | `Data team office hour` | meeting subject; the meeting date is appended |
| `start_offset_minutes` | `360` | minutes from Monday 08:00 Paris to the start: 14:00 |
| `duration_minutes` | `60` | meeting length |
| `output_dir` | empty | where the invitation goes; empty: `$AIRFLOW_HOME/meetings_output` |

Attendees are the `ATTENDEES` list in the DAG file. Connection: `msgraph_meetings_default`
(see `docs/tutorial.md`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, task
from meetings_dag_helpers.window import TEMPLATE_MACROS

from airflow_provider_meetings.operators.online_meetings import CreateOrGetOnlineMeetingOperator

log = logging.getLogger(__name__)

DAG_ID = "teams_weekly_office_hour"
#: The emulator's seeded organizer, Adele Vance (adelev@contoso.example), by Entra object id:
#: Graph's onlineMeetings take the organizer's object id in the path. Use your organizer's id,
#: or UPN (looked up once per task; needs the User.Read.All application permission).
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ATTENDEES = ["alexw@contoso.example", "meganb@contoso.example"]

# [START howto_weekly_dag]
with DAG(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable("0 8 * * MON", timezone="Europe/Paris"),
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
    # occurrence_date / meeting_start / meeting_end: plain functions, tested without Airflow.
    user_defined_macros=TEMPLATE_MACROS,
    params={
        "organizer": Param(ORGANIZER, type="string", description="Organizer's Entra object id or UPN"),
        "subject": Param("Data team office hour", type="string", minLength=1),
        "start_offset_minutes": Param(360, type="integer", minimum=0, maximum=7 * 24 * 60),
        "duration_minutes": Param(60, type="integer", minimum=5, maximum=24 * 60),
        "output_dir": Param("", type="string", description="Empty: $AIRFLOW_HOME/meetings_output"),
    },
) as dag:
    # [END howto_weekly_dag]

    # [START howto_weekly_operator]
    office_hour = CreateOrGetOnlineMeetingOperator(
        task_id="create_or_get_office_hour",
        conn_id="msgraph_meetings_default",
        # The next session ahead of the run; its date is the external id: the same session
        # -> the same meeting, however often a run is cleared or triggered by hand.
        external_id="{{ dag.dag_id }}-{{ occurrence_date(dag_run, params) }}",
        user_id="{{ params.organizer }}",
        subject="{{ params.subject }} ({{ occurrence_date(dag_run, params) }})",
        start_date_time="{{ meeting_start(dag_run, params) }}",
        end_date_time="{{ meeting_end(dag_run, params) }}",
        participants={"attendees": ATTENDEES},
    )
    # [END howto_weekly_operator]

    # [START howto_weekly_invitation]
    @task
    def write_invitation(meeting: dict[str, Any], **context: Any) -> str:
        """Write an .ics invitation and a one-line report next to it; return the folder."""
        from datetime import datetime, timezone

        from meetings_dag_helpers.outputs import (
            INVITATION_FILE,
            REPORT_FILE,
            invitation_ics,
            report_csv,
            report_row,
            resolve_output_dir,
            run_folder,
            write_text,
        )
        from meetings_dag_helpers.window import occurrence_date, run_anchor

        created = context["ti"].xcom_pull(task_ids="create_or_get_office_hour", key="created")
        anchor = run_anchor(context["dag_run"])
        folder = run_folder(resolve_output_dir(context["params"]["output_dir"]), context["dag"].dag_id, anchor)
        write_text(folder / INVITATION_FILE, invitation_ics(meeting, stamp=datetime.now(timezone.utc)))
        row = report_row(f"office-hour-{occurrence_date(context['dag_run'], context['params'])}", meeting, created)
        write_text(folder / REPORT_FILE, report_csv([row]))
        log.info("Office hour %s: %s -> %s", row["status"], row["subject"], row["join_url"])
        log.info("Invitation written to %s", folder / INVITATION_FILE)
        return str(folder)

    write_invitation(office_hour.output)
    # [END howto_weekly_invitation]
