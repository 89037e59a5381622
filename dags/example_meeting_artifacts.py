"""
### One meeting's artifacts, on demand: wait in the triggerer, then store them

Triggered by hand (or by another DAG) with the meeting's `join_url`: a deferrable
`TeamsMeetingArtifactsSensor` waits, in the triggerer and without a worker slot, until
the meeting has ended and its attendance report (and, if asked, transcript and
recording) exist; then `FetchTeamsMeetingArtifactsOperator` stores them under
`destination` and emits an event of the asset `teams_meeting_artifacts`. The sensor's XCom
carries the meeting id, so the storing task names the meeting by id (no second lookup).

The sensor checks every 15 seconds, to show the deferral quickly (`make e2e` runs this
DAG on a real deployment); a real pipeline checks every few minutes: attendance reports
take minutes to appear after a meeting, recordings longer.

| param | default | meaning |
|---|---|---|
| `join_url` | empty | the meeting's join URL (of a calendar event's meeting, for transcripts and recordings) |
| `organizer` | empty | the organizer (object id or UPN); empty: the connection's `default_user_id` |
| `destination` | empty | folder or object storage URL; empty: `$AIRFLOW_HOME/meetings_output/example_meeting_artifacts` |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator
from airflow_provider_meetings.sensors.meeting_artifacts import TeamsMeetingArtifactsSensor

DAG_ID = "example_meeting_artifacts"
MEETING_ARTIFACTS = Asset("teams_meeting_artifacts")

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["teams", "artifacts", "deferrable", "example"],
    default_args={"owner": "meetings", "retries": 1, "retry_delay": timedelta(minutes=1)},
    params={
        "join_url": Param("", type="string", description="The meeting's join URL"),
        "organizer": Param("", type="string", description="Organizer: object id or UPN; empty: default_user_id"),
        "destination": Param("", type="string", description="Folder or URL; empty: $AIRFLOW_HOME/meetings_output"),
    },
) as dag:

    @task
    def destination(**context: Any) -> str:
        """The ``destination`` param, or the sample DAGs' output folder."""
        from meetings_dag_helpers.outputs import resolve_output_dir

        return context["params"]["destination"].strip() or str(resolve_output_dir("") / DAG_ID)

    # [START howto_meeting_artifacts_sensor]
    wait = TeamsMeetingArtifactsSensor(
        task_id="wait_for_artifacts",
        join_url="{{ params.join_url }}",
        user_id="{{ params.organizer }}",  # empty: the connection's default_user_id
        artifacts=["attendance"],
        deferrable=True,  # the default: the wait runs in the triggerer
        poke_interval=15,
        timeout=3600,
    )
    store = FetchTeamsMeetingArtifactsOperator(
        task_id="store_artifacts",
        meeting_id="{{ ti.xcom_pull(task_ids='wait_for_artifacts')['meeting_id'] }}",
        user_id="{{ params.organizer }}",
        destination=destination(),
        artifacts=["attendance"],
        outlets=[MEETING_ARTIFACTS],
    )
    wait >> store
    # [END howto_meeting_artifacts_sensor]
