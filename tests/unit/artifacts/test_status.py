"""artifacts/status.py: the requested kinds are artifact_args' rule, refused as the provider's error."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.artifact_args import ARTIFACTS, check_artifacts
from airflow_provider_meetings.artifacts.status import artifacts_status, check_artifact_kinds
from airflow_provider_meetings.graph.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["recording", "attendance"], ("attendance", "recording")),  # was the given order
        ("transcript", ("transcript",)),
        (("recording", "recording", "transcript"), ("transcript", "recording")),
        (list(ARTIFACTS), ARTIFACTS),
    ],
    ids=["fetch order", "one name", "repeats dropped", "all"],
)
def test_kinds_are_what_the_operators_get(value, expected) -> None:
    assert check_artifact_kinds(value) == expected == check_artifacts(value)


@pytest.mark.parametrize(
    "value",
    [5, None, (), [1], ["attendance", "chat"], "slides"],
    ids=["int", "None", "empty", "not text", "unknown", "str"],
)
def test_bad_kinds_are_the_providers_error_with_the_operators_text(value) -> None:
    """``5`` raised TypeError before; every refusal is now ``InvalidRequestError`` on ``artifacts``."""
    with pytest.raises(ValueError) as operators:
        check_artifacts(value)
    with pytest.raises(InvalidRequestError) as caught:
        check_artifact_kinds(value)
    assert caught.value.field == "artifacts"
    assert str(caught.value) == f"artifacts: {operators.value.problem}"
    assert not str(caught.value).startswith("artifacts: artifacts")


def test_status_counts_only_what_was_asked() -> None:
    asked: list[str] = []

    def count(kind: str) -> int:
        asked.append(kind)
        return {"attendance": 0, "transcript": 2}.get(kind, 0)

    status = artifacts_status("m", check_artifact_kinds(["transcript"]), count)
    assert asked == ["transcript"]
    assert status == {
        "meeting_id": "m",
        "ended": True,
        "attendance": 0,
        "transcript": 2,
        "recording": 0,
        "ready": True,
    }
