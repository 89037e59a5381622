"""The errors of the artifact calls, and the one mapping from Graph's answers to them.

All are permanent (``permanent = True``): retrying cannot grant a permission, attach a
meeting to a calendar event or change a tenant setting, so they are raised at once (the
retry loop of :mod:`~airflow_provider_meetings.graph.retry_loop` never repeats a 403 or a 412).
Branch on status and error code, never on message text (Graph's messages change).
"""

from __future__ import annotations

from airflow_provider_meetings.artifacts.permissions import permission_for
from airflow_provider_meetings.graph.errors import (
    ApplicationAccessPolicyError,
    GraphAPIError,
    ProviderError,
    answer_facts,
)

__all__ = [
    "ArtifactPermissionError",
    "MeetingNotFoundError",
    "StandaloneMeetingError",
    "TranscriptAccessDisabledError",
    "artifact_error",
]

#: ``innerError.code`` (or ``error.code``) of a tenant that turned Graph access to transcripts off.
TRANSCRIPTS_DISABLED_CODE = "GraphAccessToTranscriptsDisabled"
#: The code of a transcript or recording asked of a meeting without a calendar event
#: ("No iCalUid found"): onlinemeeting-list-transcripts, "Known issues" of the artifacts docs.
STANDALONE_CODES = frozenset({"PreconditionFailed"})
STANDALONE_STATUS = 412


class ArtifactPermissionError(GraphAPIError):
    """403: the token lacks the permission an artifact call needs; the message names it.

    :param permission: the missing permission, e.g. ``OnlineMeetingTranscript.Read.All``
    """

    def __init__(self, error: GraphAPIError, *, artifact: str, delegated: bool) -> None:
        needed = permission_for(artifact)
        self.permission = needed.for_token(delegated=delegated)
        self.artifact = artifact
        kind = "delegated" if delegated else "application"
        detail = (
            f"Reading {needed.operation} needs the {kind} permission {self.permission} "
            "(Entra ID > App registrations > API permissions > Microsoft Graph"
            f"{'' if delegated else ' > Application permissions, then Grant admin consent'}; {needed.source})."
        )
        if not delegated and artifact != "lookup":
            detail += " App-only tokens also need the organizer's Teams application access policy."
        super().__init__(**answer_facts(error), detail=detail)


class TranscriptAccessDisabledError(GraphAPIError):
    """403 ``GraphAccessToTranscriptsDisabled``: the tenant turned Graph access to transcripts off."""

    def __init__(self, error: GraphAPIError) -> None:
        super().__init__(
            **answer_facts(error),
            detail=(
                "The tenant does not allow apps to read meeting transcripts through Microsoft Graph "
                f"({TRANSCRIPTS_DISABLED_CODE}; off by default). A Teams administrator must turn it on: "
                "Teams admin center > Meetings > Meeting settings > Transcript API access > Microsoft Graph "
                "access: On (PowerShell: Set-CsTeamsMeetingConfiguration -EnableGraphTranscriptAccess $true; "
                "https://learn.microsoft.com/microsoftteams/meeting-transcript-api-access). "
                "Retrying does not help. See docs/artifacts.md."
            ),
        )
        self.permanent = True


class StandaloneMeetingError(ProviderError):
    """Transcripts or recordings asked of a meeting that belongs to no calendar event.

    :param artifact: ``transcript`` or ``recording``
    :param meeting_id: the meeting
    :param cause: Graph's answer (412 ``PreconditionFailed``), when there was one
    """

    def __init__(self, artifact: str, meeting_id: str | None, *, cause: GraphAPIError | None = None) -> None:
        self.artifact = artifact
        self.meeting_id = meeting_id
        self.status = cause.status if cause else None
        self.code = cause.code if cause else None
        self.request_id = cause.request_id if cause else None
        answered = f" (Graph answered {cause.status} {cause.code})" if cause else ""
        super().__init__(
            f"Microsoft Graph keeps no {artifact}s for meeting {meeting_id!r}{answered}: transcripts and "
            "recordings exist only for meetings scheduled as calendar events, and this one was made with the "
            "standalone onlineMeetings API (createOrGet). Schedule the meeting as an Outlook calendar event with "
            "a Teams link (CreateOrGetTeamsEventOperator or hook.create_or_get_event; see docs/events.md), "
            "then fetch its artifacts by the event's external_id or join URL. Attendance reports work for both "
            "kinds of meeting."
        )


class MeetingNotFoundError(ProviderError):
    """No meeting (or calendar event) matched what named it.

    :param message: what was looked for and what to do
    """


def artifact_error(
    error: BaseException, *, artifact: str, delegated: bool, meeting_id: str | None = None
) -> BaseException:
    """``error`` as the artifact error that explains it, or as it is.

    :param error: what a call raised
    :param artifact: ``attendance``, ``transcript``, ``recording`` or ``lookup``
    :param delegated: whether the connection's tokens are delegated (names the permission's kind)
    :param meeting_id: the meeting, named in the standalone-meeting error
    """
    if not isinstance(error, GraphAPIError) or isinstance(
        error, (ArtifactPermissionError, TranscriptAccessDisabledError)
    ):
        return error
    codes = {error.code, error.inner_code}
    if TRANSCRIPTS_DISABLED_CODE in codes:
        return TranscriptAccessDisabledError(error)
    if artifact in ("transcript", "recording") and (error.status == STANDALONE_STATUS or codes & STANDALONE_CODES):
        return StandaloneMeetingError(artifact, meeting_id, cause=error)
    if error.status == 403 and not isinstance(error, ApplicationAccessPolicyError):
        return ArtifactPermissionError(error, artifact=artifact, delegated=delegated)
    return error
