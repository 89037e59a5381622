"""The Microsoft Graph permissions the artifact calls need, as data.

From https://learn.microsoft.com/graph/api/meetingattendancereport-list#permissions,
onlinemeeting-list-transcripts#permissions, onlinemeeting-list-recordings#permissions and
onlinemeeting-get#permissions. App-only tokens also need the organizer's Teams application
access policy (https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy).
"""

from __future__ import annotations

from airflow_provider_meetings.graph.permissions import RequiredPermission

__all__ = ["ARTIFACT_PERMISSIONS", "ATTENDANCE", "MEETING_LOOKUP", "RECORDINGS", "TRANSCRIPTS", "permission_for"]

#: Attendance reports and their records.
ATTENDANCE = RequiredPermission(
    operation="attendance reports",
    application="OnlineMeetingArtifact.Read.All",
    delegated="OnlineMeetingArtifact.Read.All",
    source="https://learn.microsoft.com/graph/api/meetingattendancereport-list#permissions",
)

#: Transcripts and their content.
TRANSCRIPTS = RequiredPermission(
    operation="transcripts",
    application="OnlineMeetingTranscript.Read.All",
    delegated="OnlineMeetingTranscript.Read.All",
    source="https://learn.microsoft.com/graph/api/onlinemeeting-list-transcripts#permissions",
)

#: Recordings and their content.
RECORDINGS = RequiredPermission(
    operation="recordings",
    application="OnlineMeetingRecording.Read.All",
    delegated="OnlineMeetingRecording.Read.All",
    source="https://learn.microsoft.com/graph/api/onlinemeeting-list-recordings#permissions",
)

#: Finding a meeting by its join URL (``$filter=JoinWebUrl eq '...'``).
MEETING_LOOKUP = RequiredPermission(
    operation="finding a meeting by its join URL",
    application="OnlineMeetings.Read.All",
    delegated="OnlineMeetings.Read",
    source="https://learn.microsoft.com/graph/api/onlinemeeting-get#permissions",
)

#: Each artifact kind (as the hook and the sensor name them) and its permission.
ARTIFACT_PERMISSIONS: dict[str, RequiredPermission] = {
    "attendance": ATTENDANCE,
    "transcript": TRANSCRIPTS,
    "recording": RECORDINGS,
    "lookup": MEETING_LOOKUP,
}


def permission_for(artifact: str) -> RequiredPermission:
    """The permission of an artifact kind (``attendance``, ``transcript``, ``recording``, ``lookup``)."""
    return ARTIFACT_PERMISSIONS[artifact]
