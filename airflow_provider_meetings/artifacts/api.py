"""The meeting-artifacts resource on the Graph REST client: find the meeting, read, download.

Every method takes a :class:`~airflow_provider_meetings.artifacts.locate.MeetingRef` checked
by :func:`~airflow_provider_meetings.artifacts.locate.prepare_meeting_ref` (and a
destination checked by :func:`~airflow_provider_meetings.artifacts.destinations.resolve_destination`):
bad input is refused before a client exists. A ref's ``sessions`` keep what the sessions in
its window left (:mod:`~airflow_provider_meetings.artifacts.sessions`). Graph's refusals become the errors of
:mod:`~airflow_provider_meetings.artifacts.errors` (permanent; never retried).
Importing this module loads neither msal nor requests: the client is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_meetings.artifacts import attendance, downloads
from airflow_provider_meetings.artifacts.destinations import Destination
from airflow_provider_meetings.artifacts.downloads import ArtifactFile
from airflow_provider_meetings.artifacts.errors import artifact_error
from airflow_provider_meetings.artifacts.locate import MeetingLocator, MeetingRef, ResolvedMeeting
from airflow_provider_meetings.artifacts.sessions import ALL_SESSIONS, ARTIFACT_CREATED, REPORT_START, SessionWindow
from airflow_provider_meetings.artifacts.status import artifacts_status

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

__all__ = ["MeetingArtifactsApi"]

T = TypeVar("T")
#: The collection of each downloadable kind under the meeting.
COLLECTIONS = {"transcript": "transcripts", "recording": "recordings"}


class MeetingArtifactsApi:
    """Attendance, transcripts and recordings of one connection's meetings.

    :param client: the connection's Graph client
    :param delegated: whether the tokens are delegated (names the permission in a 403)
    :param object_id: the object id of an organizer given by UPN (the hook's lookup, shared
        with its meeting calls); ``None``: organizers are used as given
    """

    def __init__(
        self, client: GraphRestClient, *, delegated: bool = False, object_id: Callable[[str], str] | None = None
    ) -> None:
        self.client = client
        self.delegated = delegated
        self.object_id = object_id

    def resolve(self, ref: MeetingRef) -> ResolvedMeeting:
        """The meeting's organizer and id (see :class:`~airflow_provider_meetings.artifacts.locate.MeetingLocator`)."""
        return MeetingLocator(self.client, delegated=self.delegated, object_id=self.object_id).resolve(ref)

    def attendance_records(self, ref: MeetingRef) -> list[dict[str, Any]]:
        """Every attendance record of every report (of the sessions in ``ref.sessions``), each
        with ``reportId``; ``[]`` before the meeting."""
        return self.attendance(ref)[1]

    def attendance(self, ref: MeetingRef) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The meeting's attendance reports (oldest first; those of the sessions in
        ``ref.sessions``) and every record of them, the reports listed once: a report without
        records counts too (a session that ended)."""
        meeting = self.resolve(ref)

        def both() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            reports = ref.sessions.keep(attendance.attendance_reports(self.client, meeting), REPORT_START)
            return reports, attendance.attendance_records(self.client, meeting, reports)

        return self._call("attendance", meeting, both)

    def attendance_reports(
        self, meeting: ResolvedMeeting, sessions: SessionWindow = ALL_SESSIONS
    ) -> list[dict[str, Any]]:
        """The meeting's attendance reports (the 50 most recent), oldest first.

        :param sessions: only those of the sessions in this window (default: all)
        """
        return self._call(
            "attendance",
            meeting,
            lambda: sessions.keep(attendance.attendance_reports(self.client, meeting), REPORT_START),
        )

    def listing(
        self, kind: str, meeting: ResolvedMeeting, sessions: SessionWindow = ALL_SESSIONS
    ) -> list[dict[str, Any]]:
        """The meeting's transcripts or recordings (Graph's metadata, no content).

        :param kind: ``transcript`` or ``recording``
        :param sessions: only those created in this window (default: all)
        """
        path = f"{meeting.path}/{COLLECTIONS[kind]}"
        return self._call(
            kind,
            meeting,
            lambda: sessions.keep(
                (
                    item
                    for item in self.client.get_all(path, what=f"GET {COLLECTIONS[kind]}")
                    if isinstance(item, dict) and item.get("id")
                ),
                ARTIFACT_CREATED,
            ),
        )

    def download(self, kind: str, ref: MeetingRef, destination: Destination) -> list[ArtifactFile]:
        """Every transcript (``.vtt``) or recording (``.mp4``) of the meeting into ``destination``.

        :param kind: ``transcript`` or ``recording``
        :param ref: the meeting
        :param destination: where the files go
        :return: one :class:`~airflow_provider_meetings.artifacts.downloads.ArtifactFile` per artifact
        """
        meeting = self.resolve(ref)
        return [
            self._call(
                kind,
                meeting,
                lambda item=item: downloads.download_artifact(self.client, destination, meeting, kind, item),
            )
            for item in self.listing(kind, meeting, ref.sessions)
        ]

    def status(self, ref: MeetingRef, kinds: Iterable[str]) -> dict[str, Any]:
        """What exists of the requested kinds (see :func:`~airflow_provider_meetings.artifacts.status.artifacts_status`)."""
        meeting = self.resolve(ref)

        def count(kind: str) -> int:
            if kind == "attendance":
                return len(self.attendance_reports(meeting, ref.sessions))
            return len(self.listing(kind, meeting, ref.sessions))

        return artifacts_status(meeting.meeting_id, kinds, count)

    def _call(self, artifact: str, meeting: ResolvedMeeting, call: Callable[[], T]) -> T:
        """Run ``call``; Graph's refusals become the artifact errors that explain them."""
        try:
            return call()
        except Exception as error:
            mapped = artifact_error(error, artifact=artifact, delegated=self.delegated, meeting_id=meeting.meeting_id)
            if mapped is error:
                raise
            raise mapped from error
