"""Hook for Microsoft Teams online meetings through Microsoft Graph ``onlineMeetings/createOrGet``.

The Airflow-facing face only: the connection's settings, secret masking, the public
methods and ``test_connection``. The work is done by
:class:`~airflow_provider_meetings.meetings.api.OnlineMeetingsApi` on a
:class:`~airflow_provider_meetings.graph.client.GraphRestClient` (transport, tokens, retries,
``$batch``), imported when a task first needs it: importing this module loads neither msal
nor requests, because Airflow imports operator modules every time it parses a DAG file.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from airflow_provider_meetings.hooks.calendar_events_methods import CalendarEventsMethods
from airflow_provider_meetings.hooks.meeting_artifacts_methods import MeetingArtifactsMethods
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest
from airflow_provider_meetings.meetings.results import BulkItemResult, BulkProgress, MeetingResult, SyncResult

# Airflow imports this module whenever it parses a DAG file that uses an operator (and every
# operator module imports the hook): the resources, their validation and the connection
# parsing are imported by the methods that use them, so that parsing pays for none of them.
if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient
    from airflow_provider_meetings.graph.retry import RetryPolicy
    from airflow_provider_meetings.graph.settings import ConnectionSettings
    from airflow_provider_meetings.meetings.api import OnlineMeetingsApi
    from airflow_provider_meetings.meetings.organizers import OrganizerDirectory

__all__ = ["BULK_MEETING_FIELDS", "MeetingResult", "OnlineMeetingsHook", "SyncResult"]

#: Meeting fields kept per bulk result by default; equal to ``meetings.bulk.DEFAULT_MEETING_FIELDS``.
BULK_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl")


def _mask_secret(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


def metadata_database_url() -> str | None:
    """Airflow's metadata database (``[database] sql_alchemy_conn``): the ``database`` rate budget's store."""
    from airflow.configuration import conf

    return conf.get("database", "sql_alchemy_conn", fallback=None) or None


class OnlineMeetingsHook(CalendarEventsMethods, MeetingArtifactsMethods, BaseHook):
    """Create or reuse Microsoft Teams online meetings with Microsoft Graph ``createOrGet``.

    One hook holds one Graph client: one HTTP connection pool shared by MSAL and the Graph
    calls, and one MSAL application, so repeated calls reuse connections and cached tokens.

    .. seealso::
        ``docs/connection.md`` for the connection fields and credentials.

    :param conn_id: id of an Airflow connection of type ``msgraph_meetings``
    :param max_single_wait: seconds; a pause Graph asks for that is longer ends the call at
        once with a transient ``RetriesExhaustedError`` whose ``asked_wait`` says how long
        (default: any pause that fits the connection's ``max_retry_wait`` is slept)
    """

    conn_name_attr = "conn_id"
    default_conn_name = "msgraph_meetings_default"
    conn_type = "msgraph_meetings"
    hook_name = "Microsoft Teams Meetings (Graph)"

    def __init__(self, conn_id: str = default_conn_name, *, max_single_wait: float | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id
        #: A pause Graph asks for that is longer than this ends a call at once
        #: (``RetriesExhaustedError.asked_wait``) instead of being slept: deferrable operators
        #: set it, to wait in the triggerer rather than on a worker slot.
        self.max_single_wait = max_single_wait
        self._settings: ConnectionSettings | None = None
        self._client: GraphRestClient | None = None
        self._lock = threading.Lock()
        #: Waits between retries go through this, so a test can observe them.
        self.sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}(conn_id={self.conn_id!r})"

    def __enter__(self) -> OnlineMeetingsHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- settings ---------------------------------------------------------------------------

    @property
    def settings(self) -> ConnectionSettings:
        """The connection's checked settings (read once, on first use)."""
        with self._lock:
            if self._settings is None:
                self._settings = self._load_settings()
            return self._settings

    def _load_settings(self) -> ConnectionSettings:
        from airflow_provider_meetings.graph.settings import parse_connection

        conn = self.get_connection(self.conn_id)
        settings = parse_connection(login=conn.login, password=conn.password, host=conn.host, extra=conn.extra_dejson)
        budget_password = urlsplit(settings.rate_budget_url).password if settings.rate_budget_url else None
        for secret in (settings.client_secret, settings.private_key_password, settings.refresh_token, budget_password):
            if secret:
                _mask_secret(secret)
        if settings.unknown_extras:
            self.log.warning(
                "Connection %r has extras this provider does not read (typo?): %s",
                self.conn_id,
                ", ".join(settings.unknown_extras),
            )
        if settings.verify is False:
            self.log.warning(
                "Connection %r has verify=false: TLS certificates of Entra ID and Graph are not "
                "checked, so tokens can be intercepted. Use a CA bundle path instead.",
                self.conn_id,
            )
        return settings

    # -- the client -------------------------------------------------------------------------

    @property
    def client(self) -> GraphRestClient:
        """The Graph client (built on first use; this imports msal and requests)."""
        settings = self.settings
        settings = dataclasses.replace(settings, retry=settings.retry.with_max_single_wait(self.max_single_wait))
        with self._lock:
            if self._client is None:
                from airflow_provider_meetings.graph.budget.factory import open_rate_budget
                from airflow_provider_meetings.graph.client import GraphRestClient

                database_url = metadata_database_url() if settings.rate_budget == "database" else None
                self._client = GraphRestClient(
                    settings,
                    mask=_mask_secret,
                    log=self.log,
                    sleep=self._sleep,
                    conn_id=self.conn_id,
                    rate_budget=open_rate_budget(settings, log=self.log, database_url=database_url),
                )
            return self._client

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

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

    def get_conn(self) -> GraphRestClient:
        """Return the Graph client (Airflow's generic hook accessor)."""
        return self.client

    def close(self) -> None:
        """Close the client's connections; the hook builds a new client if used again."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def get_access_token(self, *, policy: RetryPolicy | None = None) -> str:
        """Return a Graph access token (app-only, or delegated with a refresh token).

        Cached tokens are reused; transient token-endpoint failures are retried.

        :param policy: retry bound for this call; defaults to the connection's
        """
        return self.client.tokens.get(policy)

    def invalidate_token(self) -> None:
        """Forget cached access tokens, so that the next call gets a fresh one."""
        if self._client is not None:
            self._client.tokens.invalidate()

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
        from airflow_provider_meetings.meetings.api import check_concurrency
        from airflow_provider_meetings.meetings.bulk import BulkPlan

        concurrency = check_concurrency(max_concurrency, self.settings.bulk_concurrency)
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

    # -- connection test ----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection step by step and name the first misconfiguration with its fix.

        The checks of :mod:`~airflow_provider_meetings.diagnostics.check`: the fields, a token,
        the permission in it, the Graph host against the token's audience, and (with a
        ``default_user_id``) the organizer and the access policy through one read-only Graph
        request; the permissions of the meeting artifacts named by the extra
        ``check_artifacts``; the shared rate budget's store. No meeting is created. The console
        command ``airflow-provider-meetings check`` runs the same checks. Airflow's UI and REST API call this method only when
        ``[core] test_connection = Enabled``.
        """
        from airflow_provider_meetings.diagnostics.check import check_connection

        # The tokens the check sees are masked as the client's; the database URL serves the
        # budget step of ``rate_budget: database`` (its password is scrubbed from the texts).
        report = check_connection(self, mask=_mask_secret, database_url=metadata_database_url())
        return report.ok, report.summary()
