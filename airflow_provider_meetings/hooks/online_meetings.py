"""Hook for Microsoft Teams online meetings through Microsoft Graph ``onlineMeetings/createOrGet``.

The Airflow-facing face only: the connection's settings, secret masking, the client and
``test_connection``; the public methods of each resource are mixins beside this module
(``online_meetings_methods.py``, ``calendar_events_methods.py``, ``meeting_artifacts_methods.py``). The work is done by
:class:`~airflow_provider_meetings.meetings.api.OnlineMeetingsApi` on a
:class:`~airflow_provider_meetings.graph.client.GraphRestClient` (transport, tokens, retries,
``$batch``), imported when a task first needs it: importing this module loads neither msal
nor requests, because Airflow imports operator modules every time it parses a DAG file.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from airflow.sdk import BaseHook

from airflow_provider_meetings.hooks.calendar_events_methods import CalendarEventsMethods
from airflow_provider_meetings.hooks.meeting_artifacts_methods import MeetingArtifactsMethods
from airflow_provider_meetings.hooks.online_meetings_methods import BULK_MEETING_FIELDS, OnlineMeetingsMethods
from airflow_provider_meetings.meetings.results import MeetingResult, SyncResult

# Airflow imports this module whenever it parses a DAG file that uses an operator (and every
# operator module imports the hook): the resources, their validation and the connection
# parsing are imported by the methods that use them, so that parsing pays for none of them.
if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient
    from airflow_provider_meetings.graph.retry import RetryPolicy
    from airflow_provider_meetings.graph.settings import ConnectionSettings

__all__ = ["BULK_MEETING_FIELDS", "MeetingResult", "OnlineMeetingsHook", "SyncResult"]


def _mask_secret(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


def metadata_database_url() -> str | None:
    """Airflow's metadata database (``[database] sql_alchemy_conn``): the ``database`` rate budget's store."""
    from airflow.configuration import conf

    return conf.get("database", "sql_alchemy_conn", fallback=None) or None


class OnlineMeetingsHook(OnlineMeetingsMethods, CalendarEventsMethods, MeetingArtifactsMethods, BaseHook):
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
        from airflow_provider_meetings.diagnostics import CHECK_EXTRAS
        from airflow_provider_meetings.graph.settings import parse_connection

        conn = self.get_connection(self.conn_id)
        # conn.extra, not extra_dejson: that one logs a traceback for text that is not JSON and
        # returns {}, so the error would read "tenant_id is missing" (parse_extra names it).
        settings = parse_connection(
            login=conn.login, password=conn.password, host=conn.host, extra=conn.extra, other_extras=CHECK_EXTRAS
        )
        for secret in settings.secrets():
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
