"""The hook's artifact methods against the emulator's artifacts (issue 23): both halves agree.

Real MSAL, real HTTPS, real requests streaming; the emulator holds the meetings (its control
API ``hold_meeting``) and refuses, drops and pages as Graph does.
"""

from __future__ import annotations

import datetime
import hashlib
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_meetings.artifacts.errors import (
    ArtifactPermissionError,
    MeetingNotFoundError,
    StandaloneMeetingError,
    TranscriptAccessDisabledError,
)
from airflow_provider_meetings.graph.errors import RetriesExhaustedError
from meetings_emulator.config import DEFAULT_APP_ROLES, ORGANIZER_ID

pytestmark = pytest.mark.integration

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
START = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=BERLIN)
VTT = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:03.500\n<v Zoë Ünal>Grüß Gott, ça va? 你好 👋</v>\n\n"
    "00:00:03.500 --> 00:00:05.000\n<v Łukasz Ø>Ja — danke.</v>\n"
)
RECORDING_SIZE = 3 * 1024 * 1024 + 12_345


def attendees(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"0000000{i}-aaaa-bbbb-cccc-dddddddddddd",
            "displayName": f"Person {i}",
            "email": f"p{i}@contoso.example" if i else None,
            "role": "Organizer" if i == 0 else "Attendee",
            "intervals": [{"join": "2030-03-05T08:00:00Z", "leave": f"2030-03-05T08:{10 + i:02d}:00Z"}],
        }
        for i in range(n)
    ]


def event_meeting(hook: Any, key: str = "lecture-7") -> str:
    """A calendar event with a Teams meeting; its join URL."""
    result = hook.create_or_get_event(
        key, subject="Lecture", start=START, end=START + datetime.timedelta(hours=1), user_id=ORGANIZER_ID
    )
    return result.join_url


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def hook(make_hook: Any) -> Any:
    return make_hook(default_user_id=ORGANIZER_ID)


# -- attendance ------------------------------------------------------------------------------


def test_attendance_records_across_pages_of_every_report(hook, graph_emulator) -> None:
    join_url = event_meeting(hook)
    graph_emulator.set_page_size(2)
    first = graph_emulator.hold_meeting(join_url, attendees=attendees(5))
    second = graph_emulator.hold_meeting(join_url, attendees=attendees(3))

    records = hook.attendance_records(external_id="lecture-7")

    assert len(records) == 8
    assert [r["reportId"] for r in records] == [first["reportId"]] * 5 + [second["reportId"]] * 3
    assert {r["identity"]["displayName"] for r in records} == {f"Person {i}" for i in range(5)}
    assert all(r["meetingStartDateTime"] and r["meetingEndDateTime"] for r in records)
    assert graph_emulator.stats()["by_route"]["listAttendanceRecords"]["200"] == 3 + 2  # pages of 2


def test_attendance_is_empty_before_the_meeting_and_while_it_runs(hook, graph_emulator) -> None:
    join_url = event_meeting(hook)
    assert hook.attendance_records(join_url=join_url) == []
    graph_emulator.hold_meeting(join_url, attendees=attendees(2), ended=False)
    assert hook.attendance_records(join_url=join_url) == []
    status = hook.meeting_artifacts_status(join_url=join_url)
    assert status["ended"] is False and status["ready"] is False


def test_resolve_by_join_url_external_id_and_meeting_id_agree(hook, graph_emulator) -> None:
    join_url = event_meeting(hook, "O'Neil-review")
    held = graph_emulator.hold_meeting(join_url, attendees=attendees(1))
    by_url = hook.resolve_meeting(join_url=join_url)
    by_event = hook.resolve_meeting(external_id="O'Neil-review")
    assert by_url == by_event == (ORGANIZER_ID, held["meetingId"])
    assert hook.resolve_meeting(meeting_id=held["meetingId"]) == by_url


def test_external_id_of_a_create_or_get_meeting_is_not_looked_up(hook) -> None:
    hook.create_or_get_meeting("standalone-1")
    with pytest.raises(MeetingNotFoundError, match="creating task's XCom"):
        hook.attendance_records(external_id="standalone-1")


# -- transcripts and recordings --------------------------------------------------------------


