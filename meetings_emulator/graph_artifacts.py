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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from meetings_emulator.artifacts import (
    Recording,
    Session,
    Transcript,
    metadata_content,
    organizer_identity,
    unattributed,
)
from meetings_emulator.errors import (
    ArtifactNotFound,
    GraphError,
    NotCalendarBacked,
    SpeakerAttributionNotAllowed,
    TranscriptAccessDisabled,
    bad_request,
)
from meetings_emulator.graph_meetings import organizer, stored_meeting
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.odata import context_url, next_link, query_option, top_option
from meetings_emulator.service import EmulatorService
from meetings_emulator.ticks import format_ticks
from meetings_emulator.tokens import AccessToken

VTT = "text/vtt"
#: The speaker-unattributed transcript format, chosen only with ``Accept`` (calltranscript-get).
TRANSCRIPT_TEXT = "application/vnd.microsoft.graph.transcript+text"
MP4 = "video/mp4"


def _meeting(service: EmulatorService, match: re.Match[str], token: AccessToken) -> tuple[str, dict[str, Any]]:
    """``(organizer id, meeting resource)``; Graph's 403/404 for the organizer or meeting."""
    user = organizer(service, match, token)
    return user.id, stored_meeting(service, user, match)


def _context(service: EmulatorService, request: GraphRequest, user_id: str, meeting_id: str, tail: str) -> str:
    return context_url(service.base_url, request, f"users('{user_id}')/onlineMeetings('{meeting_id}')/{tail}")


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
    expand = query_option(request, "$expand")
    if expand:
        if [e.strip() for e in expand.split(",")] != ["attendanceRecords"]:
            raise bad_request(
                f"Could not find a property named '{expand}' on type 'microsoft.graph.meetingAttendanceReport'."
            )
        body["attendanceRecords"] = session.records()
    return Reply(200, body)


def _skip(request: GraphRequest) -> int:
    token = query_option(request, "$skiptoken")
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
    top = top_option(request)
    if top is not None:
        size = min(size, top)
    start = _skip(request)
    body: dict[str, Any] = {
        "@odata.context": _context(
            service, request, user_id, meeting["id"], f"attendanceReports('{session.report_id}')/attendanceRecords"
        ),
        "value": records[start : start + size],
    }
    if start + size < len(records):
        skiptoken = base64.urlsafe_b64encode(f"records:{start + size}".encode()).decode()
        body["@odata.nextLink"] = next_link(service.base_url, request, {"$skiptoken": skiptoken})
    return Reply(200, body)


# -- transcripts and recordings ---------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """What tells transcripts from recordings; the rest of their routes is handled alike."""

    #: The path segment under a meeting, also the tail of ``@odata.context``.
    collection: str
    #: The route's match group that holds the item id.
    key: str
    #: The property that holds the content's URL (callTranscript, callRecording).
    content_url: str
    #: Whether the tenant's transcript access applies.
    transcript_access: bool

    def items(self, service: EmulatorService, meeting_id: str) -> Sequence[tuple[Session, Transcript | Recording]]:
        """The meeting's items of this kind with their sessions, oldest first (under the service lock)."""
        if self.transcript_access:
            return service.artifacts.transcripts(meeting_id)
        return service.artifacts.recordings(meeting_id)


_TRANSCRIPTS = _Kind("transcripts", "transcript", "transcriptContentUrl", transcript_access=True)
_RECORDINGS = _Kind("recordings", "recording", "recordingContentUrl", transcript_access=False)


def _calendar_meeting(
    service: EmulatorService, match: re.Match[str], token: AccessToken, kind: _Kind
) -> tuple[str, dict[str, Any]]:
    """The meeting of a transcript or recording route, after the tenant and calendar checks.

    Order (an assumption, docs/emulator.md): organizer and policy, the tenant's transcript
    access, the meeting, then whether it belongs to a calendar event.
    """
    user = organizer(service, match, token)
    if kind.transcript_access:
        with service.lock:
            allowed = service.artifacts.transcript_access
        if not allowed:
            raise TranscriptAccessDisabled()
    meeting = stored_meeting(service, user, match)
    if not service.is_calendar_backed(meeting):
        raise NotCalendarBacked()
    return user.id, meeting


