"""Graph handlers of a meeting's artifacts: attendance reports and records, transcripts, recordings.

Thin handlers over :class:`~meetings_emulator.artifacts.ArtifactStore`, each citing its page:

- https://learn.microsoft.com/graph/api/meetingattendancereport-list
- https://learn.microsoft.com/graph/api/meetingattendancereport-get (``$expand=attendanceRecords``)
- https://learn.microsoft.com/graph/api/attendancerecord-list
- https://learn.microsoft.com/graph/api/onlinemeeting-list-transcripts
- https://learn.microsoft.com/graph/api/calltranscript-get (content, metadataContent)
- https://learn.microsoft.com/graph/api/onlinemeeting-list-recordings
- https://learn.microsoft.com/graph/api/callrecording-get (content)

The route match names the organizer (``users/{id}`` or ``me``: the access rules of
:func:`~meetings_emulator.graph_meetings.organizer`, the application access policy included)
and the meeting, report, transcript or recording, each one percent-encoded path segment
(ids are base64 and hold ``/``, ``+``, ``=``). The permission was checked by ``graph.py``.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from meetings_emulator.artifacts import Session, metadata_content, organizer_identity, unattributed
from meetings_emulator.errors import (
    ArtifactNotFound,
    GraphError,
    NotCalendarBacked,
    SpeakerAttributionNotAllowed,
    TranscriptAccessDisabled,
    bad_request,
)
from meetings_emulator.graph_meetings import organizer
from meetings_emulator.meetings import format_ticks
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken

VTT = "text/vtt"
#: The speaker-unattributed transcript format, chosen only with ``Accept`` (calltranscript-get).
TRANSCRIPT_TEXT = "application/vnd.microsoft.graph.transcript+text"
MP4 = "video/mp4"


def _query(request: GraphRequest) -> dict[str, list[str]]:
    query = parse_qs(request.query, keep_blank_values=True)
    return {k.replace("%24", "$"): v for k, v in query.items()}


def _meeting(service: EmulatorService, match: re.Match[str], token: AccessToken) -> tuple[str, dict[str, Any]]:
    """``(organizer id, meeting resource)``; Graph's 403/404 for the organizer or meeting."""
    user = organizer(service, match, token)
    with service.lock:
        meeting = service.meetings.get(service.directory.tenant_id, user.id, unquote(match["meeting"]))
    return user.id, meeting


def _context(service: EmulatorService, request: GraphRequest, user_id: str, meeting_id: str, tail: str) -> str:
    return f"{service.base_url}/{request.version}/$metadata#users('{user_id}')/onlineMeetings('{meeting_id}')/{tail}"


def _segment(value: str) -> str:
    return quote(value, safe="")


# -- attendance -----------------------------------------------------------------------------


def list_attendance_reports(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../onlineMeetings/{id}/attendanceReports``: the 50 most recent ended sessions."""
    user_id, meeting = _meeting(service, match, token)
    with service.lock:
        reports = [s.report() for s in service.artifacts.ended_sessions(meeting["id"])]
    context = _context(service, request, user_id, meeting["id"], "attendanceReports")
    return Reply(200, {"@odata.context": context, "value": reports})


def _session(service: EmulatorService, meeting_id: str, match: re.Match[str]) -> Session:
    with service.lock:
        session = service.artifacts.session_by_report(meeting_id, unquote(match["report"]))
    if session is None:
        raise ArtifactNotFound()
    return session


def get_attendance_report(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../attendanceReports/{reportId}`` (``$expand=attendanceRecords``: the records inline)."""
    user_id, meeting = _meeting(service, match, token)
    session = _session(service, meeting["id"], match)
    body = {
        "@odata.context": _context(service, request, user_id, meeting["id"], "attendanceReports/$entity"),
        **session.report(),
    }
    expand = ",".join(_query(request).get("$expand", []))
    if expand:
        if [e.strip() for e in expand.split(",")] != ["attendanceRecords"]:
            raise bad_request(
                f"Could not find a property named '{expand}' on type 'microsoft.graph.meetingAttendanceReport'."
            )
        body["attendanceRecords"] = session.records()
    return Reply(200, body)


def _skip(request: GraphRequest) -> int:
    token = (_query(request).get("$skiptoken") or [""])[0]
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("records:"))
    except ValueError:
        raise bad_request("Invalid $skiptoken.") from None


