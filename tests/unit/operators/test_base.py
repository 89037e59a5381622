"""The operators' shared bases: the artifacts tasks' keywords reach every subclass as they would if each
declared them (``default_args``, mapping, templating); the bulk operators fill in one default
organizer. Without a network."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_meetings.operators.base import MeetingArtifactsTask
from airflow_provider_meetings.operators.calendar_events import BulkCreateOrGetTeamsEventsOperator
from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator
from airflow_provider_meetings.operators.online_meetings import BulkCreateOrGetOnlineMeetingsOperator
from airflow_provider_meetings.sensors.meeting_artifacts import TeamsMeetingArtifactsSensor

DEFAULTS = {"conn_id": "graph_teaching", "user_id": "adele@contoso.example", "artifacts": ["recording"]}


def tasks_with(default_args: dict) -> tuple[TeamsMeetingArtifactsSensor, FetchTeamsMeetingArtifactsOperator]:
    with DAG("artifacts_defaults", schedule=None, start_date=pendulum.datetime(2026, 1, 1), default_args=default_args):
        sensor = TeamsMeetingArtifactsSensor(task_id="wait", external_id="lecture-1")
        fetch = FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", external_id="lecture-1")
    return sensor, fetch


@pytest.mark.parametrize("index", [0, 1], ids=["sensor", "fetch"])
def test_default_args_fill_the_keywords_of_the_base(index: int) -> None:
    task = tasks_with(DEFAULTS)[index]
    assert (task.conn_id, task.user_id, task.artifacts) == ("graph_teaching", "adele@contoso.example", ("recording",))
    assert task.external_id == "lecture-1"


def test_without_default_args_each_task_keeps_its_own_defaults() -> None:
    sensor, fetch = tasks_with({})
    assert sensor.conn_id == fetch.conn_id == "msgraph_meetings_default"
    assert (sensor.artifacts, fetch.artifacts) == (("attendance",), ("attendance", "transcript", "recording"))


def test_the_base_keywords_are_templated_in_both_tasks() -> None:
    sensor, fetch = tasks_with({})
    base = set(MeetingArtifactsTask.template_fields)
    assert base == {"meeting_id", "join_url", "external_id", "user_id", "not_before", "before"}
    assert set(sensor.template_fields) == base and set(fetch.template_fields) == base | {"destination"}


def test_a_misspelt_keyword_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(TypeError, match="meetng_id"):
        TeamsMeetingArtifactsSensor(task_id="wait", meetng_id="m")


@pytest.mark.filterwarnings("ignore:Task 'bad' was never mapped")
def test_mapping_over_a_keyword_of_the_base() -> None:
    with DAG("artifacts_mapped", schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
        mapped = FetchTeamsMeetingArtifactsOperator.partial(task_id="store", destination="/data").expand(
            meeting_id=["m1", "m2"]
        )
    assert mapped.expand_input.value == {"meeting_id": ["m1", "m2"]}
    with pytest.raises(TypeError, match="meetng_id"):
        FetchTeamsMeetingArtifactsOperator.partial(task_id="bad", destination="/data").expand(meetng_id=["m1"])


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param({"external_id": "a"}, {"external_id": "a", "user_id": "hr@contoso.com"}, id="none named"),
        pytest.param(
            {"external_id": "a", "user_id": ""}, {"external_id": "a", "user_id": "hr@contoso.com"}, id="empty"
        ),
        pytest.param(
            {"external_id": "a", "user_id": "it@contoso.com"},
            {"external_id": "a", "user_id": "it@contoso.com"},
            id="own",
        ),
        pytest.param("not a mapping", "not a mapping", id="as given"),
    ],
)
def test_the_bulk_operators_fill_in_their_default_organizer(item, expected) -> None:
    tasks = (
        BulkCreateOrGetTeamsEventsOperator(task_id="events", user_id="hr@contoso.com", events=[]),
        BulkCreateOrGetOnlineMeetingsOperator(task_id="meetings", user_id="hr@contoso.com", meetings=[]),
    )
    for task in tasks:
        assert task._with_default_organizer(item) == expected