def _item_json(
    service: EmulatorService,
    request: GraphRequest,
    user_id: str,
    found: tuple[Session, Transcript | Recording],
    kind: _Kind,
) -> dict:
    """A callTranscript or callRecording resource (calltranscript-get, callrecording-get)."""
    session, item = found
    base = f"{service.base_url}/{request.version}/users/{user_id}/onlineMeetings/{_segment(session.meeting_id)}"
    return {
        "id": item.id,
        "meetingId": session.meeting_id,
        "callId": item.call_id,
        "contentCorrelationId": item.correlation_id,
        kind.content_url: f"{base}/{kind.collection}/{_segment(item.id)}/content",
        "createdDateTime": format_ticks(item.created),
        "endDateTime": format_ticks(item.end),
        "meetingOrganizer": organizer_identity(session.tenant_id, session.organizer_id),
    }


def _find(
    service: EmulatorService, meeting_id: str, match: re.Match[str], kind: _Kind
) -> tuple[Session, Transcript | Recording]:
    key = unquote(match[kind.key])
    with service.lock:
        found = next((pair for pair in kind.items(service, meeting_id) if pair[1].id == key), None)
    if found is None:
        raise ArtifactNotFound()
    return found


def _list_items(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken, kind: _Kind
) -> Reply:
    user_id, meeting = _calendar_meeting(service, match, token, kind)
    with service.lock:
        found = kind.items(service, meeting["id"])
    value = [_item_json(service, request, user_id, pair, kind) for pair in found]
    context = _context(service, request, user_id, meeting["id"], kind.collection)
    # The pages' examples carry ``@odata.count`` (onlinemeeting-list-transcripts, onlinemeeting-list-recordings).
    return Reply(200, {"@odata.context": context, "@odata.count": len(value), "value": value})


def _get_item(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken, kind: _Kind
) -> Reply:
    user_id, meeting = _calendar_meeting(service, match, token, kind)
    found = _find(service, meeting["id"], match, kind)
    context = _context(service, request, user_id, meeting["id"], f"{kind.collection}/$entity")
    return Reply(200, {"@odata.context": context, **_item_json(service, request, user_id, found, kind)})


def list_transcripts(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../onlineMeetings/{id}/transcripts``."""
    return _list_items(service, request, match, token, _TRANSCRIPTS)


def get_transcript(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../transcripts/{transcriptId}``."""
    return _get_item(service, request, match, token, _TRANSCRIPTS)


def _transcript(service: EmulatorService, match: re.Match[str], token: AccessToken) -> tuple[Session, Transcript]:
    """The session and transcript a transcript's content route names."""
    _, meeting = _calendar_meeting(service, match, token, _TRANSCRIPTS)
    session, transcript = _find(service, meeting["id"], match, _TRANSCRIPTS)
    assert isinstance(transcript, Transcript)
    return session, transcript


def _require_speaker_attribution(service: EmulatorService) -> None:
    """403 when the tenant's speaker attribution is off (the content names the speakers)."""
    with service.lock:
        attributed = service.artifacts.speaker_attribution
    if not attributed:
        raise SpeakerAttributionNotAllowed()


def _transcript_format(request: GraphRequest) -> str:
    """The format asked: ``$format=text/vtt`` or ``Accept``; ``text/vtt`` by default.

    calltranscript-get: ``text/vtt`` is the default, chosen by ``Accept`` or ``$format``;
    ``application/vnd.microsoft.graph.transcript+text`` "must be selected with the Accept
    header; the $format query parameter does not support it" (a 400 here: an assumption).
    """
    asked = query_option(request, "$format")
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
    _, transcript = _transcript(service, match, token)
    if _transcript_format(request) == VTT:
        _require_speaker_attribution(service)
        return Reply(200, transcript.content, {"Content-Type": VTT})
    return Reply(200, unattributed(transcript.content), {"Content-Type": TRANSCRIPT_TEXT})


def get_transcript_metadata(
    service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken
) -> Reply:
    """``GET .../transcripts/{transcriptId}/metadataContent`` (calltranscript-get, example 4).

    It names the speakers, so with speaker attribution off it answers like ``text/vtt`` does
    (an assumption, docs/emulator.md).
    """
    session, transcript = _transcript(service, match, token)
    _require_speaker_attribution(service)
    return Reply(200, metadata_content(transcript.content, session.start), {"Content-Type": VTT})


def list_recordings(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../onlineMeetings/{id}/recordings``."""
    return _list_items(service, request, match, token, _RECORDINGS)


def get_recording(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../recordings/{recordingId}``."""
    return _get_item(service, request, match, token, _RECORDINGS)


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
    _, meeting = _calendar_meeting(service, match, token, _RECORDINGS)
    _, recording = _find(service, meeting["id"], match, _RECORDINGS)
    assert isinstance(recording, Recording)
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
