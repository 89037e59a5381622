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
ATTENDANCE = RequiredPermission.documented(
    "attendance reports", "meetingattendancereport-list", "OnlineMeetingArtifact.Read.All"
)

#: Transcripts and their content.
TRANSCRIPTS = RequiredPermission.documented(
    "transcripts", "onlinemeeting-list-transcripts", "OnlineMeetingTranscript.Read.All"
)

#: Recordings and their content.
RECORDINGS = RequiredPermission.documented(
    "recordings", "onlinemeeting-list-recordings", "OnlineMeetingRecording.Read.All"
)

#: Finding a meeting by its join URL (``$filter=JoinWebUrl eq '...'``).
MEETING_LOOKUP = RequiredPermission.documented(
    "finding a meeting by its join URL", "onlinemeeting-get", "OnlineMeetings.Read.All", "OnlineMeetings.Read"
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