def test_transcript_is_the_utf8_webvtt_byte_for_byte(hook, graph_emulator, tmp_path) -> None:
    join_url = event_meeting(hook)
    graph_emulator.hold_meeting(join_url, attendees=attendees(2), transcript=VTT)

    [path] = hook.download_transcripts(tmp_path, join_url=join_url)

    assert Path(path).read_bytes() == VTT.encode("utf-8")
    assert Path(path).suffix == ".vtt" and Path(path).parent.parent == tmp_path


def test_transcript_without_speaker_attribution_falls_back(hook, graph_emulator, tmp_path) -> None:
    join_url = event_meeting(hook)
    graph_emulator.hold_meeting(join_url, attendees=attendees(2), transcript=VTT)
    graph_emulator.set_speaker_attribution(False)
    [path] = hook.download_transcripts(tmp_path, join_url=join_url)
    text = Path(path).read_text(encoding="utf-8")
    assert "Grüß Gott" in text and "Zoë Ünal" not in text


def test_recording_streams_to_the_same_sha256_and_a_rerun_replaces_it(hook, graph_emulator, tmp_path) -> None:
    join_url = event_meeting(hook)
    held = graph_emulator.hold_meeting(join_url, attendees=attendees(2), recording_size=RECORDING_SIZE)

    [path] = hook.download_recordings(str(tmp_path), external_id="lecture-7")
    [again] = hook.download_recordings(str(tmp_path), external_id="lecture-7")

    assert path == again and files_under(tmp_path) == [Path(path)]
    assert Path(path).stat().st_size == held["recordingSize"] == RECORDING_SIZE
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == held["recordingSha256"]


def test_a_drop_mid_stream_is_retried_and_leaves_no_partial_file(hook, graph_emulator, tmp_path, hook_logs) -> None:
    join_url = event_meeting(hook)
    held = graph_emulator.hold_meeting(join_url, attendees=attendees(1), recording_size=RECORDING_SIZE)
    graph_emulator.script({"kind": "drop_mid_stream", "after_bytes": 2_500_000}, match="recordings/.*/content")

    [path] = hook.download_recordings(tmp_path, join_url=join_url)

    assert files_under(tmp_path) == [Path(path)]
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == held["recordingSha256"]
    assert graph_emulator.pending_faults() == []
    infos = " | ".join(hook_logs.messages("info"))
    assert (
        "connection dropped, retry 1/" in infos and "resuming at byte 2097152" in infos
    )  # after two whole 1 MiB chunks


def test_drops_past_the_retry_bound_leave_no_file_at_all(make_hook, graph_emulator, tmp_path) -> None:
    hook = make_hook(default_user_id=ORGANIZER_ID, max_retries=2, max_retry_wait=5)
    join_url = event_meeting(hook)
    graph_emulator.hold_meeting(join_url, attendees=attendees(1), recording_size=RECORDING_SIZE)
    graph_emulator.script({"kind": "drop_mid_stream", "after_bytes": 200_000}, match="recordings/.*/content", times=10)

    with pytest.raises(RetriesExhaustedError):
        hook.download_recordings(tmp_path, join_url=join_url)
    assert files_under(tmp_path) == []


def test_object_storage_destinations(hook, graph_emulator, tmp_path) -> None:
    from airflow.sdk import ObjectStoragePath

    join_url = event_meeting(hook)
    held = graph_emulator.hold_meeting(join_url, attendees=attendees(1), transcript=VTT, recording_size=500_000)

    [vtt] = hook.download_transcripts(ObjectStoragePath(f"file://{tmp_path}/store"), join_url=join_url)
    [mp4] = hook.download_recordings(f"file://{tmp_path}/store", join_url=join_url)

    assert vtt.startswith("file://") and mp4.startswith("file://")
    written = files_under(tmp_path / "store")
    assert sorted(p.suffix for p in written) == [".mp4", ".vtt"]
    by_suffix = {p.suffix: p for p in written}
    assert by_suffix[".vtt"].read_bytes() == VTT.encode()
    assert hashlib.sha256(by_suffix[".mp4"].read_bytes()).hexdigest() == held["recordingSha256"]


