"""
### Interview artifacts: after each interview, wait for what the meeting left and store it

Every evening at 20:00 (Europe/Berlin) this DAG takes the interviews of the schedule file
that took place in the last `lookback_hours` (the events that `teams_interview_loop`
booked), and for each one, in a mapped task group: waits in the triggerer until the
meeting has ended and its attendance report, transcript and recording exist
(`TeamsMeetingArtifactsSensor`, deferrable), then stores them
(`FetchTeamsMeetingArtifactsOperator`): `attendance.csv` and `attendance.json` (one row
per attendee and join/leave interval), the transcript as `.vtt`, the recording as `.mp4`,
under `<destination>/<interview_key>/meeting-<hash>/`.

**Assets.** Each stored interview emits an event of the asset `teams_interview_artifacts`
whose `extra` holds the paths that landed; the DAG `teams_attendance_report` is scheduled
on it.

**Which meeting?** The interview's calendar event, by its external id
(`<interview_dag_id>-<interview_key>`) in the `organizer` mailbox: the provider reads the
event's Teams link and finds the meeting by its join URL. Transcripts and recordings exist
only for meetings that belong to a calendar event (docs/artifacts.md).

**Nothing recorded?** The sensor gives up after 8 hours; `soft_fail=True` then skips the
interview (its storing task too) instead of failing the run: a meeting may take place
without a recording, or not at all. As with any Airflow sensor, `soft_fail` skips a
permanent error too (a missing permission): the task log names it.

**Permissions.** `Calendars.Read` (finding the event), `OnlineMeetings.Read.All`
(finding the meeting by its join URL), `OnlineMeetingArtifact.Read.All` (attendance),
`OnlineMeetingTranscript.Read.All`, `OnlineMeetingRecording.Read.All`; application
permissions also need the Teams application access policy for the organizer, and Graph
access to transcripts must be turned on for the tenant (it is off by default).

| param | default | meaning |
|---|---|---|
| `schedule_file` | `data/interviews.csv` | the interview schedule (as for `teams_interview_loop`); relative to this DAG file |
| `organizer` | the emulator's organizer | mailbox (object id or UPN) that organized the events; empty: the connection's `default_user_id` |
| `interview_dag_id` | `teams_interview_loop` | the DAG that booked the events (the prefix of their external ids) |
| `lookback_hours` | `24` | interviews that started in the `lookback_hours` before the run and have ended |
| `destination` | empty | folder or object storage URL (`s3://bucket/interviews`); empty: `$AIRFLOW_HOME/meetings_output/teams_interview_artifacts` |
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, CronTriggerTimetable, Param, task, task_group

from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator
from airflow_provider_meetings.sensors.meeting_artifacts import TeamsMeetingArtifactsSensor

log = logging.getLogger(__name__)

DAG_ID = "teams_interview_artifacts"
POOL = "teams_meetings"
#: The emulator's seeded organizer, Adele Vance, as in teams_interview_loop.
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
# [START howto_interview_artifacts_asset]
#: What a consumer DAG is scheduled on: one event per stored interview, its paths in ``extra``.
INTERVIEW_ARTIFACTS = Asset("teams_interview_artifacts")
# [END howto_interview_artifacts_asset]
#: Transcripts need Graph access to transcripts turned on in the tenant (off by default):
#: leave "transcript" out until it is.
ARTIFACTS = ("attendance", "transcript", "recording")

with DAG(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable("0 20 * * *", timezone="Europe/Berlin"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Berlin"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["teams", "artifacts", "assets", "example"],
    default_args={
        "owner": "recruiting",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        "schedule_file": Param("data/interviews.csv", type="string", minLength=1),
        "organizer": Param(ORGANIZER, type="string", description="Organizer mailbox: Entra object id or UPN"),
        "interview_dag_id": Param("teams_interview_loop", type="string", minLength=1),
        "lookback_hours": Param(24, type="integer", minimum=1, maximum=24 * 30),
        "destination": Param("", type="string", description="Folder or URL; empty: $AIRFLOW_HOME/meetings_output"),
    },
) as dag:

    @task
    def interviews_held(**context: Any) -> list[dict[str, str]]:
        """The interviews that took place in the lookback window: how to name each meeting and where to store it."""
        from airflow.sdk.exceptions import AirflowFailException
        from meetings_dag_helpers.events import resolve_events_file
        from meetings_dag_helpers.interviews import ScheduleError, interview_external_id, read_schedule
        from meetings_dag_helpers.outputs import resolve_output_dir
        from meetings_dag_helpers.window import run_anchor

        params = context["params"]
        path = resolve_events_file(params["schedule_file"], Path(__file__).parent)
        end = run_anchor(context["dag_run"])
        start = end - timedelta(hours=params["lookback_hours"])
        try:
            interviews = read_schedule(path)
        except ScheduleError as err:
            raise AirflowFailException(str(err)) from err
        held = [i for i in interviews if not i.cancelled and start <= i.start and i.end <= end]
        log.info("%d interview(s) held in [%s, %s)", len(held), start, end)
        base = params["destination"].strip() or str(resolve_output_dir("") / DAG_ID)
        return [
            {
                "external_id": interview_external_id(params["interview_dag_id"], i.key),
                "user_id": params["organizer"],
                "destination": f"{base.rstrip('/')}/{i.key}",
            }
            for i in sorted(held, key=lambda i: (i.start, i.key))
        ]

    # [START howto_interview_artifacts_group]
    @task_group
    def interview_artifacts(external_id: str, user_id: str, destination: str) -> None:
        """Per interview: wait until the meeting left its artifacts, then store them."""
        wait = TeamsMeetingArtifactsSensor(
            task_id="wait_for_artifacts",
            external_id=external_id,  # the calendar event's external id
            user_id=user_id,
            artifacts=ARTIFACTS,
            poke_interval=600,  # seconds; deferrable: the wait runs in the triggerer
            timeout=8 * 3600,
            soft_fail=True,  # nothing recorded after 8 hours: skip, do not fail
            pool=POOL,
        )
        store = FetchTeamsMeetingArtifactsOperator(
            task_id="store_artifacts",
            external_id=external_id,
            user_id=user_id,
            destination=destination,  # a folder, or s3://…, gs://…, abfs://… (ObjectStoragePath)
            artifacts=ARTIFACTS,
            outlets=[INTERVIEW_ARTIFACTS],  # each event's extra: the paths that landed
            pool=POOL,
        )
        wait >> store

    interview_artifacts.expand_kwargs(interviews_held())
    # [END howto_interview_artifacts_group]
