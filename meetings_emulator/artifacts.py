"""What a meeting left behind: sessions, attendance reports, transcripts, recordings (no HTTP).

A test "holds" a meeting through the control API (:meth:`ArtifactStore.hold`): each call is
one session of the meeting, with its attendees' join/leave intervals, an optional WebVTT
transcript and an optional recording of a given size. Graph's rules, from its pages:

- "Each time an online meeting ... ends, an attendance report is generated for that
  session"; the list holds "up to 50 of the most recent reports"
  (https://learn.microsoft.com/graph/api/meetingattendancereport-list). A session still in
  progress has no report, and no transcript or recording yet.
- attendanceRecord and attendanceInterval properties, and "When data is lacking, the value
  of joinDateTime or leaveDateTime will be set to null, and the value of durationInSeconds
  will be set to 0" (https://learn.microsoft.com/graph/api/resources/attendanceinterval).
- callTranscript and callRecording metadata as in the examples of
  https://learn.microsoft.com/graph/api/calltranscript-get and
  https://learn.microsoft.com/graph/api/callrecording-get.

Transcript and recording ids are base64 text that may hold ``/``, ``+`` and ``=`` (as the
transcript ids of the calltranscript-get examples do): the emulator's always hold all
three, so a client that does not percent-encode an id as one path segment fails at once.
Recording bytes are never stored: :class:`~meetings_emulator.recording_stream.GeneratedStream`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meetings_emulator.errors import GraphError
from meetings_emulator.recording_stream import GeneratedStream
from meetings_emulator.ticks import TICKS_PER_SECOND, format_ticks, now_ticks, parse_datetime

#: "This method only returns up to 50 of the most recent reports" (meetingattendancereport-list).
MAX_REPORTS = 50
#: Attendance records per page by default: small, so tests see ``@odata.nextLink`` (Graph's
#: own page size is not documented: an assumption, docs/emulator.md).
DEFAULT_PAGE_SIZE = 2
#: attendanceRecord ``role`` values (https://learn.microsoft.com/graph/api/resources/attendancerecord).
ROLES = ("None", "Attendee", "Presenter", "Organizer")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>(.*?)(?:</v>|$)", re.DOTALL)
_TIMING_RE = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")


def artifact_id() -> str:
    """A base64 id holding ``+``, ``/`` and a trailing ``=`` (bytes 0xFB 0xFF encode as ``+/``)."""
    return base64.b64encode(b"\xfb\xff" + uuid.uuid4().bytes + b"\x00").decode()


def _ticks(value: Any, name: str) -> int:
    try:
        return parse_datetime(value, name)
    except GraphError as error:
        raise ValueError(f"{name}: {error.message}") from None


@dataclass
class Interval:
    """One join/leave of an attendee (``leave`` ``None``: not known)."""

    join: int | None
    leave: int | None

    @property
    def seconds(self) -> int:
        """``durationInSeconds``: 0 when a time is lacking (attendanceinterval page, Tip)."""
        if self.join is None or self.leave is None:
            return 0
        return max(self.leave - self.join, 0) // TICKS_PER_SECOND

    def to_graph(self) -> dict[str, Any]:
        """An attendanceInterval."""
        return {
            "joinDateTime": None if self.join is None else format_ticks(self.join),
            "leaveDateTime": None if self.leave is None else format_ticks(self.leave),
            "durationInSeconds": self.seconds,
        }


@dataclass
class Attendee:
    """One participant of a session, as the control API describes it."""

    id: str
    display_name: str | None
    email: str | None
    role: str
    tenant_id: str | None
    intervals: list[Interval]

    @classmethod
    def parse(cls, data: Any, default_tenant: str) -> Attendee:
        """From the control API's dict; raises ``ValueError``/``KeyError`` for a bad one."""
        if not isinstance(data, Mapping):
            raise ValueError("each attendee is an object {id, displayName, email, role, intervals}")
        ident = data.get("id")
        if not isinstance(ident, str) or not ident.strip():
            # str(None) would make every anonymous attendee the same "None" person.
            raise ValueError(
                f"each attendee needs an id: non-empty text (an Entra object id, or any id for a guest), got {ident!r}"
            )
        role = data.get("role") or "Attendee"
        if role not in ROLES:
            raise ValueError(f"attendee role must be one of {ROLES}, got {role!r}")
        intervals = []
        for item in data.get("intervals") or []:
            join, leave = item.get("join"), item.get("leave")
            intervals.append(
                Interval(
                    None if join is None else _ticks(join, "join"),
                    None if leave is None else _ticks(leave, "leave"),
                )
            )
        return cls(
            id=ident,
            display_name=data.get("displayName"),
            email=data.get("email"),
            role=role,
            tenant_id=data.get("tenantId", default_tenant),
            intervals=intervals,
        )

    def record(self) -> dict[str, Any]:
        """An attendanceRecord (identity typed as communicationsUserIdentity, which has tenantId)."""
        return {
            "id": self.id,
            "emailAddress": self.email,
            "totalAttendanceInSeconds": sum(i.seconds for i in self.intervals),
            "role": self.role,
            "identity": {
                "@odata.type": "#microsoft.graph.communicationsUserIdentity",
                "id": self.id,
                "displayName": self.display_name,
                "tenantId": self.tenant_id,
            },
            "attendanceIntervals": [i.to_graph() for i in self.intervals],
        }


