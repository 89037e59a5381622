"""Which Graph permissions each emulated operation needs, from the permission tables of its docs page.

An app token needs one of the application permissions in its ``roles``; a delegated token
one of the delegated permissions in its ``scp``. The application access policy is checked
separately (it is not a permission).
"""

from __future__ import annotations

from dataclasses import dataclass

from meetings_emulator.errors import GraphError
from meetings_emulator.tokens import AccessToken


@dataclass(frozen=True)
class Permissions:
    """The permissions that allow an operation, least privileged first.

    :param delegated: accepted in the ``scp`` of a delegated token.
    :param application: accepted in the ``roles`` of an app token.
    """

    delegated: tuple[str, ...]
    application: tuple[str, ...]


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
#: Outlook's 403 code and text as users report them (the event pages document neither): an
#: assumption, docs/emulator.md.
CALENDAR_ACCESS_DENIED = ("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
#: The event routes of ``routes.py`` that only read (calendar-get takes the same permissions).
READ_EVENT_ROUTES = frozenset({"listEvents", "getEvent", "getCalendar"})
#: The routes of a mailbox's calendar (Outlook's: its concurrency limit applies to them).
EVENT_ROUTES = frozenset(
    {"createEvent", "listEvents", "getEvent", "updateEvent", "deleteEvent", "cancelEvent", "getCalendar"}
)

#: Message of the 403 for a token without the permission. Graph documents 403 as "Access is
#: denied to the requested resource. The user might not have enough permission"
#: (https://learn.microsoft.com/graph/errors) but not this operation's text: an assumption,
#: listed in docs/emulator.md.
INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."


def require(
    token: AccessToken, needed: Permissions, error: tuple[str, str] = ("Forbidden", INSUFFICIENT_PRIVILEGES)
) -> None:
    """Raise Graph's 403 unless ``token`` holds one of the permissions ``needed``.

    :param error: the 403's code and message.
    """
    accepted = needed.delegated if token.is_delegated else needed.application
    if not any(token.grants(permission) for permission in accepted):
        raise GraphError(403, *error)


def require_for_route(token: AccessToken, route: str, method: str) -> None:
    """Raise the 403 of a Graph route (onlineMeetings or events) unless ``token`` may call it."""
    if route in EVENT_ROUTES:
        needed = READ_EVENTS if route in READ_EVENT_ROUTES else WRITE_EVENTS
        require(token, needed, CALENDAR_ACCESS_DENIED)
    else:
        require(token, for_meeting_route(route, method))


def may_read_user(token: AccessToken, user_id: str | None) -> bool:
    """Whether ``token`` may ``GET /users/{id | userPrincipalName}`` of the user ``user_id``.

    ``user_id`` is the object id of the user read (``None``: no such user, which only the
    permissions of :data:`READ_USER` may find out).
    """
    accepted = READ_USER.delegated if token.is_delegated else READ_USER.application
    if any(token.grants(permission) for permission in accepted):
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
