"""The emulator's meeting artifacts over HTTPS with real tokens: attendance, transcripts, recordings."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import requests
from artifact_testlib import VTT, attendees, calendar_meeting, meeting_path, segment, standalone_meeting
from emulator_testlib import GRAPH_SCOPE, make_app

from meetings_emulator.config import ARTIFACT_PERMISSIONS, DEFAULT_APP_ROLES

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
TRANSCRIPT_TEXT = "application/vnd.microsoft.graph.transcript+text"


def _held(emu: Any, graph: Graph, **options: Any) -> tuple[dict[str, Any], str]:
    """Hold one session of a fresh calendar meeting; ``(summary, meeting path)``."""
    join_url = calendar_meeting(graph, emu.default_user_id)
    options.setdefault("attendees", attendees(3))
    held = emu.hold_meeting(join_url, **options)
    return held, meeting_path(emu.default_user_id, held["meetingId"])


def _inner_code(response: requests.Response) -> str:
    return response.json()["error"]["innerError"].get("code")


def _sha256(response: requests.Response) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in response.iter_content(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def test_attendance_records_page_with_next_links(emu: Any, graph: Graph) -> None:
    emu.set_page_size(2)
    held, path = _held(emu, graph, attendees=attendees(5))
    url = f"{path}/attendanceReports/{held['reportId']}/attendanceRecords"
    page = graph("GET", url).json()
    records, pages = list(page["value"]), 1
    while "@odata.nextLink" in page:
        page = requests_get(emu, graph, page["@odata.nextLink"])
        records += page["value"]
        pages += 1
    assert pages == 3
    assert [r["identity"]["id"] for r in records] == [a["id"] for a in attendees(5)]
    second = records[1]
    assert second["role"] == "Attendee" and second["emailAddress"] == "person1@contoso.example"
    assert second["attendanceIntervals"] == [
        {
            "joinDateTime": "2026-12-01T10:01:00.0000000Z",
            "leaveDateTime": "2026-12-01T10:30:00.0000000Z",
            "durationInSeconds": 29 * 60,
        },
        {
            "joinDateTime": "2026-12-01T10:40:00.0000000Z",
            "leaveDateTime": "2026-12-01T10:45:30.0000000Z",
            "durationInSeconds": 330,
        },
    ]
    assert second["totalAttendanceInSeconds"] == 29 * 60 + 330
    assert records[-1]["emailAddress"] is None  # an anonymous or phone participant
    expanded = graph("GET", f"{path}/attendanceReports/{held['reportId']}?$expand=attendanceRecords").json()
    assert expanded["attendanceRecords"] == records
    assert expanded["totalParticipantCount"] == 5
    assert graph("GET", f"{url}?$top=4").json()["value"] == records[:2]  # the page size still caps


def requests_get(emu: Any, graph: Graph, url: str) -> dict[str, Any]:
    """Follow an ``@odata.nextLink`` (an absolute URL) with the same token."""
    assert url.startswith(f"{emu.url}/v1.0/")
    response = graph("GET", url[len(f"{emu.url}/v1.0") :])
    assert response.status_code == 200, response.text
    return response.json()


def test_nothing_before_the_session_ends_then_its_report(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, ended=False, transcript=VTT, recording_size=1000)
    assert (held["reportId"], held["transcriptId"], held["recordingId"]) == (None, None, None)
    for tail in ("attendanceReports", "transcripts", "recordings"):
        response = graph("GET", f"{path}/{tail}")
        assert response.status_code == 200 and response.json()["value"] == [], (tail, response.text)
    [ended] = emu.end_meeting(held["meetingId"])
    assert ended["ended"] and ended["reportId"] and ended["transcriptId"] and ended["recordingId"]
    reports = graph("GET", f"{path}/attendanceReports").json()["value"]
    assert [r["id"] for r in reports] == [ended["reportId"]]


def test_a_session_in_progress_adds_no_report(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph)
    join_url = graph("GET", path).json()["joinWebUrl"]
    running = emu.hold_meeting(join_url, attendees=attendees(2, day="2026-12-08"), ended=False)
    assert running["reportId"] is None
    assert [r["id"] for r in graph("GET", f"{path}/attendanceReports").json()["value"]] == [held["reportId"]]
    second = emu.hold_meeting(join_url, attendees=attendees(2, day="2026-12-15"))
    reports = graph("GET", f"{path}/attendanceReports").json()["value"]
    assert [r["id"] for r in reports] == [second["reportId"], held["reportId"]]  # most recent first
    assert reports[0]["meetingStartDateTime"] == "2026-12-15T10:00:00.0000000Z"


def test_transcript_is_the_utf8_webvtt_byte_for_byte(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, transcript=VTT)
    [listed] = graph("GET", f"{path}/transcripts").json()["value"]
    assert listed["id"] == held["transcriptId"] and listed["meetingId"] == held["meetingId"]
    transcript = f"{path}/transcripts/{segment(held['transcriptId'])}"
    assert listed["transcriptContentUrl"] == f"{emu.url}/v1.0{transcript}/content"
    for extra in ({"params": {"$format": "text/vtt"}}, {"headers": {"Accept": "text/vtt"}}, {}):
        response = graph("GET", f"{transcript}/content", **extra)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/vtt"
        assert response.content == VTT.encode("utf-8")
    plain = graph("GET", f"{transcript}/content", headers={"Accept": TRANSCRIPT_TEXT})
    # WebVTT is UTF-8 (the page's Content-Type names no charset): decode it as such.
    text = plain.content.decode("utf-8")
    assert plain.status_code == 200 and "<v " not in text and "Grüße aus Zürich" in text
    metadata = graph("GET", f"{transcript}/metadataContent")
    assert metadata.status_code == 200 and '"speakerName": "Ola Nordmann"' in metadata.content.decode("utf-8")
    assert graph("GET", f"{transcript}/content", params={"$format": TRANSCRIPT_TEXT}).status_code == 400


def test_transcripts_and_recordings_are_created_with_their_session_and_end_with_it(emu: Any, graph: Graph) -> None:
    # calltranscript / callrecording: createdDateTime "at which [it] was created", endDateTime
    # "at which [it] ends": two times (the emulator's choice of both is in its assumptions).
    held, path = _held(
        emu, graph, start="2030-05-06T08:00:00Z", end="2030-05-06T09:30:00Z", transcript=VTT, recording_size=1024
    )
    [report] = graph("GET", f"{path}/attendanceReports").json()["value"]
    for collection in ("transcripts", "recordings"):
        [item] = graph("GET", f"{path}/{collection}").json()["value"]
        assert item["createdDateTime"] == report["meetingStartDateTime"] == "2030-05-06T08:00:00.0000000Z"
        assert item["endDateTime"] == report["meetingEndDateTime"] == "2030-05-06T09:30:00.0000000Z"
    assert held["meetingId"]


def test_recording_streams_the_held_bytes_and_resumes_with_a_range(emu: Any, graph: Graph) -> None:
    size = 3 * 1024 * 1024 + 17
    held, path = _held(emu, graph, recording_size=size)
    [listed] = graph("GET", f"{path}/recordings").json()["value"]
    content = f"{path}/recordings/{segment(held['recordingId'])}/content"
    assert listed["recordingContentUrl"] == f"{emu.url}/v1.0{content}"
    response = graph("GET", content, stream=True)
    assert response.status_code == 200
    assert (response.headers["Content-Type"], response.headers["Content-Length"]) == ("video/mp4", str(size))
    assert _sha256(response) == (held["recordingSha256"], size)
    head = graph("GET", content, headers={"Range": "bytes=0-1048575"}).content
    tail = graph("GET", content, headers={"Range": "bytes=1048576-"})
    assert tail.status_code == 206 and tail.headers["Content-Range"] == f"bytes 1048576-{size - 1}/{size}"
    assert hashlib.sha256(head + tail.content).hexdigest() == held["recordingSha256"]
    assert head[4:8] == b"ftyp"
    past = graph("GET", content, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{size}"
    again = emu.hold_meeting(graph("GET", path).json()["joinWebUrl"], attendees=[], recording_size=size)
    assert again["recordingSha256"] != held["recordingSha256"]  # each recording its own bytes


def test_drop_mid_stream_cuts_the_body_then_a_range_resumes(emu: Any, graph: Graph) -> None:
    size = 1024 * 1024
    held, path = _held(emu, graph, recording_size=size)
    content = f"{path}/recordings/{segment(held['recordingId'])}/content"
    emu.script({"kind": "drop_mid_stream", "after_bytes": 300_000}, match="/recordings/")
    response = graph("GET", content, stream=True)
    assert response.status_code == 200 and response.headers["Content-Length"] == str(size)
    received = bytearray()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for chunk in response.iter_content(1000):  # 300 whole chunks, then the error
            received += chunk
    assert len(received) == 300_000
    rest = graph("GET", content, headers={"Range": f"bytes={len(received)}-"})
    assert rest.status_code == 206
    assert hashlib.sha256(bytes(received) + rest.content).hexdigest() == held["recordingSha256"]
    assert emu.pending_faults() == []


@pytest.mark.parametrize("permission", ARTIFACT_PERMISSIONS)
def test_each_missing_permission_is_a_403(emu: Any, graph: Graph, permission: str) -> None:
    held, path = _held(emu, graph, transcript=VTT, recording_size=10)
    emu.set_app_roles([r for r in DEFAULT_APP_ROLES if r != permission])
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    needs = {
        f"{path}/attendanceReports": "OnlineMeetingArtifact.Read.All",
        f"{path}/attendanceReports/{held['reportId']}/attendanceRecords": "OnlineMeetingArtifact.Read.All",
        f"{path}/transcripts": "OnlineMeetingTranscript.Read.All",
        f"{path}/transcripts/{segment(held['transcriptId'])}/content": "OnlineMeetingTranscript.Read.All",
        f"{path}/recordings": "OnlineMeetingRecording.Read.All",
        f"{path}/recordings/{segment(held['recordingId'])}/content": "OnlineMeetingRecording.Read.All",
    }
    for url, needed in needs.items():
        response = graph("GET", url, token=token)
        expected = 403 if needed == permission else 200
        assert response.status_code == expected, (url, response.text)
        if expected == 403:
            assert response.json()["error"]["code"] == "Forbidden"


def test_app_tokens_need_the_organizers_access_policy(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph)
    emu.revoke_policy(emu.default_user_id)
    response = graph("GET", f"{path}/attendanceReports")
    assert response.status_code == 403
    assert "Application Access Policy" in response.json()["error"]["message"]


def test_delegated_me_reads_the_signed_in_organizers_artifacts(emu: Any, graph: Graph, delegated_token: str) -> None:
    held, _ = _held(emu, graph, transcript=VTT)
    me = f"/me/onlineMeetings/{segment(held['meetingId'])}"
    assert len(graph("GET", f"{me}/attendanceReports", token=delegated_token).json()["value"]) == 1
    content = graph("GET", f"{me}/transcripts/{segment(held['transcriptId'])}/content", token=delegated_token)
    assert content.content == VTT.encode("utf-8")


def test_standalone_meeting_has_attendance_but_no_transcripts_or_recordings(emu: Any, graph: Graph) -> None:
    meeting = standalone_meeting(graph, emu.default_user_id)
    held = emu.hold_meeting(meeting["id"], attendees=attendees(2), transcript=VTT, recording_size=100)
    path = meeting_path(emu.default_user_id, meeting["id"])
    assert [r["id"] for r in graph("GET", f"{path}/attendanceReports").json()["value"]] == [held["reportId"]]
    for url in (
        f"{path}/transcripts",
        f"{path}/transcripts/{segment(held['transcriptId'])}/content",
        f"{path}/recordings",
        f"{path}/recordings/{segment(held['recordingId'])}/content",
    ):
        response = graph("GET", url)
        assert response.status_code == 412, (url, response.text)
        error = response.json()["error"]
        assert error["code"] == "PreconditionFailed" and error["message"].startswith("No iCalUid found")


def test_tenant_transcript_access_off(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, transcript=VTT, recording_size=10)
    emu.set_transcript_access(False)
    for url in (f"{path}/transcripts", f"{path}/transcripts/{segment(held['transcriptId'])}/content"):
        response = graph("GET", url)
        assert response.status_code == 403 and _inner_code(response) == "GraphAccessToTranscriptsDisabled"
        assert response.json()["error"]["code"] == "Forbidden"
    assert graph("GET", f"{path}/recordings").status_code == 200  # recordings are not transcripts
    emu.set_transcript_access(True)
    assert graph("GET", f"{path}/transcripts").status_code == 200


def test_speaker_attribution_off_refuses_vtt_but_not_unattributed_text(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, transcript=VTT)
    emu.set_speaker_attribution(False)
    content = f"{path}/transcripts/{segment(held['transcriptId'])}/content"
    for extra in ({"params": {"$format": "text/vtt"}}, {}):
        response = graph("GET", content, **extra)
        assert response.status_code == 403 and _inner_code(response) == "SpeakerAttributionNotAllowed"
    plain = graph("GET", content, headers={"Accept": TRANSCRIPT_TEXT})
    assert plain.status_code == 200 and plain.headers["Content-Type"] == TRANSCRIPT_TEXT
    text = plain.content.decode("utf-8")
    assert "Zoë" not in text and "Takk! 🎉 Let's begin." in text


def test_base64_ids_travel_as_single_encoded_segments(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, transcript=VTT, recording_size=10)
    for key in ("transcriptId", "recordingId"):
        assert {"/", "+", "="} <= set(held[key]), held[key]
    raw = graph("GET", f"{path}/transcripts/{held['transcriptId']}/content")  # "/" splits the id
    assert raw.status_code in (400, 404)
    wrong = graph("GET", f"{path}/transcripts/{segment(held['transcriptId'][:-2] + 'AA')}")
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "NotFound"
    assert graph("GET", f"{path}/attendanceReports/{segment('no/such+report=')}").status_code == 404
    got = graph("GET", f"{path}/recordings/{segment(held['recordingId'])}")
    assert got.status_code == 200 and got.json()["id"] == held["recordingId"]


def test_control_api_refuses_unknown_meetings_and_bad_sessions(emu: Any, graph: Graph) -> None:
    with pytest.raises(KeyError):
        emu.hold_meeting("no-such-meeting", attendees=[])
    join_url = calendar_meeting(graph, emu.default_user_id)
    with pytest.raises(ValueError):
        emu.hold_meeting(join_url, attendees=[{"id": "x", "role": "Chair"}])
    with pytest.raises(ValueError):
        emu.hold_meeting(join_url, attendees=[], recording_size=-1)
    for missing in ({"displayName": "no id"}, {"id": None}, {"id": "  "}, {"id": 7}):
        with pytest.raises(ValueError, match="each attendee needs an id"):
            emu.hold_meeting(join_url, attendees=[missing])
    assert emu.artifacts() == []  # nothing was held by the refused calls
    with pytest.raises(ValueError):
        emu.set_page_size(0)


def test_artifact_routes_as_batch_items(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, transcript=VTT, recording_size=5000)
    requests_ = [
        {"id": "1", "method": "GET", "url": f"{path}/attendanceReports"},
        {"id": "2", "method": "GET", "url": f"{path}/transcripts/{segment(held['transcriptId'])}/content"},
        {"id": "3", "method": "GET", "url": f"{path}/recordings/{segment(held['recordingId'])}/content"},
    ]
    answer = graph("POST", "/$batch", json={"requests": requests_})
    assert answer.status_code == 200, answer.text
    by_id = {r["id"]: r for r in answer.json()["responses"]}
    assert by_id["1"]["body"]["value"][0]["id"] == held["reportId"]
    # non-JSON bodies of batch items come base64-encoded
    assert base64.b64decode(by_id["2"]["body"]) == VTT.encode("utf-8")
    assert hashlib.sha256(base64.b64decode(by_id["3"]["body"])).hexdigest() == held["recordingSha256"]
    assert by_id["3"]["headers"]["Content-Type"] == "video/mp4"


def test_lists_carry_their_count(emu: Any, graph: Graph) -> None:
    held, path = _held(emu, graph, transcript=VTT, recording_size=1)
    for tail in ("transcripts", "recordings"):
        assert graph("GET", f"{path}/{tail}").json()["@odata.count"] == 1
