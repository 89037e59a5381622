"""The arguments naming a meeting and its artifacts (pure rules, plain tables)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import airflow_provider_meetings.artifact_args as artifact_args
from airflow_provider_meetings.artifact_args import (
    ARTIFACTS,
    SHOWN_CHARS,
    ArgumentError,
    check_artifacts,
    describe_reference,
    meeting_reference,
    shown,
)


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


@pytest.mark.parametrize(
    ("call", "argument", "problem"),
    [
        (lambda: check_artifacts([]), "artifacts", "must name at least one of"),
        (lambda: check_artifacts("chat"), "artifacts", "unknown artifact(s) ['chat']"),
        (lambda: meeting_reference(join_url=7), "join_url", "must be text, got int: 7"),
        (lambda: meeting_reference(meeting_id="", join_url=" "), "meeting", "name the meeting by exactly one"),
    ],
    ids=["no artifacts", "unknown artifact", "not text", "empty values"],
)
def test_refusals_name_their_argument(call, argument, problem) -> None:
    """What artifacts/ raises again as InvalidRequestError(argument, problem)."""
    with pytest.raises(ArgumentError) as caught:
        call()
    assert caught.value.argument == argument and caught.value.problem.startswith(problem)
    assert isinstance(caught.value, ValueError)  # the operators catch ValueError


def test_empty_and_blank_values_are_not_given() -> None:
    assert meeting_reference(meeting_id="", join_url=" https://t/x ", external_id=" \t", user_id="") == {
        "join_url": "https://t/x"
    }


def test_shown_shortens_what_is_long_only() -> None:
    assert shown("meeting_id", "m-1") == "meeting_id=m-1"
    exact = "x" * SHOWN_CHARS
    assert shown("join_url", exact) == f"join_url={exact}"
    long = shown("join_url", exact + "y")
    assert long == f"join_url={exact[: SHOWN_CHARS - 3]}..." and len(long) == len("join_url=") + SHOWN_CHARS


def test_only_the_standard_library_is_imported() -> None:
    """Airflow imports this module when it parses a DAG file: no hook, no msal, no requests
    (docs/architecture.md, "What each layer may import")."""
    tree = ast.parse(Path(artifact_args.__file__).read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules and all(name.split(".")[0] in sys.stdlib_module_names or name == "__future__" for name in modules), (
        modules
    )
