"""Which Graph permissions each emulated operation needs, from the permission tables of its docs page.

An app token needs one of the application permissions in its ``roles``; a delegated token
one of the delegated permissions in its ``scp``. The application access policy is checked
separately (it is not a permission).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from meetings_emulator.errors import CalendarAccessDenied, Forbidden, GraphError
from meetings_emulator.tokens import AccessToken


@dataclass(frozen=True)
class Permissions:
    """The permissions that allow an operation, least privileged first.

    :param delegated: accepted in the ``scp`` of a delegated token.
    :param application: accepted in the ``roles`` of an app token.
    """

    delegated: tuple[str, ...]
    application: tuple[str, ...]

    def granted_to(self, token: AccessToken) -> bool:
        """Whether ``token`` holds one of them: a delegated token in its ``scp``, an app token in its ``roles``."""
        accepted = self.delegated if token.is_delegated else self.application
        return any(token.grants(permission) for permission in accepted)


#: https://learn.microsoft.com/graph/api/onlinemeeting-createorget#permissions
CREATE_OR_GET = Permissions(("OnlineMeetings.ReadWrite",), ("OnlineMeetings.ReadWrite.All",))
#: https://learn.microsoft.com/graph/api/onlinemeeting-get#permissions
READ_MEETING = Permissions(
    ("OnlineMeetings.Read", "OnlineMeetings.ReadWrite"),
    ("OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"),
)
#: https://learn.microsoft.com/graph/api/onlinemeeting-update#permissions and
#: https://learn.microsoft.com/graph/api/onlinemeeting-delete#permissions
WRITE_MEETING = Permissions(("OnlineMeetings.ReadWrite",), ("OnlineMeetings.ReadWrite.All",))
#: https://learn.microsoft.com/graph/api/meetingattendancereport-list#permissions,
#: meetingattendancereport-get and attendancerecord-list: ``OnlineMeetingArtifact.Read.All``,
#: delegated or application (application also needs the access policy, checked apart).
READ_ATTENDANCE = Permissions(("OnlineMeetingArtifact.Read.All",), ("OnlineMeetingArtifact.Read.All",))
#: https://learn.microsoft.com/graph/api/onlinemeeting-list-transcripts#permissions and
#: calltranscript-get: ``OnlineMeetingTranscript.Read.All`` (the RSC permission
#: ``OnlineMeetingTranscript.Read.Chat`` is not emulated).
READ_TRANSCRIPTS = Permissions(("OnlineMeetingTranscript.Read.All",), ("OnlineMeetingTranscript.Read.All",))
#: https://learn.microsoft.com/graph/api/onlinemeeting-list-recordings#permissions and
#: callrecording-get: ``OnlineMeetingRecording.Read.All`` (``...Read.Chat``, RSC, not emulated).
READ_RECORDINGS = Permissions(("OnlineMeetingRecording.Read.All",), ("OnlineMeetingRecording.Read.All",))
#: The artifact routes of ``routes.py`` and the permissions each needs.
ARTIFACT_ROUTES = {
    "listAttendanceReports": READ_ATTENDANCE,
    "getAttendanceReport": READ_ATTENDANCE,
    "listAttendanceRecords": READ_ATTENDANCE,
    "listTranscripts": READ_TRANSCRIPTS,
    "getTranscript": READ_TRANSCRIPTS,
    "getTranscriptContent": READ_TRANSCRIPTS,
    "getTranscriptMetadataContent": READ_TRANSCRIPTS,
    "listRecordings": READ_RECORDINGS,
    "getRecording": READ_RECORDINGS,
    "getRecordingContent": READ_RECORDINGS,
}
#: https://learn.microsoft.com/graph/api/user-get#permissions: reading another user needs
#: delegated ``User.ReadBasic.All`` (least privileged; ``User.Read.All`` is more) or the
#: application permission ``User.Read.All``. The signed-in user may also read its own user
#: with ``User.Read`` (:data:`READ_OWN_USER`).
READ_USER = Permissions(("User.ReadBasic.All", "User.Read.All"), ("User.Read.All",))
#: The delegated permission that reads the signed-in user itself (same page, "least privileged").
READ_OWN_USER = "User.Read"

#: https://learn.microsoft.com/graph/api/user-post-events#permissions,
#: https://learn.microsoft.com/graph/api/event-update#permissions,
#: https://learn.microsoft.com/graph/api/event-cancel#permissions and
#: https://learn.microsoft.com/graph/api/event-delete#permissions: ``Calendars.ReadWrite``,
#: delegated or application.
WRITE_EVENTS = Permissions(("Calendars.ReadWrite",), ("Calendars.ReadWrite",))
#: https://learn.microsoft.com/graph/api/event-get#permissions and user-list-events: reading
#: takes ``Calendars.Read`` too (``Calendars.ReadBasic`` returns no extended properties or
#: body, so the emulator does not take it).
READ_EVENTS = Permissions(("Calendars.Read", "Calendars.ReadWrite"), ("Calendars.Read", "Calendars.ReadWrite"))
#: The event routes of ``routes.py`` that only read (calendar-get takes the same permissions).
READ_EVENT_ROUTES = frozenset({"listEvents", "listInstances", "getEvent", "getCalendar"})
#: The routes of a mailbox's calendar (Outlook's: its concurrency limit applies to them).
EVENT_ROUTES = frozenset(
    {
        "createEvent",
        "listEvents",
        "listInstances",
        "getEvent",
        "updateEvent",
        "deleteEvent",
        "cancelEvent",
        "getCalendar",
    }
)


def require(token: AccessToken, needed: Permissions, refusal: Callable[[], GraphError] = Forbidden) -> None:
    """Raise Graph's 403 unless ``token`` holds one of the permissions ``needed``.

    :param refusal: the named 403 (Teams' ``Forbidden`` by default, Outlook's ``ErrorAccessDenied``
        for events).
    """
    if not needed.granted_to(token):
        raise refusal()


def require_for_route(token: AccessToken, route: str, method: str) -> None:
    """Raise the 403 of a Graph route (onlineMeetings or events) unless ``token`` may call it."""
    if route in EVENT_ROUTES:
        needed = READ_EVENTS if route in READ_EVENT_ROUTES else WRITE_EVENTS
        require(token, needed, CalendarAccessDenied)
    else:
        require(token, for_meeting_route(route, method))


def may_read_user(token: AccessToken, user_id: str | None) -> bool:
    """Whether ``token`` may ``GET /users/{id | userPrincipalName}`` of the user ``user_id``.

    ``user_id`` is the object id of the user read (``None``: no such user, which only the
    permissions of :data:`READ_USER` may find out).
    """
    if READ_USER.granted_to(token):
        return True
    return token.is_delegated and user_id is not None and user_id == token.user_id and token.grants(READ_OWN_USER)


def for_meeting_route(route: str, method: str) -> Permissions:
    """The permissions of an ``onlineMeetings`` route (``createOrGet``, ``getMeeting``, an artifact route...)."""
    if route in ARTIFACT_ROUTES:
        return ARTIFACT_ROUTES[route]
    if route == "createOrGet":
        return CREATE_OR_GET
    if method.upper() in ("PATCH", "DELETE", "POST", "PUT"):
        return WRITE_MEETING
    return READ_MEETING
