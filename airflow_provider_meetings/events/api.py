"""The calendar-events resource on the Graph REST client: create-or-get by external id, cancel.

Graph has no create-or-get for events, so the provider makes one (docs/events.md):

1. look the event up by the external id in its single-value extended property
   (``GET .../events?$filter=singleValueExtendedProperties/Any(...)``, with ``$expand`` to
   read the value back) and keep only exact matches (Graph compares the value without case);
2. none: ``POST .../events`` with a ``transactionId`` derived from tenant, organizer and
   external id, so a POST retried after a lost answer books nothing twice;
3. one, and ``update_existing``: one ``PATCH`` of the normalized subset that differs
   (:mod:`~airflow_provider_meetings.events.diff`), nothing when it matches.

Paths are ``/users/{id}/events`` (app-only) and ``/me/events`` (delegated), as for meetings.
Importing this module loads neither msal nor requests: the client is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_meetings.events.diff import changed_fields
from airflow_provider_meetings.events.request import (
    EventSpec,
    PreparedEvent,
    external_id_of,
    prepare_event,
    prepare_lookup,
)
from airflow_provider_meetings.events.results import EventResult, EventStatus
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidMeetingRequestError, MeetingsError
from airflow_provider_meetings.graph.settings import ConnectionSettings

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

#: Seconds before the one re-read of an event whose answer had no join link.
JOIN_URL_RECHECK_DELAY = 2.0


class CalendarAccessDeniedError(GraphAPIError):
    """403 to a calendar call: the permission ``Calendars.ReadWrite`` (or, delegated, for
    another user's calendar, ``Calendars.ReadWrite.Shared`` and a delegation) is missing."""


class MissingJoinUrlError(MeetingsError):
    """The event was made but has no Teams link: the mailbox cannot hold Teams meetings.

    :param event_id: the event's Graph id (the event exists: cancel it or fix the mailbox)
    :param user_id: the organizer
    """

    def __init__(self, event_id: str | None, user_id: str | None) -> None:
        self.event_id = event_id
        self.user_id = user_id
        who = f"user {user_id!r}" if user_id else "the signed-in user"
        super().__init__(
            f"event {event_id!r} of {who} has no onlineMeeting.joinUrl after a second read. The mailbox's "
            "calendar does not offer Teams: its allowedOnlineMeetingProviders lacks teamsForBusiness "
            "(check GET /users/{id}/calendar?$select=allowedOnlineMeetingProviders), or the account is "
            "personal or has no Teams licence. An Exchange/Teams administrator must enable Teams meetings "
            "for the mailbox; the event exists (cancel it, or run again once Teams is enabled)."
        )


def prepare_calendar_event(spec: EventSpec, settings: ConnectionSettings) -> PreparedEvent:
    """Validate an event against the connection (organizer, tenant), sending nothing.

    :raises InvalidMeetingRequestError: for bad input, or no organizer with an app-only token
    """
    prepared = prepare_event(spec, tenant_id=settings.tenant_id, default_user_id=settings.default_user_id)
    return _with_organizer(prepared, settings)


def prepare_calendar_lookup(
    external_id: str, settings: ConnectionSettings, *, user_id: str | None = None
) -> PreparedEvent:
    """Validate what finds an event (external id, organizer) against the connection, for a cancel."""
    prepared = prepare_lookup(
        external_id, tenant_id=settings.tenant_id, user_id=user_id, default_user_id=settings.default_user_id
    )
    return _with_organizer(prepared, settings)


def _with_organizer(prepared: PreparedEvent, settings: ConnectionSettings) -> PreparedEvent:
    if prepared.user_id is None and not settings.delegated:
        raise InvalidMeetingRequestError(
            "user_id",
            "no organizer: app-only tokens cannot use /me/events. Pass user_id (the mailbox whose calendar "
            "holds the event), set the connection extra default_user_id, or use a refresh_token (delegated mode)",
        )
    return prepared


def _has_join_url(event: Mapping[str, Any]) -> bool:
    meeting = event.get("onlineMeeting")
    return isinstance(meeting, Mapping) and bool(meeting.get("joinUrl"))


class CalendarEventsApi:
    """Calendar events of one connection, on its Graph REST client.

    Every method takes events validated by :func:`prepare_calendar_event`: bad input is
    refused before a client exists.

    :param client: the connection's client
    :param delegated: whether the connection's tokens are delegated (named in 403 advice)
    """

    def __init__(self, client: GraphRestClient, *, delegated: bool = False) -> None:
        self.client = client
        self.delegated = delegated

    def find(self, prepared: PreparedEvent) -> dict[str, Any] | None:
        """The organizer's event whose external id is exactly ``prepared.external_id``, or ``None``."""
        events = self._call(
            prepared,
            lambda: self.client.get_all(prepared.lookup_path, what=f"GET events external_id={prepared.external_id}"),
        )
        matches = [
            event for event in events if isinstance(event, dict) and external_id_of(event) == prepared.external_id
        ]
        if len(matches) > 1:
            self.client.log.warning(
                "%d events of %s carry external_id=%s; using the first (%s)",
                len(matches),
                prepared.user_id or "me",
                prepared.external_id,
                matches[0].get("id"),
            )
        return matches[0] if matches else None

    def create_or_get(self, prepared: PreparedEvent, *, update_existing: bool = False) -> EventResult:
        """The event with ``prepared``'s external id: found, created, or found and PATCHed.

        :param prepared: the event, validated
        :param update_existing: PATCH a found event whose normalized subset differs
        :return: the event and ``status`` (``created``, ``existing``, ``updated``, ``unchanged``)
        :raises CalendarAccessDeniedError: 403, with the permission to grant
        :raises MissingJoinUrlError: the event has no Teams link after a second read
        """
        found = self.find(prepared)
        status: EventStatus
        if found is None:
            event, created, status = self._create(prepared), True, "created"
        elif not update_existing:
            event, created, status = found, False, "existing"
        else:
            patch = changed_fields(prepared, self._with_body_hash(prepared, found))
            if not patch:
                event, created, status = found, False, "unchanged"
            else:
                event, created, status = self._patch(prepared, found, patch), False, "updated"
        event = self._with_join_url(prepared, event)
        return EventResult(event=event, created=created, status=status, user_id=prepared.user_id)

    def cancel(self, prepared: PreparedEvent, *, comment: str | None = None) -> bool:
        """Cancel the event with ``prepared``'s external id; attendees get the cancellation.

        ``POST .../events/{id}/cancel`` (organizer only; ``202 Accepted``) with the
        ``comment``. The event moves to Deleted Items: a later lookup finds nothing.

        :return: ``True`` when an event was cancelled, ``False`` when there was none
        """
        found = self.find(prepared)
        if found is None or not found.get("id"):
            return False
        body = {"comment": comment} if comment else {}
        try:
            self._call(
                prepared,
                lambda: self.client.post(
                    f"{prepared.event_path(found['id'])}/cancel",
                    body,
                    what=f"cancel event external_id={prepared.external_id}",
                    user_id=prepared.user_id,
                ),
            )
        except GraphAPIError as error:
            if error.status != 404:  # gone in between (a cancel retried after a lost answer)
                raise
            return False
        return True

    # -- steps ---------------------------------------------------------------------------------

    def _create(self, prepared: PreparedEvent) -> dict[str, Any]:
        try:
            answer = self._call(
                prepared,
                lambda: self.client.post(
                    prepared.base,
                    prepared.create_body(),
                    what=f"POST event external_id={prepared.external_id}",
                    user_id=prepared.user_id,
                ),
            )
        except GraphAPIError as error:
            # A repeat of a transactionId whose first POST went through: the event exists.
            if error.status != 409:
                raise
            found = self.find(prepared)
            if found is None:
                raise
            return found
        return answer.json_object("event")

    def _with_body_hash(self, prepared: PreparedEvent, found: dict[str, Any]) -> dict[str, Any]:
        """``found`` with the body-hash property read back, when a body is to be compared.

        A second GET in the documented one-property ``$expand`` form, rather than an ``or``
        in the lookup's ``$expand``: only update calls with a body pay for it.
        """
        if "body" not in prepared.fields or not found.get("id"):
            return found
        answer = self._call(
            prepared,
            lambda: self.client.get(
                prepared.body_hash_path(found["id"]),
                what=f"GET event body hash external_id={prepared.external_id}",
                user_id=prepared.user_id,
            ),
        )
        extra = answer.json_object("event").get("singleValueExtendedProperties") or []
        return {**found, "singleValueExtendedProperties": [*(found.get("singleValueExtendedProperties") or []), *extra]}

    def _patch(self, prepared: PreparedEvent, found: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        answer = self._call(
            prepared,
            lambda: self.client.patch(
                prepared.event_path(found["id"]),
                patch,
                what=f"PATCH event external_id={prepared.external_id} ({', '.join(sorted(patch))})",
                user_id=prepared.user_id,
            ),
        )
        event = answer.json_object("event")
        if not _has_join_url(event) and _has_join_url(found):
            event = {**event, "onlineMeeting": found["onlineMeeting"]}
        return event

    def _with_join_url(self, prepared: PreparedEvent, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` if it has a join link; else the event read once more; else an error."""
        if _has_join_url(event):
            return event
        event_id = event.get("id")
        if event_id:
            self.client.sleep(JOIN_URL_RECHECK_DELAY)
            again = self._call(
                prepared,
                lambda: self.client.get(
                    prepared.event_path(event_id),
                    what=f"GET event external_id={prepared.external_id} (join link)",
                    user_id=prepared.user_id,
                ),
            ).json_object("event")
            if _has_join_url(again):
                return again
        raise MissingJoinUrlError(event_id, prepared.user_id)

    def _call(self, prepared: PreparedEvent, send: Any) -> Any:
        """Run ``send``; a 403 becomes :class:`CalendarAccessDeniedError` naming what to grant."""
        try:
            return send()
        except GraphAPIError as error:
            if error.status != 403 or isinstance(error, CalendarAccessDeniedError):
                raise
            raise CalendarAccessDeniedError(
                error.status,
                error.code,
                error.message,
                request_id=error.request_id,
                date=error.date,
                detail=self._permission_advice(prepared),
            ) from error

    def _permission_advice(self, prepared: PreparedEvent) -> str:
        if self.delegated:
            advice = (
                "The signed-in user's token needs the delegated permission Calendars.ReadWrite "
                "(Entra ID > App registrations > API permissions, then consent)."
            )
            if prepared.user_id is not None:
                advice += (
                    f" Writing to another user's calendar ({prepared.user_id!r}) needs Calendars.ReadWrite.Shared "
                    "too, and that user must share the calendar with the signed-in user (delegate or editor)."
                )
            return advice
        return (
            "The app needs the application permission Calendars.ReadWrite with admin consent (Entra ID > "
            "App registrations > API permissions > Microsoft Graph > Application permissions > "
            "Calendars.ReadWrite > Grant admin consent). If it has it, an Exchange administrator may have "
            f"limited the app to some mailboxes (RBAC for Applications): add {prepared.user_id!r} to its scope."
        )
