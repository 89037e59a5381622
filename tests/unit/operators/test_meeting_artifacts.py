"""The fetch operator without a network: its arguments."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator


def test_defaults_and_templated_fields() -> None:
    task = FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", external_id="interview-1")
    assert task.artifacts == ("attendance", "transcript", "recording")
    assert set(task.template_fields) == {"destination", "meeting_id", "join_url", "external_id", "user_id"}
    assert task.template_ext == ()


def test_unknown_artifacts_fail_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"unknown artifact\(s\) \['chat'\]"):
        FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", meeting_id="m", artifacts=["chat"])
