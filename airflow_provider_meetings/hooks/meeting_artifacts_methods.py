"""The meeting-artifacts face of :class:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook`.

A mixin of the hook (docs/artifacts.md): attendance, transcripts and recordings through
``artifacts/`` on the hook's ``client`` and ``settings``, imported by the methods that use
them so that parsing a DAG file pays for none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_meetings.artifact_args import ARTIFACTS, MeetingNames, checked_names

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_provider_meetings.artifacts.api import MeetingArtifactsApi
    from airflow_provider_meetings.artifacts.destinations import Destination
    from airflow_provider_meetings.artifacts.locate import MeetingRef
    from airflow_provider_meetings.graph.client import GraphRestClient
    from airflow_provider_meetings.graph.settings import ConnectionSettings
    from airflow_provider_meetings.meetings.organizers import OrganizerDirectory

__all__ = ["MeetingArtifactsMethods"]


class MeetingArtifactsMethods:
    """Attendance, transcripts and recordings of a meeting (mixed into the hook)."""

    client: GraphRestClient
    settings: ConnectionSettings
    organizers: OrganizerDirectory

    # -- meeting artifacts (issue 23) ---------------------------------------------------------
    # The meeting is named by exactly one of meeting_id, join_url or external_id (of a
    # calendar event); everything is checked before any request. See docs/artifacts.md.

    @property
    def artifacts(self) -> MeetingArtifactsApi:
        """The meeting-artifacts resource on :attr:`client` (building the client if needed)."""
        from airflow_provider_meetings.artifacts.api import MeetingArtifactsApi

        client = self.client

        def object_id(user_id: str) -> str:  # the hook's directory: each UPN looked up once per hook
            return self.organizers.object_id(user_id, client)

        return MeetingArtifactsApi(client, delegated=self.settings.delegated, object_id=object_id)

    def meeting_ref(self, **names: Unpack[MeetingNames]) -> MeetingRef:
        """Check how a meeting is named, against the connection, without any request: the one
        place every artifacts method's ``names`` are taken apart.

        An empty value (``None``, ``""``, white space) is not given, as for the operators.

        :param names: exactly one of ``meeting_id``, ``join_url`` or ``external_id`` (a calendar
            event's), the organizer ``user_id`` (not given: the connection's ``default_user_id``,
            else ``/me`` for a delegated connection), and the sessions' window ``not_before``,
            ``before`` (aware datetimes or ISO-8601 text: only what the sessions that started at
            or after ``not_before`` and before ``before`` left counts);
            :class:`~airflow_provider_meetings.artifact_args.MeetingNames`
        :raises InvalidRequestError: not exactly one named, a bad value, no organizer, a
            ``not_before`` or ``before`` that is no aware datetime, or a ``before`` not later
            than ``not_before``
        :raises TypeError: a keyword that is none of these
        """
        from airflow_provider_meetings.artifacts.locate import prepare_meeting_ref

        return prepare_meeting_ref(self.settings, **checked_names("meeting_ref", names))

    def resolve_meeting(self, **names: Unpack[MeetingNames]) -> tuple[str | None, str]:
        """``(organizer user id or None for /me, meeting id)`` of the meeting named.

        :param names: exactly one of ``meeting_id``, ``join_url`` or ``external_id``, the
            organizer ``user_id``, and the sessions' window ``not_before``, ``before``
            (:class:`~airflow_provider_meetings.artifact_args.MeetingNames`); these keywords,
            the same for every artifacts method, are checked by :meth:`meeting_ref`
        """
        ref = self.meeting_ref(**checked_names("resolve_meeting", names))
        meeting = self.artifacts.resolve(ref)
        return meeting.user_id, meeting.meeting_id

    def attendance_records(self, **names: Unpack[MeetingNames]) -> list[dict[str, Any]]:
        """Every attendance record of every report of the meeting, across pages (``[]`` before it
        took place), each with ``reportId``, ``meetingStartDateTime`` and ``meetingEndDateTime``.
        Needs ``OnlineMeetingArtifact.Read.All``. ``names`` as for :meth:`resolve_meeting`."""
        ref = self.meeting_ref(**checked_names("attendance_records", names))
        return self.artifacts.attendance_records(ref)

    def download_transcripts(self, destination: Any, **names: Unpack[MeetingNames]) -> list[str]:
        """Write every transcript of the meeting (WebVTT, byte for byte) to ``destination``.

        :param destination: a local folder, an ``airflow.sdk.ObjectStoragePath`` or a URL
            (``s3://bucket/prefix``); files are ``meeting-<key>/transcript-<key>.vtt``, replaced on a rerun
        :param names: the meeting, as for :meth:`resolve_meeting`
        :return: the paths written
        """
        return self._download("transcript", destination, checked_names("download_transcripts", names))

    def download_recordings(self, destination: Any, **names: Unpack[MeetingNames]) -> list[str]:
        """Stream every recording of the meeting (MP4) to ``destination`` (as :meth:`download_transcripts`,
        files ``meeting-<key>/recording-<key>.mp4``); never held in memory.

        :return: the paths written
        """
        return self._download("recording", destination, checked_names("download_recordings", names))

    def meeting_artifacts_status(
        self, *, artifacts: Sequence[str] = ARTIFACTS, **names: Unpack[MeetingNames]
    ) -> dict[str, Any]:
        """``{"meeting_id", "ended", "attendance", "transcript", "recording", "ready"}``: counts of
        what exists now, ``ready`` when every kind in ``artifacts`` has one (for the sensor).

        :param artifacts: which of :data:`~airflow_provider_meetings.artifact_args.ARTIFACTS`
            must exist for ``ready`` (default: all), checked by the rule of the operators
        :param names: the meeting, as for :meth:`resolve_meeting`
        :raises InvalidRequestError: a bad ``artifacts`` or meeting name, before any request
        """
        from airflow_provider_meetings.artifacts.status import check_artifact_kinds

        named = checked_names("meeting_artifacts_status", names)
        kinds = check_artifact_kinds(artifacts)
        ref = self.meeting_ref(**named)
        return self.artifacts.status(ref, kinds)

    def artifact_destination(self, destination: Any) -> Destination:
        """``destination`` checked (a URL string becomes an ``airflow.sdk.ObjectStoragePath``)."""
        from airflow_provider_meetings.artifacts.destinations import resolve_destination

        def url_to_path(url: str) -> Any:
            from airflow.sdk import ObjectStoragePath

            return ObjectStoragePath(url)

        return resolve_destination(destination, url_to_path=url_to_path)

    def _download(self, kind: str, destination: Any, names: MeetingNames) -> list[str]:
        ref = self.meeting_ref(**names)
        target = self.artifact_destination(destination)  # both checked before any request
        return [written.path for written in self.artifacts.download(kind, ref, target)]
