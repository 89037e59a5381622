"""The hook's artifact methods refuse bad input before any client exists (no request, no token)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from airflow_provider_meetings.artifact_args import ARTIFACTS
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "99999999-8888-7777-6666-555555555555"
USER = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> OnlineMeetingsHook:
    extra = {"tenant_id": TENANT, "default_user_id": USER}
    conn = {"conn_type": "msgraph_meetings", "login": CLIENT, "password": "s", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_ART", json.dumps(conn))
    return OnlineMeetingsHook(conn_id="meetings_art")


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("attendance_records", {}, "meeting"),
    ("attendance_records", {"meeting_id": "m", "join_url": "https://t/x"}, "meeting"),
    ("download_transcripts", {"destination": "", "meeting_id": "m"}, "destination"),
    ("download_recordings", {"destination": 3, "meeting_id": "m"}, "destination"),
    ("download_recordings", {"destination": "/tmp", "meeting_id": "m", "external_id": "e"}, "meeting"),
    ("meeting_artifacts_status", {"meeting_id": "m", "artifacts": ("slides",)}, "artifacts"),
    ("meeting_artifacts_status", {"meeting_id": "m", "artifacts": 5}, "artifacts"),  # was a TypeError
    ("attendance_records", {"meeting_id": "", "join_url": "", "external_id": "  "}, "meeting"),
    ("resolve_meeting", {"join_url": "http://insecure/x"}, "join_url"),
]


@pytest.mark.parametrize(("method", "kwargs", "field"), CASES, ids=[f"{m}-{f}" for m, _, f in CASES])
def test_bad_input_is_refused_before_any_request(hook, method, kwargs, field) -> None:
    arguments = dict(kwargs)
    positional = [arguments.pop("destination")] if "destination" in arguments else []
    with pytest.raises(InvalidRequestError) as caught:
        getattr(hook, method)(*positional, **arguments)
    assert caught.value.field == field
    assert hook._client is None  # no client: no token asked, nothing sent


def test_a_url_destination_becomes_an_object_storage_path(hook, tmp_path) -> None:
    from airflow_provider_meetings.artifacts.destinations import LocalFolder, ObjectStore

    assert isinstance(hook.artifact_destination(f"file://{tmp_path}"), ObjectStore)
    assert isinstance(hook.artifact_destination(str(tmp_path)), LocalFolder)


def test_a_meeting_id_resolves_without_a_request(hook) -> None:
    assert hook.meeting_ref(meeting_id="a/b+c=").meeting_id == "a/b+c="
    assert hook._client is None


def test_an_empty_value_is_not_given_as_for_the_operators(hook) -> None:
    ref = hook.meeting_ref(user_id="", meeting_id="", join_url="https://teams.microsoft.com/l/x")
    assert (ref.user_id, ref.meeting_id, ref.join_url) == (USER, None, "https://teams.microsoft.com/l/x")
    assert hook._client is None


def test_the_status_asks_for_every_artifact_by_default() -> None:
    default = inspect.signature(OnlineMeetingsHook.meeting_artifacts_status).parameters["artifacts"].default
    assert default is ARTIFACTS


def test_the_names_of_a_meeting_are_the_keywords_meeting_reference_checks() -> None:
    # MeetingNames types the ``**names`` of every artifacts method (and of prepare_meeting_ref);
    # meeting_reference is the one place they are taken apart, so the two list the same keywords.
    from airflow_provider_meetings.artifact_args import (
        MEETING_KEYS,
        REFERENCE_KEYS,
        SESSION_KEYS,
        MeetingNames,
        meeting_reference,
    )

    checked = inspect.signature(meeting_reference).parameters
    assert set(MeetingNames.__annotations__) == set(REFERENCE_KEYS) == set(checked)
    assert set(MEETING_KEYS) | set(SESSION_KEYS) | {"user_id"} == set(REFERENCE_KEYS)


@pytest.mark.parametrize("method", ["meeting_ref", "resolve_meeting", "attendance_records", "meeting_artifacts_status"])
def test_a_misspelt_name_is_refused_before_any_request(hook, method) -> None:
    with pytest.raises(TypeError, match=rf"^{method}\(\) got an unexpected keyword argument 'meetingid'$"):
        getattr(hook, method)(meetingid="m")
    assert hook._client is None


def test_a_misspelt_name_is_found_before_the_artifacts_are_checked(hook, tmp_path) -> None:
    with pytest.raises(TypeError, match="meetingid"):
        hook.meeting_artifacts_status(meetingid="m", artifacts=("slides",))
    with pytest.raises(TypeError, match=r"^download_recordings\(\) .* 'notbefore'$"):
        hook.download_recordings(str(tmp_path), meeting_id="m", notbefore="2030-01-01T00:00:00Z")


def test_a_download_names_its_meeting_by_keyword_only(hook, tmp_path) -> None:
    with pytest.raises(TypeError):
        hook.download_transcripts(str(tmp_path), "m")  # a meeting id given by position
    assert hook._client is None