def test_status_for_the_sensor(hook, graph_emulator) -> None:
    join_url = event_meeting(hook)
    graph_emulator.hold_meeting(join_url, attendees=attendees(2), transcript=VTT)
    status = hook.meeting_artifacts_status(external_id="lecture-7")
    assert status["attendance"] == 1 and status["transcript"] == 1 and status["recording"] == 0
    assert status["ended"] is True and status["ready"] is False
    assert hook.meeting_artifacts_status(external_id="lecture-7", artifacts=("attendance", "transcript"))["ready"]


# -- a series: not_before --------------------------------------------------------------------


def weekly_sessions(hook: Any, graph_emulator: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Two sessions of one join URL a week apart (a weekly class), each with its transcript."""
    join_url = event_meeting(hook)
    last_week = graph_emulator.hold_meeting(
        join_url, attendees=attendees(3), start="2030-02-26T08:00:00Z", end="2030-02-26T09:00:00Z", transcript=VTT
    )
    this_week = graph_emulator.hold_meeting(
        join_url, attendees=attendees(2), start="2030-03-05T07:58:00Z", end="2030-03-05T09:00:00Z", transcript=VTT
    )
    return join_url, last_week, this_week


def test_not_before_keeps_this_sessions_attendance_and_files(hook, graph_emulator, tmp_path) -> None:
    join_url, last_week, this_week = weekly_sessions(hook, graph_emulator)
    not_before = datetime.datetime(2030, 3, 5, 8, 55, tzinfo=BERLIN)  # 07:55 UTC: this week's session started at 07:58

    records = hook.attendance_records(join_url=join_url, not_before=not_before)
    assert {r["reportId"] for r in records} == {this_week["reportId"]} and len(records) == 2
    assert len(hook.attendance_records(join_url=join_url)) == 5  # without it: every session's

    paths = hook.download_transcripts(tmp_path, external_id="lecture-7", not_before="2030-03-05T07:55:00Z")
    assert len(paths) == 1 and len(hook.download_transcripts(tmp_path / "all", join_url=join_url)) == 2
    assert last_week["reportId"] not in {r["reportId"] for r in records}


def test_a_window_leaves_out_the_later_sessions_too(hook, graph_emulator, tmp_path) -> None:
    join_url, last_week, this_week = weekly_sessions(hook, graph_emulator)
    window = {"not_before": "2030-02-26T07:30:00Z", "before": "2030-03-05T07:30:00Z"}  # last week's run, late
    records = hook.attendance_records(join_url=join_url, **window)
    assert {r["reportId"] for r in records} == {last_week["reportId"]} and len(records) == 3
    assert len(hook.download_transcripts(tmp_path, join_url=join_url, **window)) == 1
    status = hook.meeting_artifacts_status(join_url=join_url, artifacts=("attendance", "transcript"), **window)
    assert (status["attendance"], status["transcript"], status["ready"]) == (1, 1, True)
    assert this_week["reportId"] not in {r["reportId"] for r in records}


def test_the_status_is_not_ready_on_an_earlier_sessions_artifacts(hook, graph_emulator) -> None:
    join_url, _, _ = weekly_sessions(hook, graph_emulator)
    asked = {"join_url": join_url, "artifacts": ("attendance", "transcript")}
    assert hook.meeting_artifacts_status(**asked, not_before="2030-03-05T07:55:00Z")["ready"] is True
    next_week = hook.meeting_artifacts_status(**asked, not_before="2030-03-12T07:55:00Z")
    assert next_week == {
        "meeting_id": next_week["meeting_id"],
        "ended": False,
        "attendance": 0,
        "transcript": 0,
        "recording": 0,
        "ready": False,
    }
    assert hook.meeting_artifacts_status(**asked)["attendance"] == 2  # every session's


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("permission", "call"),
    [
        ("OnlineMeetingArtifact.Read.All", lambda hook, url, path: hook.attendance_records(join_url=url)),
        ("OnlineMeetingTranscript.Read.All", lambda hook, url, path: hook.download_transcripts(path, join_url=url)),
        ("OnlineMeetingRecording.Read.All", lambda hook, url, path: hook.download_recordings(path, join_url=url)),
    ],
    ids=["attendance", "transcripts", "recordings"],
)
def test_each_missing_permission_is_named(make_hook, graph_emulator, tmp_path, permission, call) -> None:
    hook = make_hook(default_user_id=ORGANIZER_ID)
    join_url = event_meeting(hook)
    graph_emulator.hold_meeting(join_url, attendees=attendees(1), transcript=VTT, recording_size=1000)
    graph_emulator.set_app_roles([role for role in DEFAULT_APP_ROLES if role != permission])
    hook = make_hook(default_user_id=ORGANIZER_ID)  # a new token, without the role

    with pytest.raises(ArtifactPermissionError) as caught:
        call(hook, join_url, tmp_path)
    assert caught.value.permission == permission and permission in str(caught.value)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("method", ["download_transcripts", "download_recordings"])
def test_a_standalone_meeting_is_explained(hook, graph_emulator, tmp_path, method) -> None:
    meeting = hook.create_or_get_meeting("standalone-2")
    graph_emulator.hold_meeting(meeting.meeting_id, attendees=attendees(1))
    with pytest.raises(StandaloneMeetingError, match=r"calendar event.*docs/events\.md") as caught:
        getattr(hook, method)(tmp_path, meeting_id=meeting.meeting_id)
    assert caught.value.permanent and caught.value.status == 412
    assert hook.attendance_records(meeting_id=meeting.meeting_id)  # attendance works for both


def test_transcript_access_disabled_is_permanent_and_names_the_setting(hook, graph_emulator, tmp_path) -> None:
    join_url = event_meeting(hook)
    graph_emulator.hold_meeting(join_url, attendees=attendees(1), transcript=VTT)
    graph_emulator.set_transcript_access(False)
    before = graph_emulator.stats()["by_route"].get("listTranscripts", {})
    with pytest.raises(TranscriptAccessDisabledError, match="Teams admin center") as caught:
        hook.download_transcripts(tmp_path, join_url=join_url)
    assert caught.value.permanent
    after = graph_emulator.stats()["by_route"]["listTranscripts"]
    assert sum(after.values()) - sum(before.values()) == 1  # not retried


def test_a_delegated_connection_reads_its_own_meetings_under_me(make_hook, graph_emulator, tmp_path) -> None:
    hook = make_hook(password=None, refresh_token=graph_emulator.public_refresh_token, default_user_id=None)
    join_url = hook.create_or_get_event(
        "delegated-class", subject="Class", start=START, end=START + datetime.timedelta(hours=1)
    ).join_url
    held = graph_emulator.hold_meeting(join_url, attendees=attendees(3), transcript=VTT)

    assert hook.resolve_meeting(join_url=join_url) == (None, held["meetingId"])
    assert len(hook.attendance_records(external_id="delegated-class")) == 3
    [path] = hook.download_transcripts(tmp_path, meeting_id=held["meetingId"])
    assert Path(path).read_bytes() == VTT.encode("utf-8")
    routes = graph_emulator.stats()["by_route"]
    assert routes["listAttendanceRecords"]["200"] >= 1 and routes["getTranscriptContent"]["200"] == 1


def test_an_organizer_given_by_upn_is_looked_up_once(make_hook, graph_emulator) -> None:
    """The onlineMeetings routes take the organizer's object id (a UPN answers 404 there); the
    hook looks a UPN up once, as for createOrGet, and the calendar lookup takes it as given."""
    upn = graph_emulator.user(ORGANIZER_ID)["userPrincipalName"]
    hook = make_hook()
    join_url = hook.create_or_get_event(
        "upn-lecture", subject="Lecture", start=START, end=START + datetime.timedelta(hours=1), user_id=upn
    ).join_url
    held = graph_emulator.hold_meeting(join_url, attendees=attendees(2))

    assert hook.resolve_meeting(user_id=upn, external_id="upn-lecture") == (ORGANIZER_ID, held["meetingId"])
    assert len(hook.attendance_records(user_id=upn, join_url=join_url)) == 2
    assert len(hook.attendance_records(user_id=upn, meeting_id=held["meetingId"])) == 2
    assert hook.organizers.lookups == 1