@dataclass
class Transcript:
    """One transcript: its WebVTT text as UTF-8 bytes."""

    id: str
    content: bytes
    call_id: str
    correlation_id: str
    created: int
    end: int


@dataclass
class Recording:
    """One recording: its generated stream and that stream's SHA-256."""

    id: str
    stream: GeneratedStream
    sha256: str
    call_id: str
    correlation_id: str
    created: int
    end: int


@dataclass
class Session:
    """One session of a meeting (one ``hold_meeting`` call)."""

    meeting_id: str
    tenant_id: str
    organizer_id: str
    report_id: str
    start: int
    end: int | None
    ended: bool
    attendees: list[Attendee]
    transcript_text: str | None = None
    recording_size: int | None = None
    transcript: Transcript | None = None
    recording: Recording | None = None
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def report(self) -> dict[str, Any]:
        """The meetingAttendanceReport (without records)."""
        return {
            "id": self.report_id,
            "totalParticipantCount": len(self.attendees),
            "meetingStartDateTime": format_ticks(self.start),
            "meetingEndDateTime": format_ticks(self.end if self.end is not None else self.start),
        }

    def records(self) -> list[dict[str, Any]]:
        """Its attendanceRecords."""
        return [a.record() for a in self.attendees]

    def finish(self, end: int | None = None) -> None:
        """End the session: its report, transcript and recording appear.

        ``ended`` is set last: a reader that sees an ended session sees its artifacts (the
        recording's hash may take a while and is computed without the service lock).
        """
        if self.end is None:
            self.end = end if end is not None else max(now_ticks(), self.start)
        # createdDateTime "at which the transcript/recording was created", endDateTime "at which
        # it ends" (calltranscript, callrecording): two times; the emulator starts both with the
        # session (an assumption, docs/emulator.md) and ends them with it.
        correlation = f"{uuid.uuid4()}-0"
        if self.transcript_text is not None and self.transcript is None:
            self.transcript = Transcript(
                artifact_id(), self.transcript_text.encode("utf-8"), self.call_id, correlation, self.start, self.end
            )
        if self.recording_size is not None and self.recording is None:
            seed = int.from_bytes(hashlib.sha256(f"{self.meeting_id}/{self.report_id}".encode()).digest()[:8], "big")
            stream = GeneratedStream(seed, self.recording_size)
            self.recording = Recording(
                artifact_id(), stream, stream.sha256(), self.call_id, correlation, self.start, self.end
            )
        self.ended = True

    def summary(self) -> dict[str, Any]:
        """What ``hold_meeting`` answers."""
        return {
            "meetingId": self.meeting_id,
            "reportId": self.report_id if self.ended else None,
            "transcriptId": self.transcript.id if self.transcript else None,
            "recordingId": self.recording.id if self.recording else None,
            "recordingSha256": self.recording.sha256 if self.recording else None,
            "recordingSize": self.recording.stream.size if self.recording else None,
            "start": format_ticks(self.start),
            "end": None if self.end is None else format_ticks(self.end),
            "ended": self.ended,
        }


def organizer_identity(tenant_id: str, user_id: str) -> dict[str, Any]:
    """``meetingOrganizer`` of a transcript or recording (calltranscript-get example 5)."""
    return {
        "application": None,
        "device": None,
        "user": {
            "@odata.type": "#microsoft.graph.teamworkUserIdentity",
            "id": user_id,
            "displayName": None,
            "userIdentityType": "aadUser",
            "tenantId": tenant_id,
        },
    }


def unattributed(vtt: bytes) -> bytes:
    """The transcript without speakers: ``<v Name>text</v>`` becomes ``text``.

    The ``application/vnd.microsoft.graph.transcript+text`` format is "timestamped
    utterances without speaker information" (calltranscript-get, tenant admin controls);
    its exact layout is not documented: the WebVTT cues without voice tags (an assumption).
    """
    text = vtt.decode("utf-8")
    return _VOICE_RE.sub(lambda m: m.group(2), text).encode("utf-8")


def _offset_ticks(stamp: str) -> int | None:
    parts = stamp.replace(",", ".").split(":")
    try:
        seconds = sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))
    except ValueError:
        return None
    return int(seconds * TICKS_PER_SECOND)


def metadata_content(vtt: bytes, session_start: int) -> bytes:
    """``metadataContent``: one JSON line per cue, in the layout of calltranscript-get example 4."""
    lines = ["WEBVTT", ""]
    for block in vtt.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        rows = block.strip().split("\n")
        timing = next((m for m in map(_TIMING_RE.match, rows) if m), None)
        if timing is None:
            continue
        text = "\n".join(rows[[bool(_TIMING_RE.match(r)) for r in rows].index(True) + 1 :])
        voice = _VOICE_RE.search(text)
        start, end = _offset_ticks(timing[1]), _offset_ticks(timing[2])
        entry = {
            "startDateTime": None if start is None else format_ticks(session_start + start),
            "endDateTime": None if end is None else format_ticks(session_start + end),
            "speakerName": voice.group(1).strip() if voice else None,
            "spokenText": voice.group(2).strip() if voice else text.strip(),
            "spokenLanguage": "en-us",
        }
        lines += [f"{timing[1]} --> {timing[2]}", json.dumps(entry, ensure_ascii=False), ""]
    return "\n".join(lines).encode("utf-8")


