"""
### Attendance report: minutes attended per person and no-shows, per interview

Scheduled on the asset `teams_interview_artifacts`: each time `teams_interview_artifacts`
stored the artifacts of interviews, this DAG reads the attendance files of exactly those
interviews (the paths in the asset events' `extra`), compares them with the invitation
list of the schedule file (the candidate, the panel and the optional attendees) and writes
`attendance_minutes.csv`: one line per invitee, `attended` with the minutes (summed over
every session of the meeting) or `no_show`, and one line per attendee that matches no
invitee (`uninvited`: a guest under another address, a phone participant).

**Matching.** An attendee is matched on the Entra object id (`identity.id`) first, then on
the address: the address is empty for anonymous and phone participants and may differ for
guests.

**Manual runs.** A run that no asset event triggered (a manual run, `airflow dags test`)
reads the events given in `artifact_events`: the `extra` of each (or the XCom of each
`store_artifacts` task), e.g. `[{"reference": {"external_id": "…"}, "paths": {"attendance":
["…/attendance.csv", "…/attendance.json"]}}]`.

| param | default | meaning |
|---|---|---|
| `schedule_file` | `data/interviews.csv` | the interview schedule with the invitation lists |
| `interview_dag_id` | `teams_interview_loop` | the DAG that booked the events (the prefix of their external ids) |
| `artifact_events` | `[]` | manual runs: the asset events' `extra` to report on |
| `output_dir` | empty | where the report goes; empty: `$AIRFLOW_HOME/meetings_output` |
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

log = logging.getLogger(__name__)

DAG_ID = "teams_attendance_report"
#: The asset that teams_interview_artifacts emits (the same name: the same asset).
INTERVIEW_ARTIFACTS = Asset("teams_interview_artifacts")


def read_bytes(path: str) -> bytes:
    """A local file, or an object storage URL through Airflow's ``ObjectStoragePath``."""
    if "://" in path:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(path).read_bytes()
    return Path(path).read_bytes()


with DAG(
    dag_id=DAG_ID,
    # [START howto_attendance_report_schedule]
    schedule=[INTERVIEW_ARTIFACTS],
    # [END howto_attendance_report_schedule]
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Berlin"),
    catchup=False,
    doc_md=__doc__,
    tags=["teams", "artifacts", "assets", "example"],
    default_args={"owner": "recruiting"},
    params={
        "schedule_file": Param("data/interviews.csv", type="string", minLength=1),
        "interview_dag_id": Param("teams_interview_loop", type="string", minLength=1),
        "artifact_events": Param([], type="array", description="Manual runs: the asset events' extra"),
        "output_dir": Param("", type="string", description="Empty: $AIRFLOW_HOME/meetings_output"),
    },
) as dag:
    # [START howto_attendance_report_task]
    @task
    def attendance_report(**context: Any) -> dict[str, dict[str, Any]]:
        """Minutes per person and no-shows of every interview whose artifacts landed."""
        from meetings_dag_helpers.attendance import (
            REPORT_FILE,
            Invitee,
            attendance_json_path,
            attendees,
            match,
            read_attendance_json,
            report_csv,
        )
        from meetings_dag_helpers.events import resolve_events_file
        from meetings_dag_helpers.interviews import interview_external_id, read_schedule
        from meetings_dag_helpers.outputs import resolve_output_dir, run_folder, write_text
        from meetings_dag_helpers.window import run_anchor

        params = context["params"]
        # Exactly what landed: the extra of each asset event that triggered this run.
        extras = [event.extra for events in context["triggering_asset_events"].values() for event in events]
        extras = extras or list(params["artifact_events"])
        schedule = read_schedule(resolve_events_file(params["schedule_file"], Path(__file__).parent))
        invitations = {
            interview_external_id(params["interview_dag_id"], i.key): [
                Invitee(email=i.candidate_email, name=i.candidate),
                *(Invitee(email=address) for address in i.panel),
                *(Invitee(email=address, kind="optional") for address in i.optional),
            ]
            for i in schedule
        }
        lines, summary = [], {}
        for extra in extras:
            external_id = (extra.get("reference") or {}).get("external_id") or ""
            path = attendance_json_path(extra)
            if path is None or external_id not in invitations:
                log.warning("Skipping an event without attendance or of an unknown interview: %s", extra)
                continue
            document = read_attendance_json(read_bytes(path))
            report = match(invitations[external_id], attendees(document["rows"]))
            lines += [{"external_id": external_id, "meeting_id": document["meeting_id"], **line} for line in report]
            summary[external_id] = {
                "minutes": {line["person"]: line["minutes"] for line in report if line["status"] == "attended"},
                "no_shows": [line["person"] for line in report if line["status"] == "no_show"],
                "uninvited": [line["person"] for line in report if line["status"] == "uninvited"],
            }
        folder = run_folder(resolve_output_dir(params["output_dir"]), DAG_ID, run_anchor(context["dag_run"]))
        path = write_text(folder / REPORT_FILE, report_csv(lines))
        log.info("Attendance of %d interview(s) -> %s", len(summary), path)
        return summary

    # [END howto_attendance_report_task]
    attendance_report()
