"""The event operators in a real DAG run (``dag.test()``) against the emulator: templated event
fields, attendees' responses in XCom, one occurrence of a series cancelled."""

from __future__ import annotations

from typing import Any

import pytest
from reliability_testlib import LOGICAL_DATE, dag_source, load_dag, task_instances, xcom

from meetings_emulator.config import ORGANIZER_ID

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

TASKS = """
from airflow_provider_meetings.operators.calendar_events import CancelTeamsEventOperator, CreateOrGetTeamsEventOperator

book = CreateOrGetTeamsEventOperator(
    task_id="book",
    conn_id="{conn_id}",
    external_id="{{{{ dag.dag_id }}}}-class",
    user_id="{user_id}",
    subject="Weekly class",
    start="2030-03-05T09:00:00+01:00",
    end="2030-03-05T10:00:00+01:00",
    time_zone="Europe/Berlin",
    recurrence="RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4",
    attendees=["{{{{ params.student }}}}"],
    allow_new_time_proposals="{{{{ params.proposals }}}}",
    show_as="{{{{ params.show_as }}}}",
    sensitivity="",
    categories=["{{{{ params.category }}}}"],
    params={{"student": "ada@example.org", "proposals": "false", "show_as": "oof", "category": "Classes"}},
    **RETRIES,
)
skip = CancelTeamsEventOperator(
    task_id="skip",
    conn_id="{conn_id}",
    external_id="{{{{ dag.dag_id }}}}-class",
    user_id="{user_id}",
    occurrence_date="{{{{ params.holiday }}}}",
    comment="Holiday",
    params={{"holiday": "2030-03-12"}},
    **RETRIES,
)
book >> skip
"""


def test_fields_responses_and_an_occurrence(dags_folder: Any, graph_emulator: Any, meetings_conn_id: str) -> None:
    dag_id = "events_weekly_class"
    dag = load_dag(
        dags_folder, dag_id, dag_source(dag_id, TASKS.format(conn_id=meetings_conn_id, user_id=ORGANIZER_ID))
    )
    run = dag.test(logical_date=LOGICAL_DATE)
    tis = task_instances(run)
    assert {name: ti.state for name, ti in tis.items()} == {"book": "success", "skip": "success"}
    booked = xcom(tis["book"], "return_value")
    assert booked["status"] == "created" and booked["responses"] == {"ada@example.org": "none"}
    (stored,) = graph_emulator.events()
    event = stored["event"]
    assert (event["allowNewTimeProposals"], event["showAs"], event["categories"]) == (False, "oof", ["Classes"])
    assert event["sensitivity"] == "normal"  # rendered empty: not sent, Graph's default
    assert stored["cancelled_occurrences"] == {"2030-03-12": "Holiday"}
    assert xcom(tis["skip"], "return_value") == {
        "external_id": f"{dag_id}-class",
        "user_id": ORGANIZER_ID,
        "cancelled": True,
        "occurrence_date": "2030-03-12",
    }
    graph_emulator.respond_to_event(event["id"], "ada@example.org", "tentativelyAccepted")
    again = task_instances(dag.test(logical_date=LOGICAL_DATE))
    assert xcom(again["book"], "return_value")["responses"] == {"ada@example.org": "tentativelyAccepted"}
    assert xcom(again["skip"], "return_value")["cancelled"] is False  # that day is gone already
