"""Organizers given by user principal name (UPN), resolved to the object id Graph needs.

Graph's onlineMeetings calls take the organizer's Entra **object id** in the path
(https://learn.microsoft.com/graph/api/onlinemeeting-createorget: ``userId``, "the object
ID of the user"); callers who passed a UPN or e-mail there have reported 404s. Event systems
hold e-mail addresses, so an organizer that is not a GUID is looked up first with
``GET /users/{userPrincipalName}?$select=id`` (https://learn.microsoft.com/graph/api/user-get,
which reads a user "by id or userPrincipalName"; it needs the application permission
``User.Read.All``, or for a delegated connection ``User.ReadBasic.All``) and the request
goes to ``users/{object id}``.

* A hook looks each UPN up at most once (:class:`OrganizerDirectory`, keys in lower case:
  UPNs are case-insensitive in Entra). Failures are not remembered: a user created later
  is found by the next call.
* A bulk call looks up each distinct UPN once, through ``$batch`` (the bulk engine, with
  ``GET`` items), before any meeting is sent (:meth:`OrganizerDirectory.resolve_many`). An item whose UPN
  could not be resolved gets an :class:`OrganizerLookupError`
  result and is not sent; the others go to the object id, so the duplicate check sees an
  object id and its UPN as one organizer.
* ``/me`` (a delegated connection without an organizer) needs no lookup. A delegated
  connection that names a UPN is looked up like an app-only one, with the delegated
  ``User.ReadBasic.All`` (the signed-in user may read its own user with ``User.Read``).

Results carry both: ``user_id`` is the object id the request went to, ``given_user_id``
what the caller gave. Nothing here imports requests or msal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    ProviderError,
    describe_error,
    is_permanent,
)
from airflow_provider_meetings.graph.values import is_guid, user_path
from airflow_provider_meetings.meetings.permissions import USER_LOOKUP
from airflow_provider_meetings.meetings.request import PreparedRequest

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient


class OrganizerLookupError(ProviderError):
    """An organizer given by user principal name (UPN) could not be resolved to its Entra
    object id, so nothing was sent for it (by :class:`OrganizerDirectory`).

    Carries the facts of the lookup's failure (``status``, ``code``, ``request_id``) and is
    permanent exactly when that failure is (a 403 or 404 is; throttling that outlasted the
    retry bound is not).

    :param upn: the organizer as given
    :param message: what went wrong and what to do
    :param cause: the lookup's error
    """

    def __init__(self, upn: str, message: str, *, cause: BaseException | None = None) -> None:
        self.upn = upn
        self.status = getattr(cause, "status", None)
        self.code = getattr(cause, "code", None)
        self.request_id = getattr(cause, "request_id", None)
        self.permanent = True if cause is None else is_permanent(cause)
        #: the pause Graph asked for when the lookup gave up because it was too long (a
        #: deferrable task defers for it; see ``RetriesExhaustedError.asked_wait``)
        self.asked_wait: float | None = getattr(cause, "asked_wait", None)
        super().__init__(message)


class OrganizerLookupDeniedError(OrganizerLookupError):
    """403 to ``GET /users/{upn}``: the app may not read users (``User.Read.All`` is missing)."""


class OrganizerNotFoundError(OrganizerLookupError):
    """404 to ``GET /users/{upn}``: no user of the tenant has this user principal name."""


#: The application permission that reads users (see :data:`~airflow_provider_meetings.meetings.permissions.USER_LOOKUP`).
LOOKUP_PERMISSION = USER_LOOKUP.application
#: The delegated permission that reads other users (``$select=id`` is a basic property).
DELEGATED_LOOKUP_PERMISSION = USER_LOOKUP.delegated
#: The user properties a lookup asks for: only the object id.
LOOKUP_SELECT = ("id",)
#: Failed organizers named in the lookup's log line (each failed item is reported anyway).
_NAMED_IN_LOG = 5


def needs_lookup(user_id: str | None) -> bool:
    """Whether ``user_id`` (already validated) is a UPN rather than an object id or ``/me``."""
    return user_id is not None and not is_guid(user_id)


def lookup_request(upn: str) -> PreparedRequest:
    """``GET /users/{upn}?$select=id``: a request without a body, for a single call or a ``$batch`` item."""
    return PreparedRequest(
        path=f"{user_path(upn)}?$select={','.join(LOOKUP_SELECT)}", body=None, user_id=None, method="GET"
    )


def with_object_id(prepared: PreparedRequest, object_id: str) -> PreparedRequest:
    """``prepared`` sent to ``users/{object_id}`` instead of ``users/{upn}``."""
    prefix = user_path(prepared.user_id)
    if not prepared.path.startswith(prefix + "/"):
        raise ValueError(f"{prepared.path!r} is not a path below {prefix!r}")
    return replace(prepared, path=user_path(object_id) + prepared.path[len(prefix) :], user_id=object_id)


def lookup_error(upn: str, error: BaseException, *, delegated: bool = False) -> OrganizerLookupError:
    """The error of an organizer whose lookup failed with ``error``: what to grant or fix.

    :param upn: the organizer as given
    :param error: what the lookup ran into
    :param delegated: whether the connection is delegated (changes what to grant)
    """
    if not isinstance(error, GraphAPIError):
        return OrganizerLookupError(
            upn,
            f"organizer {upn!r} (a user principal name) could not be resolved to its object id: {error}",
            cause=error,
        )
    answered = f"Microsoft Graph answered {error.status} {error.code} to GET /users/{upn}"
    request_id = f" (request-id {error.request_id})" if error.request_id else ""
    if error.status == 403:
        grant = (
            f"grant the app the delegated permission {DELEGATED_LOOKUP_PERMISSION} and consent to it (it needs no "
            "admin consent), leave user_id empty to act as the signed-in user (/me)"
            if delegated
            else f"grant the app the Microsoft Graph application permission {LOOKUP_PERMISSION} with admin "
            "consent (Entra ID > App registrations > the app > API permissions)"
        )
        return OrganizerLookupDeniedError(
            upn,
            f"organizer {upn!r} is a user principal name and the app may not look up its object id: {answered}. "
            f"To fix, {grant}, or give organizers by their Entra object id, which needs no lookup{request_id}",
            cause=error,
        )
    if error.status == 404:
        return OrganizerNotFoundError(
            upn,
            f"organizer {upn!r} does not exist in the tenant: {answered} (no user has this user principal "
            f"name). Check the spelling, or give the organizer's Entra object id{request_id}",
            cause=error,
        )
    return OrganizerLookupError(
        upn,
        f"organizer {upn!r} (a user principal name) could not be resolved to its object id: {answered}: "
        f"{error.message}{request_id}",
        cause=error,
    )


def object_id_from(user: Any, upn: str) -> str:
    """The object id in the answer to a lookup.

    :raises OrganizerLookupError: when the answer holds none
    """
    object_id = user.get("id") if isinstance(user, Mapping) else None
    if not isinstance(object_id, str) or not is_guid(object_id):
        raise OrganizerLookupError(
            upn, f"organizer {upn!r}: the answer to GET /users/{upn} had no object id (got {object_id!r})"
        )
    return object_id


def _reason(error: OrganizerLookupError) -> str:
    """A lookup failure in a few words: ``404 Request_ResourceNotFound``."""
    if error.status is not None:
        return f"{error.status} {error.code}"
    return describe_error(error.__cause__ or error)


class OrganizerDirectory:
    """Object ids of the organizers a hook was given by UPN, each looked up once; thread-safe."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()
        #: lookups sent (single calls and ``$batch`` items), for logs and tests
        self.lookups = 0

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, upn: str) -> str | None:
        """The object id of ``upn`` if it was looked up already (any case)."""
        with self._lock:
            return self._ids.get(upn.lower())

    def remember(self, upn: str, object_id: str) -> None:
        """Record the object id of ``upn``."""
        with self._lock:
            self._ids[upn.lower()] = object_id

    def resolve(self, prepared: PreparedRequest, client: GraphRestClient) -> PreparedRequest:
        """``prepared`` with the organizer's object id in its path, looked up if it was a UPN.

        :raises OrganizerLookupError: when Graph refuses or does not know the UPN; token and
            connection errors pass through as they are
        """
        upn = prepared.user_id
        if upn is None or not needs_lookup(upn):
            return prepared
        return with_object_id(prepared, self.object_id(upn, client))

    def object_id(self, user_id: str, client: GraphRestClient) -> str:
        """The object id of an organizer: ``user_id`` itself, or the one of a UPN (looked up once).

        :raises OrganizerLookupError: when Graph refuses or does not know the UPN
        """
        if not needs_lookup(user_id):
            return user_id
        known = self.get(user_id)
        return known if known is not None else self._look_up(user_id, client)

    def _look_up(self, upn: str, client: GraphRestClient) -> str:
        request = lookup_request(upn)
        self.lookups += 1
        try:
            answer = client.get(request.path, what=f"organizer lookup GET /users/{upn}")
        except (AuthenticationError, ConnectionConfigError):
            raise  # no token or no connection: not about the organizer
        except ProviderError as error:
            raise lookup_error(upn, error, delegated=client.settings.delegated) from error
        object_id = object_id_from(answer.json(), upn)
        self.remember(upn, object_id)
        client.log.info("Organizer %s has object id %s (looked up once per hook)", upn, object_id)
        return object_id

    def resolve_many(
        self, upns: Iterable[str], client: GraphRestClient, *, max_concurrency: int
    ) -> dict[str, OrganizerLookupError]:
        """Look up every UPN not known yet, each once, in ``$batch`` requests.

        :param upns: the UPNs of a bulk call (any case; repeats are looked up once)
        :param client: where to send the lookups
        :param max_concurrency: batches in flight at most
        :return: the lookup error of each UPN that could not be resolved, by UPN in lower case
        """
        distinct: dict[str, str] = {}
        for upn in upns:
            distinct.setdefault(upn.lower(), upn)
        unknown = [upn for upn in distinct.values() if self.get(upn) is None]
        failures: dict[str, OrganizerLookupError] = {}
        if not unknown:
            return failures
        engine = client.bulk_engine(max_concurrency=max_concurrency, operation="GET users", keep_fields=LOOKUP_SELECT)
        results = engine.run([lookup_request(upn) for upn in unknown])
        self.lookups += len(unknown)
        for upn, result in zip(unknown, results, strict=True):
            if result.error is not None:
                error = lookup_error(upn, result.error, delegated=client.settings.delegated)
                error.__cause__ = result.error
                failures[upn.lower()] = error
                continue
            try:
                self.remember(upn, object_id_from(result.body, upn))
            except OrganizerLookupError as error:
                failures[upn.lower()] = error
        failed = [f"{error.upn} ({_reason(error)})" for error in failures.values()]
        named = ", ".join(failed[:_NAMED_IN_LOG]) + (
            f" and {len(failed) - _NAMED_IN_LOG} more" if len(failed) > _NAMED_IN_LOG else ""
        )
        client.log.info(
            "Looked up %d organizer(s) given by user principal name in %d $batch request(s): %d resolved, %d not%s",
            len(unknown),
            engine.stats.batches,
            len(unknown) - len(failed),
            len(failed),
            f": {named}" if failed else "",
        )
        return failures
