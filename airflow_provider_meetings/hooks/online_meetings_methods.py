"""The onlineMeetings face of :class:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook`.

A mixin of the hook (docs/operators.md, docs/bulk.md): thin delegations to ``meetings/`` on
the hook's ``client`` and ``settings``: createOrGet, sync, cancel, one meeting or many
through ``$batch``. Its resources are imported by the methods that use them, as in the hook
module, so that parsing a DAG file pays for none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_meetings.graph.batch import check_concurrency, check_progress_interval
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest
from airflow_provider_meetings.meetings.results import BulkItemResult, BulkProgress, MeetingResult, SyncResult

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient
    from airflow_provider_meetings.graph.settings import ConnectionSettings
    from airflow_provider_meetings.meetings.api import OnlineMeetingsApi
    from airflow_provider_meetings.meetings.organizers import OrganizerDirectory

__all__ = ["BULK_MEETING_FIELDS", "OnlineMeetingsMethods"]

#: Meeting fields kept per bulk result by default; equal to ``meetings.bulk.DEFAULT_MEETING_FIELDS``.
BULK_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl")


class OnlineMeetingsMethods:
    """Teams online meetings through createOrGet, idempotent by external id (mixed into the hook)."""

    client: GraphRestClient
    settings: ConnectionSettings

    @cached_property
    def organizers(self) -> OrganizerDirectory:
        """Object ids of organizers given by UPN, looked up once per hook (and kept by ``close()``)."""
        from airflow_provider_meetings.meetings.organizers import OrganizerDirectory

        return OrganizerDirectory()

    @property
    def meetings(self) -> OnlineMeetingsApi:
        """The onlineMeetings resource on :attr:`client` (building the client if needed)."""
        from airflow_provider_meetings.meetings.api import OnlineMeetingsApi

        return OnlineMeetingsApi(self.client, self.organizers)

    # -- meetings ---------------------------------------------------------------------------

    def prepare(self, spec: MeetingSpec) -> PreparedRequest:
        """Validate a meeting against the connection (cloud, organizer) without any request."""
        from airflow_provider_meetings.meetings.api import prepare_meeting

        return prepare_meeting(spec, self.settings)

    def create_or_get_meeting(
        self,
        external_id: str,
        *,
        user_id: str | None = None,
        subject: str | None = None,
        start_date_time: Any = None,
        end_date_time: Any = None,
        participants: Mapping[str, Any] | None = None,
        chat_info: Mapping[str, Any] | None = None,
    ) -> MeetingResult:
        """Create a Teams meeting, or get the one that already has this ``external_id``.

        Everything is validated before a token is requested. An existing meeting is returned
        as it is (:meth:`sync_meeting` applies changes). An organizer given by user principal
        name is looked up once per hook (``User.Read.All``; delegated ``User.ReadBasic.All``).

        :param external_id: the meeting's stable key, e.g. ``"<dag_id>-<ds>"``
        :param user_id: organizer's Entra object id or user principal name; default: the
            connection's ``default_user_id``, else ``/me`` with a delegated connection
        :param subject: meeting subject
        :param start_date_time: aware datetime or ISO-8601 string with offset or ``Z``
        :param end_date_time: same; needs ``start_date_time``
        :param participants: Graph ``meetingParticipants``
        :param chat_info: Graph ``chatInfo``
        """
        spec = MeetingSpec(external_id, user_id, subject, start_date_time, end_date_time, participants, chat_info)
        return self.create_or_get(spec)

    def create_or_get(self, spec: MeetingSpec) -> MeetingResult:
        """:meth:`create_or_get_meeting` for a :class:`MeetingSpec`."""
        prepared = self.prepare(spec)  # before the client exists: bad input sends nothing
        return self.meetings.create_or_get(prepared)

    def sync_meeting(
        self,
        external_id: str,
        *,
        user_id: str | None = None,
        subject: str | None = None,
        start_date_time: Any = None,
        end_date_time: Any = None,
        participants: Mapping[str, Any] | None = None,
    ) -> SyncResult:
        """Create the meeting, or bring the existing one in step with these arguments.

        createOrGet, then one ``PATCH`` of what differs, none when nothing does; arguments
        left out are left as they are (:meth:`OnlineMeetingsApi.sync
        <airflow_provider_meetings.meetings.api.OnlineMeetingsApi.sync>`; ``docs/operators.md``).

        :param external_id: the meeting's stable key
        :param user_id: organizer's Entra object id (as for :meth:`create_or_get_meeting`)
        :param subject: meeting subject
        :param start_date_time: aware datetime or ISO-8601 string with offset or ``Z``
        :param end_date_time: same; needs ``start_date_time`` (a start alone: one hour)
        :param participants: Graph ``meetingParticipants``; ``attendees`` are compared as a set
        :return: the meeting as it is now and ``status``: ``created``, ``updated`` or ``unchanged``
        """
        return self.sync(MeetingSpec(external_id, user_id, subject, start_date_time, end_date_time, participants))

    def sync(self, spec: MeetingSpec) -> SyncResult:
        """:meth:`sync_meeting` for a :class:`MeetingSpec` (whose ``chat_info`` applies when
        the meeting is created: Graph cannot update it)."""
        prepared = self.prepare(spec)  # bad input sends nothing
        return self.meetings.sync(prepared)

    def cancel_meeting(self, external_id: str, *, user_id: str | None = None) -> bool:
        """Delete the meeting with this ``external_id``; idempotent: createOrGet, then ``DELETE``
        (:meth:`OnlineMeetingsApi.cancel <airflow_provider_meetings.meetings.api.OnlineMeetingsApi.cancel>`).

        :param external_id: the meeting's stable key
        :param user_id: organizer's Entra object id (as for :meth:`create_or_get_meeting`)
        :return: ``True`` when a meeting existed and was deleted, ``False`` when there was none
        """
        prepared = self.prepare(MeetingSpec(external_id=external_id, user_id=user_id))
        return self.meetings.cancel(prepared)

    def delete_meeting(self, external_id: str, meeting_id: str, *, user_id: str | None = None) -> bool:
        """``DELETE`` one meeting by its Graph id: the second half of :meth:`cancel_meeting`
        (a deferrable delete task keeps what createOrGet found across its deferral).

        :param external_id: the meeting's external id (named in logs and errors)
        :param meeting_id: Graph's meeting id, as createOrGet returned it
        :param user_id: the organizer (as for :meth:`create_or_get_meeting`)
        :return: ``True`` when it was deleted, ``False`` when Graph answered 404 (gone already)
        """
        prepared = self.prepare(MeetingSpec(external_id=external_id, user_id=user_id))
        return self.meetings.delete(prepared, meeting_id)

    def create_or_get_meetings(
        self,
        meetings: Iterable[Mapping[str, Any] | MeetingSpec],
        *,
        update_existing: bool = False,
        max_concurrency: int | None = None,
        meeting_fields: Sequence[str] | None = BULK_MEETING_FIELDS,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
    ) -> list[BulkItemResult]:
        """Create or get many meetings through Graph JSON batching (``$batch``); with
        ``update_existing`` also PATCH those that differ, and DELETE items marked ``cancelled``.

        Every item is validated before anything is sent; invalid and repeated items get their
        error result. One failed item does not stop the others: check each result's ``ok``
        and ``outcome`` (``created``, ``existing``, ``updated``, ``unchanged``, ``cancelled``,
        ``not_found``). The rules: :meth:`OnlineMeetingsApi.create_update_or_delete_many
        <airflow_provider_meetings.meetings.api.OnlineMeetingsApi.create_update_or_delete_many>`.

        .. seealso:: ``docs/bulk.md``

        :param meetings: mappings with the keys of :meth:`create_or_get_meeting` (plus
            ``external_id``, and optionally ``cancelled``), or :class:`MeetingSpec` objects
        :param update_existing: PATCH existing meetings that differ from their item
        :param max_concurrency: batches in flight at most (1-32); default: the
            connection's ``bulk_concurrency``
        :param meeting_fields: fields of each meeting to keep in the results (``None``: all)
        :param progress: called with a :class:`~airflow_provider_meetings.graph.batch.BulkProgress`
            every ``progress_interval`` seconds and at the end (of each ``$batch`` run)
        :param progress_interval: seconds between progress calls
        :return: one :class:`~airflow_provider_meetings.meetings.results.BulkItemResult` per item,
            in input order
        """
        from airflow_provider_meetings.meetings.bulk import BulkPlan

        concurrency = check_concurrency(max_concurrency, self.settings.bulk_concurrency)
        progress_interval = check_progress_interval(progress_interval)
        # Each item is validated here, once, before the client exists: bad input sends nothing.
        plan = BulkPlan(meetings, prepare=self.prepare, update_existing=update_existing, meeting_fields=meeting_fields)
        return self.meetings.create_update_or_delete_many(
            plan, max_concurrency=concurrency, progress=progress, progress_interval=progress_interval
        )

    def cancel_meetings(
        self,
        meetings: Iterable[str | Mapping[str, Any]],
        *,
        user_id: str | None = None,
        max_concurrency: int | None = None,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
    ) -> list[BulkItemResult]:
        """Delete many meetings by external id (createOrGet, then DELETE, each in ``$batch``).

        :param meetings: external ids, or mappings with ``external_id`` (and ``user_id``)
        :param user_id: organizer of items that name none; default: the connection's
        :param max_concurrency: batches in flight at most (1-32)
        :param progress: called with a :class:`~airflow_provider_meetings.graph.batch.BulkProgress`
        :param progress_interval: seconds between progress calls
        :return: one result per item, in input order; ``outcome`` is ``cancelled`` (a meeting
            existed and was deleted) or ``not_found`` (there was none)
        """
        from airflow_provider_meetings.meetings.bulk import cancel_items

        return self.create_or_get_meetings(
            cancel_items(meetings, user_id=user_id),
            max_concurrency=max_concurrency,
            meeting_fields=(),
            progress=progress,
            progress_interval=progress_interval,
        )
