"""The deferral arguments of the three operators, without a network."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest

from airflow_provider_meetings.deferral import DEFAULT_DEFER_AFTER, DEFAULT_MAX_DEFERRALS
from airflow_provider_meetings.operators.online_meetings import (
    BulkCreateOrGetOnlineMeetingsOperator,
    CreateOrGetOnlineMeetingOperator,
    DeleteOnlineMeetingOperator,
)

OPERATORS = [
    pytest.param(CreateOrGetOnlineMeetingOperator, {"external_id": "x"}, id="create"),
    pytest.param(DeleteOnlineMeetingOperator, {"external_id": "x"}, id="delete"),
    pytest.param(BulkCreateOrGetOnlineMeetingsOperator, {"meetings": []}, id="bulk"),
]


@pytest.mark.parametrize(("operator", "required"), OPERATORS)
def test_defaults_and_a_hook_that_sleeps_every_pause(operator, required) -> None:
    task = operator(task_id="t", **required)
    assert (task.deferrable, task.defer_after, task.max_deferrals) == (
        False,
        DEFAULT_DEFER_AFTER,
        DEFAULT_MAX_DEFERRALS,
    )
    assert task.hook.max_single_wait is None


@pytest.mark.parametrize(("operator", "required"), OPERATORS)
def test_a_deferrable_task_hook_sleeps_at_most_defer_after(operator, required) -> None:
    task = operator(task_id="t", deferrable=True, defer_after=2, max_deferrals=4, **required)
    assert (task.deferrable, task.defer_after, task.max_deferrals) == (True, 2.0, 4)
    assert task.hook.max_single_wait == 2.0


@pytest.mark.parametrize(("operator", "required"), OPERATORS)
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"defer_after": 0}, "defer_after must be a number of seconds above 0"),
        ({"defer_after": "soon"}, "defer_after must be a number of seconds above 0"),
        ({"max_deferrals": 0}, "max_deferrals must be a whole number of at least 1"),
    ],
    ids=["defer_after zero", "defer_after text", "max_deferrals zero"],
)
def test_bad_deferral_arguments_fail_when_the_dag_is_parsed(operator, required, arguments, message) -> None:
    with pytest.raises(ValueError, match=message):
        operator(task_id="t", **required, **arguments)


@pytest.mark.parametrize(("operator", "required"), OPERATORS)
def test_deferral_arguments_are_keyword_only(operator, required) -> None:
    parameters = inspect.signature(operator.__mro__[1].__init__).parameters
    for name in ("deferrable", "defer_after", "max_deferrals"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY


def test_default_deferrable_comes_from_airflow_config() -> None:
    code = (
        "from airflow_provider_meetings.operators.online_meetings import CreateOrGetOnlineMeetingOperator as Op\n"
        "print(Op(task_id='t', external_id='x').deferrable)\n"
    )
    env = {**os.environ, "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    assert out.strip().splitlines()[-1] == "True"


def test_a_deferrable_task_serializes_with_its_dag() -> None:
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG(dag_id="deferrable_serialization", schedule=None) as dag:
        BulkCreateOrGetOnlineMeetingsOperator(task_id="bulk", meetings=[], deferrable=True, defer_after=5)
    restored = DagSerialization.deserialize_dag(json.loads(json.dumps(DagSerialization.serialize_dag(dag))))
    assert restored.get_task("bulk").task_type == "BulkCreateOrGetOnlineMeetingsOperator"
