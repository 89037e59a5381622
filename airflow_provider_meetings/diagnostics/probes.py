"""The requests the connection check sends, and what came back.

Every Graph request goes through :class:`~airflow_provider_meetings.graph.client.GraphClient`
(tokens, headers, errors, the one 401 refresh), built by :func:`check_client` on a copy of the
connection's settings whose retry policy is :data:`CHECK_RETRY_POLICY`: nothing is retried (a
check answers at once, and a retry loop would hide what went wrong). The one request that is
not Graph's, Entra ID's OpenID configuration (:func:`fetch_openid_configuration`), goes on the
same client's transport.

Step 5's probe creates nothing: an organizer given by user principal name is first looked up
(``GET /users/{upn}?$select=id``, as the hook does before createOrGet:
:mod:`~airflow_provider_meetings.meetings.organizers`), then the organizer's meetings are asked
for one join URL that no meeting has (:func:`probe_join_url`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_meetings.artifacts.locate import join_url_filter_path
from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.budget.factory import budget_key, open_store
from airflow_provider_meetings.graph.budget.store import State
from airflow_provider_meetings.graph.client import GraphClient
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    ProviderError,
    RetriesExhaustedError,
)
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.graph.values import is_guid, user_path
from airflow_provider_meetings.meetings.organizers import (
    OrganizerLookupError,
    lookup_request,
    needs_lookup,
    object_id_from,
)

__all__ = [
    "CHECK_RETRY_POLICY",
    "NO_ORGANIZER",
    "PROBE_JOIN_URL",
    "OrganizerProbe",
    "attempt_error",
    "check_client",
    "fetch_openid_configuration",
    "probe_join_url",
    "probe_rate_budget",
    "read_online_meeting_providers",
    "send_organizer_probe",
]

#: No retries: a check answers at once, and a retry loop would hide what went wrong.
CHECK_RETRY_POLICY = RetryPolicy(max_retries=0, max_total_wait=0)
#: The organizer of the probe's join URL when no object id is known (a token that is not a
#: readable JWT): Graph cannot match it, so the answer does not confirm anything.
NO_ORGANIZER = "00000000-0000-0000-0000-000000000000"
#: The join URL of step 5's request: shaped like a Teams join URL (thread id, tenant and
#: organizer context) so that Graph reads it as one, of a meeting no tenant has. ``GET
#: /users/{id}/onlineMeetings?$filter=JoinWebUrl eq '...'`` needs the same application
#: permission family and the same application access policy as createOrGet, and reads only
#: (https://learn.microsoft.com/graph/api/onlinemeeting-get). Graph matches the organizer of
#: the join URL's context (``Oid``) against the user asked about: users report "Organizer Id
#: mismatch" 404s (microsoftgraph/microsoft-graph-docs#10770) and 403s for a meeting of
#: another organizer (microsoftgraph/microsoft-graph-docs-contrib#436); so ``Oid`` is the
#: organizer's object id, or the signed-in user's for ``/me``.
PROBE_JOIN_URL = (
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_YWlyZmxvdy1wcm92aWRlci1tZWV0aW5ncy1jaGVjaw"
    "%40thread.v2/0?context=%7b%22Tid%22%3a%22{tenant}%22%2c%22Oid%22%3a%22{organizer}%22%7d"
)


def check_client(
    settings: ConnectionSettings, *, log: Any, mask: Callable[[str], None], conn_id: str | None
) -> GraphClient:
    """A Graph client of the connection that retries nothing (:data:`CHECK_RETRY_POLICY`).

    :param settings: the connection's settings (copied with the check's retry policy)
    :param log: where the client logs (the hook's logger)
    :param mask: receives every secret the client's token source sees (tokens, a rotated
        refresh token), so the check can scrub them from its texts
    :param conn_id: the connection's id, named in advice on refresh tokens
    """
    return GraphClient(dataclasses.replace(settings, retry=CHECK_RETRY_POLICY), mask=mask, log=log, conn_id=conn_id)


def attempt_error(error: BaseException) -> BaseException:
    """What the request itself ran into: a :class:`RetriesExhaustedError`'s ``last_error``, else ``error``.

    The check's client retries nothing (:data:`CHECK_RETRY_POLICY`), yet a transient failure
    (a 429, a 503, a timeout, Entra's ``temporarily_unavailable``) still ends the call wrapped
    in a :class:`RetriesExhaustedError`; the advice is about the failure inside.

    :param error: what the client or its token source raised
    """
    return error.last_error if isinstance(error, RetriesExhaustedError) else error


def probe_join_url(tenant_id: str, organizer_id: str) -> str:
    """The probe's join URL: a meeting no tenant has, organized by ``organizer_id``.

    :param tenant_id: the connection's tenant
    :param organizer_id: the object id Graph should find in the join URL's context
    """
    return PROBE_JOIN_URL.format(tenant=tenant_id, organizer=organizer_id)


@dataclass
class OrganizerProbe:
    """Step 5's Graph requests and what came back (an answer, or the error that replaced one).

    ``lookup`` says the error came from the user lookup rather than the meetings lookup.

    :param user: the organizer as configured (``None``: the signed-in user, ``/me``)
    :param object_id: the organizer's object id, once known
    :param organizer_in_url: the ``Oid`` the join URL named
    :param answer: Graph's 2xx answer to the last request
    :param error: Graph's error answer
    :param failure: any other failure (no answer: network, TLS, a lookup answer without id)
    :param lookup: the error or failure is the user lookup's
    """

    user: str | None
    object_id: str | None = None
    organizer_in_url: str | None = None
    answer: HttpAnswer | None = None
    error: GraphAPIError | None = None
    failure: ProviderError | None = None
    lookup: bool = False

    @property
    def status(self) -> int | None:
        """The HTTP status Graph answered with last (``None``: no answer)."""
        if self.answer is not None:
            return self.answer.status
        return self.error.status if self.error is not None else None

    @property
    def asks_signed_in_user(self) -> bool:
        """The meetings lookup went to ``/me`` (delegated, no ``default_user_id``)."""
        return self.user is None


def send_organizer_probe(
    client: GraphClient, settings: ConnectionSettings, *, signed_in_user: str | None
) -> OrganizerProbe | None:
    """Step 5's requests: the organizer's lookup if needed, then the meetings lookup.

    :param client: the check's client (:func:`check_client`)
    :param settings: the connection's settings
    :param signed_in_user: the ``oid`` of a delegated token: the organizer of ``/me``
    :return: what came back, or ``None`` when there is nobody to ask about (app-only without
        ``default_user_id``)
    """
    user = settings.default_user_id
    if user is None and not settings.delegated:
        return None
    probe = OrganizerProbe(user=user, object_id=user)
    if user is not None and needs_lookup(user):
        probe.lookup = True
        user_json = _get(client, probe, lookup_request(user).path, what=f"check: GET /users/{user}")
        if user_json is None:
            return probe
        try:
            probe.object_id = object_id_from(user_json, user)
        except OrganizerLookupError as error:
            probe.failure = error
            return probe
        probe.lookup = False
    if probe.object_id is not None and is_guid(probe.object_id):
        probe.organizer_in_url = probe.object_id
    else:
        probe.organizer_in_url = signed_in_user or NO_ORGANIZER
    url = probe_join_url(settings.tenant_id, probe.organizer_in_url)
    _get(client, probe, join_url_filter_path(probe.object_id, url), what="check: onlineMeetings by JoinWebUrl")
    return probe


def _get(client: GraphClient, probe: OrganizerProbe, path: str, *, what: str) -> Any:
    """One GET through the client; its JSON, or ``None`` with the failure recorded on ``probe``."""
    try:
        answer = client.request("GET", path, what=what, user_id=probe.object_id)
    except ProviderError as error:
        cause = attempt_error(error)  # with no retries allowed a transient error ends the call at once, wrapped
        if isinstance(cause, GraphAPIError):
            probe.error = cause
        else:
            probe.failure = cause if isinstance(cause, ProviderError) else error
        return None
    probe.answer = answer
    try:
        return answer.json()
    except ValueError:
        return {}


def read_online_meeting_providers(client: GraphClient, user_id: str | None) -> list[str] | None:
    """The organizer's calendar's ``allowedOnlineMeetingProviders`` (read-only, one GET).

    ``GET /users/{id}/calendar?$select=allowedOnlineMeetingProviders`` (``/me/calendar`` for
    ``None``; learn.microsoft.com/graph/api/calendar-get, resources/calendar): without
    ``teamsForBusiness`` a calendar event gets no Teams link (../shared/GRAPH_FACTS.md,
    "Refinements", missing join link).

    :param client: the check's client (:func:`check_client`)
    :param user_id: the organizer's object id, or ``None`` for the signed-in user
    :return: the providers, or ``None`` when the calendar could not be read (any error: the
        check only informs about calendar events, it never fails for them)
    """
    path = f"{user_path(user_id)}/calendar?$select=allowedOnlineMeetingProviders"
    try:
        body = client.request("GET", path, what="check: calendar's online meeting providers", user_id=user_id).json()
    except (ProviderError, ValueError):
        return None
    value = body.get("allowedOnlineMeetingProviders") if isinstance(body, dict) else None
    return [str(v) for v in value] if isinstance(value, list) else None


def fetch_openid_configuration(client: GraphClient, settings: ConnectionSettings) -> tuple[int | None, Any]:
    """Entra ID's OpenID configuration of the connection's tenant: its status and JSON body.

    Not a Graph request (:meth:`GraphClient.request` addresses Graph only), so it goes on the
    client's transport, once.

    :return: ``(status, body)``; ``(None, None)`` when no answer came, body ``None`` when not JSON
    """
    url = f"{settings.authority}/v2.0/.well-known/openid-configuration"
    try:
        answer = client.transport.send("GET", url)
        body = answer.json() if answer.content_type.endswith("json") else None
    except (ProviderError, ValueError):
        return None, None
    return answer.status, body


def _unchanged(state: State | None, now: float) -> State:
    # The budget's document as it is; a missing one is written empty, which the budget reads
    # as "none yet" (graph/budget/shared.py resets a document of another layout).
    return state if state is not None else {}


def probe_rate_budget(settings: ConnectionSettings, *, database_url: str | None = None) -> tuple[str, float] | None:
    """One read-modify-write on the connection's rate budget store that changes nothing.

    :param settings: the connection's settings
    :param database_url: the metadata database's SQLAlchemy URL (``rate_budget: database``)
    :return: where the budget lives and the seconds the transaction took; ``None`` when the
        connection's budget is ``off`` (or ``database`` without a URL)
    :raises ~airflow_provider_meetings.graph.budget.store.StoreUnavailable: the store did not answer
    """
    store = open_store(settings, database_url=database_url)
    if store is None:
        return None
    try:
        started = time.monotonic()
        store.transact(budget_key(settings), _unchanged)
        return store.describe(), time.monotonic() - started
    finally:
        store.close()
