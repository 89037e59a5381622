"""The arguments naming a meeting and its artifacts (pure rules, plain tables)."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.artifact_args import ARTIFACTS, check_artifacts, describe_reference, meeting_reference


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("transcript", ("transcript",)),
        (["recording", "attendance"], ("attendance", "recording")),
        (("attendance", "attendance"), ("attendance",)),
        (list(ARTIFACTS), ARTIFACTS),
    ],
    ids=["one name", "sorted in fetch order", "repeats dropped", "all"],
)
def test_artifacts_are_normalised(value, expected) -> None:
    assert check_artifacts(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "at least one of"),
        (None, "at least one of"),
        (["attendance", "chat"], r"unknown artifact\(s\) \['chat'\]"),
        ([1], "at least one of"),
    ],
    ids=["empty", "none", "unknown", "not text"],
)
def test_bad_artifacts_are_refused(value, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_artifacts(value)


def test_reference_keeps_the_one_meeting_name_and_the_organizer() -> None:
    assert meeting_reference(meeting_id=" MSo1N2Y5+/= ", user_id="adele@contoso.example", join_url="") == {
        "meeting_id": "MSo1N2Y5+/=",
        "user_id": "adele@contoso.example",
    }
    assert meeting_reference(external_id="interview-1") == {"external_id": "interview-1"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "got none"),
        ({"user_id": "adele"}, "got none"),
        ({"meeting_id": "m", "join_url": "https://teams"}, r"got \['meeting_id', 'join_url'\]"),
        ({"meeting_id": 42}, "meeting_id must be text"),
    ],
    ids=["nothing", "only organizer", "two names", "not text"],
)
def test_a_meeting_is_named_exactly_once(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message) as info:
        meeting_reference(**kwargs)
    if "got" in message:
        assert "creating task's XCom" in str(info.value)  # the createOrGet advice


def test_description_shortens_long_join_urls() -> None:
    text = describe_reference({"join_url": "https://teams.microsoft.com/l/meetup-join/" + "x" * 200, "user_id": "u"})
    assert text.startswith("join_url=https://teams.microsoft.com/l/meetup-join/x") and text.endswith("... user_id=u")