def list_attendance_records(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../attendanceReports/{reportId}/attendanceRecords``, paged with ``@odata.nextLink``.

    The page size is the emulator's setting (``$top`` lowers it); the next link carries an
    opaque ``$skiptoken`` (https://learn.microsoft.com/graph/paging: follow the link as is).
    """
    user_id, meeting = _meeting(service, match, token)
    session = _session(service, meeting["id"], match)
    records = session.records()
    with service.lock:
        size = service.artifacts.page_size
    top = (_query(request).get("$top") or [""])[0]
    if top:
        if not top.isdigit() or int(top) < 1:
            raise bad_request(f"Invalid value '{top}' for $top query option.")
        size = min(size, int(top))
    start = _skip(request)
    body: dict[str, Any] = {
        "@odata.context": _context(
            service, request, user_id, meeting["id"], f"attendanceReports('{session.report_id}')/attendanceRecords"
        ),
        "value": records[start : start + size],
    }
    if start + size < len(records):
        skiptoken = base64.urlsafe_b64encode(f"records:{start + size}".encode()).decode()
        top_part = f"$top={top}&" if top else ""
        body["@odata.nextLink"] = f"{service.base_url}/{request.version}{request.path}?{top_part}$skiptoken={skiptoken}"
    return Reply(200, body)


# -- transcripts and recordings ---------------------------------------------------------------


def _calendar_meeting(
    service: EmulatorService, match: re.Match[str], token: AccessToken, transcripts: bool
) -> tuple[str, dict[str, Any]]:
    """The meeting of a transcript or recording route, after the tenant and calendar checks.

    Order (an assumption, docs/emulator.md): organizer and policy, the tenant's transcript
    access, the meeting, then whether it belongs to a calendar event.
    """
    user = organizer(service, match, token)
    if transcripts:
        with service.lock:
            allowed = service.artifacts.transcript_access
        if not allowed:
            raise TranscriptAccessDisabled()
    with service.lock:
        meeting = service.meetings.get(service.directory.tenant_id, user.id, unquote(match["meeting"]))
    if not service.is_calendar_backed(meeting):
        raise NotCalendarBacked()
    return user.id, meeting


def _transcript_json(service: EmulatorService, request: GraphRequest, user_id: str, session: Session) -> dict:
    transcript = session.transcript
    assert transcript is not None
    base = f"{service.base_url}/{request.version}/users/{user_id}/onlineMeetings/{_segment(session.meeting_id)}"
    return {
        "id": transcript.id,
        "meetingId": session.meeting_id,
        "callId": transcript.call_id,
        "contentCorrelationId": transcript.correlation_id,
        "transcriptContentUrl": f"{base}/transcripts/{_segment(transcript.id)}/content",
        "createdDateTime": format_ticks(transcript.created),
        "endDateTime": format_ticks(transcript.end),
        "meetingOrganizer": organizer_identity(session.tenant_id, session.organizer_id),
    }


def _recording_json(service: EmulatorService, request: GraphRequest, user_id: str, session: Session) -> dict:
    recording = session.recording
    assert recording is not None
    base = f"{service.base_url}/{request.version}/users/{user_id}/onlineMeetings/{_segment(session.meeting_id)}"
    return {
        "id": recording.id,
        "meetingId": session.meeting_id,
        "callId": recording.call_id,
        "contentCorrelationId": recording.correlation_id,
        "recordingContentUrl": f"{base}/recordings/{_segment(recording.id)}/content",
        "createdDateTime": format_ticks(recording.created),
        "endDateTime": format_ticks(recording.end),
        "meetingOrganizer": organizer_identity(session.tenant_id, session.organizer_id),
    }


def _find_transcript(service: EmulatorService, meeting_id: str, match: re.Match[str]) -> Session:
    key = unquote(match["transcript"])
    with service.lock:
        found = next((s for s, t in service.artifacts.transcripts(meeting_id) if t.id == key), None)
    if found is None:
        raise ArtifactNotFound()
    return found


def _find_recording(service: EmulatorService, meeting_id: str, match: re.Match[str]) -> Session:
    key = unquote(match["recording"])
    with service.lock:
        found = next((s for s, r in service.artifacts.recordings(meeting_id) if r.id == key), None)
    if found is None:
        raise ArtifactNotFound()
    return found


def list_transcripts(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../onlineMeetings/{id}/transcripts``."""
    user_id, meeting = _calendar_meeting(service, match, token, transcripts=True)
    with service.lock:
        sessions = [s for s, _ in service.artifacts.transcripts(meeting["id"])]
    value = [_transcript_json(service, request, user_id, s) for s in sessions]
    context = _context(service, request, user_id, meeting["id"], "transcripts")
    # The pages' examples carry ``@odata.count`` (onlinemeeting-list-transcripts).
    return Reply(200, {"@odata.context": context, "@odata.count": len(value), "value": value})


def get_transcript(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../transcripts/{transcriptId}``."""
    user_id, meeting = _calendar_meeting(service, match, token, transcripts=True)
    session = _find_transcript(service, meeting["id"], match)
    context = _context(service, request, user_id, meeting["id"], "transcripts/$entity")
    return Reply(200, {"@odata.context": context, **_transcript_json(service, request, user_id, session)})


def _transcript_format(request: GraphRequest) -> str:
    """The format asked: ``$format=text/vtt`` or ``Accept``; ``text/vtt`` by default.

    calltranscript-get: ``text/vtt`` is the default, chosen by ``Accept`` or ``$format``;
    ``application/vnd.microsoft.graph.transcript+text`` "must be selected with the Accept
    header; the $format query parameter does not support it" (a 400 here: an assumption).
    """
    asked = (_query(request).get("$format") or [""])[0]
    if asked:
        if asked.lower() != VTT:
            raise bad_request(f"The $format '{asked}' is not supported for transcript content; use text/vtt.")
        return VTT
    accept = request.headers.get("accept", "").lower()
    return TRANSCRIPT_TEXT if TRANSCRIPT_TEXT in accept else VTT


def get_transcript_content(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../transcripts/{transcriptId}/content``: the WebVTT bytes as held (UTF-8)."""
    _, meeting = _calendar_meeting(service, match, token, transcripts=True)
    session = _find_transcript(service, meeting["id"], match)
    assert session.transcript is not None
    kind = _transcript_format(request)
    if kind == VTT:
        with service.lock:
            attributed = service.artifacts.speaker_attribution
        if not attributed:
            raise SpeakerAttributionNotAllowed()
        return Reply(200, session.transcript.content, {"Content-Type": VTT})
    return Reply(200, unattributed(session.transcript.content), {"Content-Type": TRANSCRIPT_TEXT})


def get_transcript_metadata(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../transcripts/{transcriptId}/metadataContent`` (calltranscript-get, example 4).

    It names the speakers, so with speaker attribution off it answers like ``text/vtt`` does
    (an assumption, docs/emulator.md).
    """
    _, meeting = _calendar_meeting(service, match, token, transcripts=True)
    session = _find_transcript(service, meeting["id"], match)
    assert session.transcript is not None
    with service.lock:
        attributed = service.artifacts.speaker_attribution
    if not attributed:
        raise SpeakerAttributionNotAllowed()
    return Reply(200, metadata_content(session.transcript.content, session.start), {"Content-Type": VTT})


def list_recordings(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../onlineMeetings/{id}/recordings``."""
    user_id, meeting = _calendar_meeting(service, match, token, transcripts=False)
    with service.lock:
        sessions = [s for s, _ in service.artifacts.recordings(meeting["id"])]
    value = [_recording_json(service, request, user_id, s) for s in sessions]
    context = _context(service, request, user_id, meeting["id"], "recordings")
    # The pages' examples carry ``@odata.count`` (onlinemeeting-list-recordings).
    return Reply(200, {"@odata.context": context, "@odata.count": len(value), "value": value})


def get_recording(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../recordings/{recordingId}``."""
    user_id, meeting = _calendar_meeting(service, match, token, transcripts=False)
    session = _find_recording(service, meeting["id"], match)
    context = _context(service, request, user_id, meeting["id"], "recordings/$entity")
    return Reply(200, {"@odata.context": context, **_recording_json(service, request, user_id, session)})


_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a single ``bytes=`` range (RFC 9110, 14.1.2); ``None``: ignore the header.

    :raises GraphError: 416 for a range that starts past the end.
    """
    found = _RANGE_RE.match(header)
    if found is None or not (found[1] or found[2]):
        return None  # not a single byte range: RFC 9110 lets a server ignore Range
    if not found[1]:  # a suffix: the last N bytes
        n = int(found[2])
        return (max(size - n, 0), size - 1) if n and size else None
    first = int(found[1])
    last = min(int(found[2]), size - 1) if found[2] else size - 1
    if first >= size or last < first:
        raise GraphError(
            416, "InvalidRange", "The requested range is not satisfiable.", {"Content-Range": f"bytes */{size}"}
        )
    return first, last


def get_recording_content(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../recordings/{recordingId}/content``: ``video/mp4``, streamed as it is generated.

    ``Content-Length`` is set; the bytes are written chunk by chunk (never held). A ``Range``
    request (``bytes=N-``) answers ``206`` with ``Content-Range`` so a client can resume
    after a drop: callrecording-get does not document ranges, the emulator follows HTTP
    (RFC 9110) as the storage behind recordings does (an assumption, docs/emulator.md).
    """
    _, meeting = _calendar_meeting(service, match, token, transcripts=False)
    session = _find_recording(service, meeting["id"], match)
    recording = session.recording
    assert recording is not None
    size = recording.stream.size
    headers = {"Content-Type": MP4, "Accept-Ranges": "bytes"}
    span = _byte_range(request.headers.get("range", ""), size) if request.headers.get("range") else None
    if span is None:
        headers["Content-Length"] = str(size)
        return Reply(200, headers=headers, stream=recording.stream.chunks())
    first, last = span
    headers["Content-Length"] = str(last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return Reply(206, headers=headers, stream=recording.stream.chunks(first, last + 1))