class ArtifactStore:
    """Sessions by meeting id, and the tenant settings of transcripts; not thread-safe (caller locks)."""

    def __init__(self) -> None:
        self._sessions: dict[str, list[Session]] = {}
        self.reset_settings()

    def reset_settings(self) -> None:
        """Transcript access and speaker attribution on, the default page size.

        Real tenants start with both **off** (https://learn.microsoft.com/microsoftteams/meeting-transcript-api-access);
        the emulator starts with them on so a test turns off what it tests (an assumption,
        docs/emulator.md).
        """
        self.transcript_access = True
        self.speaker_attribution = True
        self.page_size = DEFAULT_PAGE_SIZE

    def clear(self) -> None:
        """Forget every session and restore the settings."""
        self._sessions.clear()
        self.reset_settings()

    def set_page_size(self, n: Any) -> int:
        """Attendance records per page (at least 1)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError("page size must be a whole number >= 1")
        self.page_size = n
        return n

    def hold(
        self,
        meeting: Mapping[str, Any],
        tenant_id: str,
        organizer_id: str,
        body: Mapping[str, Any],
    ) -> Session:
        """One session of ``meeting`` (its resource) from the control API's body, not yet stored.

        The caller calls :meth:`Session.finish` on an ended one (outside the service lock:
        it hashes the recording), then :meth:`add`.

        :param body: ``attendees``, ``start``, ``end``, ``ended``, ``transcript``, ``recording_size``.
        """
        attendees = [Attendee.parse(a, tenant_id) for a in body.get("attendees") or []]
        joins = [i.join for a in attendees for i in a.intervals if i.join is not None]
        leaves = [i.leave for a in attendees for i in a.intervals if i.leave is not None]
        start = _ticks(body["start"], "start") if body.get("start") else (min(joins) if joins else now_ticks())
        end = _ticks(body["end"], "end") if body.get("end") else None
        ended = body.get("ended", True)
        if not isinstance(ended, bool):
            raise ValueError("ended must be true or false")
        if ended and end is None:
            end = max(leaves) if leaves else max(now_ticks(), start)
        transcript = body.get("transcript")
        if transcript is not None and not isinstance(transcript, str):
            raise ValueError("transcript must be WebVTT text")
        size = body.get("recording_size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValueError("recording_size must be a whole number of bytes >= 0")
        session = Session(
            meeting_id=meeting["id"],
            tenant_id=tenant_id,
            organizer_id=organizer_id,
            report_id=str(uuid.uuid4()),
            start=start,
            end=end,
            ended=False,
            attendees=attendees,
            transcript_text=transcript,
            recording_size=size,
        )
        session.ended = ended  # finished (artifacts made) by the caller: see :meth:`add`
        return session

    def add(self, session: Session) -> Session:
        """Store a session made by :meth:`hold` (finished first if it is an ended one)."""
        self._sessions.setdefault(session.meeting_id, []).append(session)
        return session

    def end_sessions(self, meeting_id: str) -> list[Session]:
        """End every session of the meeting still in progress; returns them."""
        running = [s for s in self._sessions.get(meeting_id, []) if not s.ended]
        for session in running:
            session.finish()
        return running

    def ended_sessions(self, meeting_id: str) -> list[Session]:
        """Sessions with a report, most recent first, at most :data:`MAX_REPORTS`.

        The order of the list is not documented: most recent first (an assumption).
        """
        ended = [s for s in self._sessions.get(meeting_id, []) if s.ended]
        ended.sort(key=lambda s: s.start, reverse=True)
        return ended[:MAX_REPORTS]

    def session_by_report(self, meeting_id: str, report_id: str) -> Session | None:
        """The ended session whose report has this id (any age), or ``None``."""
        return next(
            (s for s in self._sessions.get(meeting_id, []) if s.ended and s.report_id == report_id),
            None,
        )

    def transcripts(self, meeting_id: str) -> list[tuple[Session, Transcript]]:
        """Transcripts of ended sessions, oldest first."""
        return [(s, s.transcript) for s in self._sessions.get(meeting_id, []) if s.transcript is not None]

    def recordings(self, meeting_id: str) -> list[tuple[Session, Recording]]:
        """Recordings of ended sessions, oldest first."""
        return [(s, s.recording) for s in self._sessions.get(meeting_id, []) if s.recording is not None]

    def listing(self) -> list[dict[str, Any]]:
        """Every session's summary (for ``GET /_emulator/artifacts``)."""
        return [copy.deepcopy(s.summary()) for sessions in self._sessions.values() for s in sessions]
