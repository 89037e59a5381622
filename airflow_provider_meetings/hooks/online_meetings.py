"""Hook for Microsoft Teams online meetings through Microsoft Graph ``onlineMeetings/createOrGet``.

The Airflow-facing face only: the connection's settings, secret masking, the public
methods and ``test_connection``. The work is done by
:class:`~airflow_provider_meetings.graph_client.GraphClient` (transport, tokens, retries,
bulk), imported when a task first needs it: importing this module loads neither msal nor
requests, because Airflow imports operator modules every time it parses a DAG file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_meetings.connection_settings import (
    CLOUDS,
    MAX_BULK_CONCURRENCY,
    ConnectionSettings,
    parse_connection,
)
from airflow_provider_meetings.exceptions import ConnectionConfigError, InvalidMeetingRequestError
from airflow_provider_meetings.meeting_request import MeetingSpec, PreparedRequest, prepare_request
from airflow_provider_meetings.organizers import OrganizerDirectory
from airflow_provider_meetings.results import BulkItemResult, BulkProgress, MeetingResult
from airflow_provider_meetings.retry import RetryPolicy

if TYPE_CHECKING:
    from airflow_provider_meetings.graph_client import GraphClient

__all__ = ["BULK_MEETING_FIELDS", "MeetingResult", "OnlineMeetingsHook"]

#: Meeting fields kept per bulk result by default; equal to ``batching.DEFAULT_MEETING_FIELDS``
#: (not imported here: the bulk modules load only when used).
BULK_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl")


def _mask_secret(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class OnlineMeetingsHook(BaseHook):
    """Create or reuse Microsoft Teams online meetings with Microsoft Graph ``createOrGet``.

    One hook holds one Graph client: one HTTP connection pool shared by MSAL and the Graph
    calls, and one MSAL application, so repeated calls reuse connections and cached tokens.

    .. seealso::
        ``docs/connection.md`` for the connection fields and credentials.

    :param conn_id: id of an Airflow connection of type ``msgraph_meetings``
    """

    conn_name_attr = "conn_id"
    default_conn_name = "msgraph_meetings_default"
    conn_type = "msgraph_meetings"
    hook_name = "Microsoft Teams Meetings (Graph)"

    def __init__(self, conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.conn_id = conn_id
        self._settings: ConnectionSettings | None = None
        self._client: GraphClient | None = None
        self._lock = threading.Lock()
        #: Object ids of organizers given by UPN, looked up once per hook (and kept by ``close()``).
        self.organizers = OrganizerDirectory()
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
        conn = self.get_connection(self.conn_id)
        settings = parse_connection(login=conn.login, password=conn.password, host=conn.host, extra=conn.extra_dejson)
        for secret in (settings.client_secret, settings.private_key_password, settings.refresh_token):
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
    def client(self) -> GraphClient:
        """The Graph client (built on first use; this imports msal and requests)."""
        settings = self.settings
        with self._lock:
            if self._client is None:
                from airflow_provider_meetings.graph_client import GraphClient

                self._client = GraphClient(
                    settings, mask=_mask_secret, log=self.log, sleep=self._sleep, conn_id=self.conn_id
                )
            return self._client

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def get_conn(self) -> GraphClient:
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
        settings = self.settings
        if not CLOUDS[settings.cloud].create_or_get:
            raise ConnectionConfigError(
                "cloud", f"onlineMeetings/createOrGet is not available in Graph v1.0 of the {settings.cloud!r} cloud"
            )
        prepared = prepare_request(spec, default_user_id=settings.default_user_id, api_version=settings.api_version)
        if prepared.user_id is None and not settings.delegated:
            raise InvalidMeetingRequestError(
                "user_id",
                "no organizer: app-only tokens cannot use /me. Pass user_id, set the connection "
                "extra default_user_id, or use a refresh_token (delegated mode)",
            )
        return prepared

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

        Everything is validated before a token is requested. For an existing meeting Graph
        returns it as it is: a changed subject or time is not applied. An organizer given by
        user principal name is looked up once per hook (``GET /users/{upn}?$select=id``,
        which needs ``User.Read.All``) and the meeting is made for its object id.

        :param external_id: the meeting's stable key, e.g. ``"<dag_id>-<ds>"``
        :param user_id: organizer's Entra object id or user principal name; default: the
            connection's ``default_user_id``, else ``/me`` with a delegated connection
        :param subject: meeting subject
        :param start_date_time: aware datetime or ISO-8601 string with offset or ``Z``
        :param end_date_time: same; needs ``start_date_time``
        :param participants: Graph ``meetingParticipants``
        :param chat_info: Graph ``chatInfo``
        """
        spec = MeetingSpec(
            external_id=external_id,
            user_id=user_id,
            subject=subject,
            start_date_time=start_date_time,
            end_date_time=end_date_time,
            participants=participants,
            chat_info=chat_info,
        )
        prepared = self.prepare(spec)  # before the client exists: bad input sends nothing
        resolved = self.organizers.resolve(prepared, self.client)
        result = self.client.create_or_get(resolved)
        return replace(result, user_id=resolved.user_id, given_user_id=prepared.user_id)

    def create_or_get_meetings(
        self,
        meetings: Iterable[Mapping[str, Any] | MeetingSpec],
        *,
        max_concurrency: int | None = None,
        meeting_fields: Sequence[str] | None = BULK_MEETING_FIELDS,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
    ) -> list[BulkItemResult]:
        """Create or get many meetings through Graph JSON batching (``$batch``).

        Every item is validated before anything is sent; an invalid item, or a repeat of an
        earlier ``(user_id, external_id)`` pair, gets its error result and is not sent.
        Organizers given by user principal name are looked up first, each distinct one once
        (in ``$batch`` requests; known ones not at all), and an item whose organizer could
        not be resolved fails with :class:`~airflow_provider_meetings.exceptions.OrganizerLookupError`
        and is not sent; an object id and its UPN count as one organizer.
        The rest go out in batches of up to 20 with at most ``max_concurrency`` batches in
        flight, on one token and one connection pool. Each item is retried by the same rules
        as a single call (429s within the waiting budget, failures within ``max_retries``);
        when 429s show a rate limit, sending slows to the rate Graph accepts. Permanent
        errors (400/403/404) are final for their item. One failed item does not stop the
        others: check each result's ``ok``. When no token can be had, or Graph asks for a
        pause longer than ``max_retry_wait``, the call stops and every item not done fails
        with that (transient) error; the done ones keep their result.

        .. seealso:: ``docs/bulk.md``

        :param meetings: mappings with the keys of :meth:`create_or_get_meeting` (plus
            ``external_id``), or :class:`MeetingSpec` objects
        :param max_concurrency: batches in flight at most (1-32); default: the
            connection's ``bulk_concurrency``
        :param meeting_fields: fields of each meeting to keep in the results (``None``:
            all); fewer fields keep memory low for large calls
        :param progress: called with a :class:`~airflow_provider_meetings.results.BulkProgress`
            every ``progress_interval`` seconds and at the end
        :param progress_interval: seconds between progress calls
        :return: one :class:`~airflow_provider_meetings.results.BulkItemResult` per item,
            in input order
        """
        concurrency = self.settings.bulk_concurrency if max_concurrency is None else max_concurrency
        if not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_BULK_CONCURRENCY:
            raise ValueError(
                f"max_concurrency must be a whole number from 1 to {MAX_BULK_CONCURRENCY}, got {concurrency!r}"
            )
        items = meetings if isinstance(meetings, Sequence) else list(meetings)
        organizers = self.organizers.for_bulk(items, self.prepare)  # validates: bad input sends nothing
        organizers.resolve(self.client, max_concurrency=concurrency)
        results = self.client.create_or_get_many(
            items,
            prepare=organizers.prepare,
            max_concurrency=concurrency,
            meeting_fields=meeting_fields,
            progress=progress,
            progress_interval=progress_interval,
        )
        return organizers.annotate(results)

    # -- connection test ----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection by getting an access token (no meeting is created).

        Airflow's UI and REST API call this only when ``[core] test_connection = Enabled``.
        """
        try:
            settings = self.settings
            self.get_access_token(policy=RetryPolicy(max_retries=0, max_total_wait=0))
        except Exception as err:  # the UI shows the text; every error of ours is secret-free
            return False, str(err)
        if settings.delegated:
            client = "public client" if settings.public_client else f"confidential client, {settings.credential_kind}"
            mode = f"delegated (refresh token, {client})"
        else:
            mode = f"app-only ({settings.credential_kind})"
        return True, (
            f"Got an {mode} access token for client id {settings.client_id} in tenant "
            f"{settings.tenant_id} ({settings.cloud} cloud); Graph URL {settings.graph_base}"
        )
