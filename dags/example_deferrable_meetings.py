"""
### Teams meetings that wait for Graph in the triggerer, not on a worker

A course's tutorials in one `BulkCreateOrGetOnlineMeetingsOperator` task, and its kickoff
in one `CreateOrGetOnlineMeetingOperator` task, both with `deferrable=True`. When Graph
throttles and asks (with `Retry-After`) for a pause longer than `defer_after` seconds, a
task does not sleep on its worker slot: it defers to the triggerer with Airflow's
`DateTimeTrigger` until then, and resumes. The bulk task keeps the results of the
tutorials it had booked (in its XCom `deferral`) and sends only the others after
resuming; its return value is the same list as without deferral.

Needs a running triggerer (`airflow triggerer`; `make stack` starts one). `defer_after` is
short here (5 s) so that the end-to-end test's throttling defers quickly; the default is
60 s. A task defers at most `max_deferrals` times (default 10), then fails with Graph's
throttling error and its retries apply. See `docs/operators.md`, "Deferral".

Trigger it by hand (no schedule); the external ids come from the run's logical date, so
a re-run of the same date books nothing new.

| param | default | meaning |
|---|---|---|
| `tutorials` | `6` | how many weekly tutorials to book |
| `organizer` | the emulator's organizer | object id or UPN of the tutorials' organizer |
| `lead` | the emulator's second user | object id or UPN of the kickoff's organizer |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
)

DAG_ID = "example_deferrable_meetings"
#: The emulator's seeded users Adele Vance and Alex Wilber, by Entra object id.
ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
LEAD = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"

with DAG(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["teams", "meetings", "example", "deferrable"],
    default_args={"owner": "data-platform", "retries": 2, "retry_delay": timedelta(minutes=2)},
    params={
        "tutorials": Param(6, type="integer", minimum=1, maximum=500),
        "organizer": Param(ORGANIZER, type="string", description="The tutorials' organizer (object id or UPN)"),
        "lead": Param(LEAD, type="string", description="The kickoff's organizer (object id or UPN)"),
    },
) as dag:

    @task
    def tutorials(**context: Any) -> list[dict[str, Any]]:
        """One tutorial a week from the run's logical date, 09:00-10:00 UTC."""
        params, day = context["params"], context["logical_date"].date()
        first = pendulum.datetime(day.year, day.month, day.day, 9, tz="UTC")
        return [
            {
                "external_id": f"{DAG_ID}-{day:%Y%m%d}-tutorial-{week}",
                "user_id": params["organizer"],
                "subject": f"Tutorial, week {week}",
                "start_date_time": (first + timedelta(weeks=week - 1)).isoformat(),
                "end_date_time": (first + timedelta(weeks=week - 1, hours=1)).isoformat(),
            }
            for week in range(1, params["tutorials"] + 1)
        ]

    # [START howto_deferrable_bulk_operator]
    BulkCreateOrGetOnlineMeetingsOperator(
        task_id="create_or_get_tutorials",
        meetings=tutorials(),
        deferrable=True,  # a long Retry-After waits in the triggerer; finished items are kept
        defer_after=5,  # seconds (default 60): shorter pauses are slept on the worker as usual
        max_deferrals=10,  # then the unfinished items fail with Graph's throttling error
    )
    # [END howto_deferrable_bulk_operator]

    # [START howto_deferrable_operator]
    CreateOrGetOnlineMeetingOperator(
        task_id="create_or_get_kickoff",
        external_id="{{ dag.dag_id }}-{{ ds_nodash }}-kickoff",
        user_id="{{ params.lead }}",
        subject="Course kickoff",
        start_date_time="{{ logical_date.replace(hour=8, minute=0, second=0, microsecond=0).isoformat() }}",
        deferrable=True,  # a long Retry-After waits in the triggerer, not on a worker slot
        defer_after=5,  # seconds (default 60); Graph's shorter pauses are slept as usual
    )
    # [END howto_deferrable_operator]
