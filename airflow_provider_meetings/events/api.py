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

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_meetings.events.bulk import EventBulkPlan, is_conflict
from airflow_provider_meetings.events.diff import changed_fields
from airflow_provider_meetings.events.occurrences import (
    NotASeriesError,
    instances_path,
    pick_occurrence,
    series_zone,
)
from airflow_provider_meetings.events.request import (
    MAX_GENERATIONS,
    EventSpec,
    PreparedEvent,
    RebookingError,
    cancel_body,
    external_id_of,
    is_spent_answer,
    prepare_event,
    prepare_lookup,
)
from airflow_provider_meetings.events.results import (
    EventBulkItemResult,
    EventResult,
    EventStatus,
    body_holds_link,
    has_join_url,
    join_url_of,
)
from airflow_provider_meetings.graph.batch import BatchItemResult, BulkProgress, GraphRequest
from airflow_provider_meetings.graph.batch_engine import user_group
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    ProviderError,
    answer_facts,
    is_not_found,
)
from airflow_provider_meetings.graph.settings import ConnectionSettings

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

#: Seconds before the one re-read of an event whose answer had no join link.
JOIN_URL_RECHECK_DELAY = 2.0


class CalendarAccessDeniedError(GraphAPIError):
    """403 to a calendar call: the permission ``Calendars.ReadWrite`` (or, delegated, for
    another user's calendar, ``Calendars.ReadWrite.Shared`` and a delegation) is missing."""


class MissingJoinUrlError(ProviderError):
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

    :param spec: the event as given
    :param settings: the connection's settings (tenant, default organizer, token kind)
    :raises InvalidRequestError: for bad input, or no organizer with an app-only token
    """
    return prepare_event(
        spec, tenant_id=settings.tenant_id, default_user_id=settings.default_user_id, delegated=settings.delegated
    )


def prepare_calendar_lookup(
    external_id: str, settings: ConnectionSettings, *, user_id: str | None = None
) -> PreparedEvent:
    """Validate what finds an event (external id, organizer) against the connection, for a cancel.

    :param external_id: the event's external id
    :param settings: the connection's settings (tenant, default organizer, token kind)
    :param user_id: the organizer (``None`` or ``""``: the connection's ``default_user_id``,
        else ``/me`` with a delegated connection)
    :raises InvalidRequestError: a bad external id or organizer, or none with an app-only token
    """
    return prepare_lookup(
        external_id,
        tenant_id=settings.tenant_id,
        user_id=user_id,
        default_user_id=settings.default_user_id,
        delegated=settings.delegated,
    )


def pick_event(events: Any, prepared: PreparedEvent, log: Any) -> dict[str, Any] | None:
    """The first of the events a lookup found whose external id is exactly ``prepared``'s
    (Graph compared without case); more than one is logged."""
    matches = [
        event for event in events or () if isinstance(event, dict) and external_id_of(event) == prepared.external_id
    ]
    if len(matches) > 1:
        log.warning(
            "%d events of %s carry external_id=%s; using the first (%s)",
            len(matches),
            prepared.user_id or "me",
            prepared.external_id,
            matches[0].get("id"),
        )
    return matches[0] if matches else None


def with_properties(found: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, Any]:
    """``found`` with the extended properties of a second read of it added (the body hash)."""
    extra = read.get("singleValueExtendedProperties") or []
    return {**found, "singleValueExtendedProperties": [*(found.get("singleValueExtendedProperties") or []), *extra]}


def patched_event(answer: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH's answer, with the found event's join link when the answer lacks one, unless
    the answer's body no longer holds that link (a body PATCH without the Teams block
    removes it: the event is then read again, :meth:`CalendarEventsApi._with_join_url`)."""
    event = dict(answer)
    link = join_url_of(found)
    if not has_join_url(event) and link:
        if not (event.get("body") or {}).get("content") or body_holds_link(event, link):
            event["onlineMeeting"] = found["onlineMeeting"]
    return event


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
        return pick_event(events, prepared, self.client.log)

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
        return self._cancel(prepared, found["id"], comment, what=f"cancel event external_id={prepared.external_id}")

    def cancel_occurrence(self, prepared: PreparedEvent, day: datetime.date, *, comment: str | None = None) -> bool:
        """Cancel the occurrence on ``day`` of the series with ``prepared``'s external id.

        The series master by its external id; its instances of that day in the series' zone
        (``GET .../events/{masterId}/instances?startDateTime=...&endDateTime=...``:
        event-list-instances); ``POST .../events/{instanceId}/cancel`` with ``comment``.

        :return: ``True`` when an occurrence was cancelled, ``False`` when the series or that
            day's occurrence does not exist (a cancelled occurrence is no longer an instance)
        :raises NotASeriesError: the event is a single event
        """
        master = self.find(prepared)
        if master is None or not master.get("id"):
            return False
        if master.get("type") != "seriesMaster":
            raise NotASeriesError(prepared.external_id, master.get("type"))
        zone = series_zone(master)
        instances = self._call(
            prepared,
            lambda: self.client.get_all(
                instances_path(prepared, master["id"], day, zone),
                what=f"GET instances of external_id={prepared.external_id} on {day.isoformat()}",
            ),
        )
        occurrence = pick_occurrence(instances, day, zone, master["id"])
        if occurrence is None:
            return False
        what = f"cancel occurrence {day.isoformat()} of external_id={prepared.external_id}"
        return self._cancel(prepared, occurrence["id"], comment, what=what)

    def _cancel(self, prepared: PreparedEvent, event_id: str, comment: str | None, *, what: str) -> bool:
        """``POST .../events/{event_id}/cancel``; ``False`` when the event was gone already."""
        try:
            self._call(
                prepared,
                lambda: self.client.post(
                    f"{prepared.event_path(event_id)}/cancel",
                    cancel_body(comment),
                    what=what,
                    user_id=prepared.user_id,
                ),
            )
        except GraphAPIError as error:
            if not is_not_found(error):  # gone in between (a cancel retried after a lost answer)
                raise
            return False
        return True

    def create_or_get_many(
        self,
        plan: EventBulkPlan,
        *,
        max_concurrency: int,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
    ) -> list[EventBulkItemResult]:
        """Every item of ``plan``: looked up, then created, PATCHed, cancelled or left alone.

        Each step is one run of the ``$batch`` engine with ``one_batch_per_user``: a batch
        holds one organizer's items and one batch per mailbox is in flight, the organizers
        side by side (Outlook allows 4 concurrent requests per mailbox and runs a batch's
        items 4 at a time, counting them against the mailbox: GRAPH_FACTS, "Calendar events").
        A 429 (``ApplicationThrottled``) is retried under the connection's retry policy like
        any throttling; an item fails only when that policy gives up. The decisions are the
        single call's (:func:`pick_event`, ``changed_fields``, :func:`patched_event`).

        :param plan: the items, validated
        :param max_concurrency: batches in flight at most (never more than the organizers)
        :param progress: called with each step's progress
        :param progress_interval: seconds between progress calls
        :return: one result per item, in input order, each with ``error`` instead of raising
        """

        def send(pairs: Sequence[tuple[int, GraphRequest]], operation: str) -> list[tuple[int, BatchItemResult]]:
            if not pairs:
                return []
            organizers = len({user_group(request.user_id) for _, request in pairs})
            engine = self.client.bulk_engine(
                max_concurrency=max(1, min(max_concurrency, organizers)),
                operation=operation,
                progress=progress,
                progress_interval=progress_interval,
                one_batch_per_user=True,
            )
            answers = engine.run([request for _, request in pairs])
            return [(index, answer) for (index, _), answer in zip(pairs, answers, strict=True)]

        def failed(index: int, answer: BatchItemResult) -> bool:
            item = plan.note(index, answer)
            if not answer.ok:
                item.error = self.access_denied(item.prepared, answer.error)
            return not answer.ok

        for index, answer in send(plan.lookups(), "GET events"):
            if not failed(index, answer):
                item = plan.items[index]
                item.found = pick_event((answer.body or {}).get("value"), item.prepared, self.client.log)
        for index, answer in send(plan.body_hash_reads(), "GET event body hash"):
            if not failed(index, answer):
                item = plan.items[index]
                item.found = with_properties(item.found or {}, answer.body or {})
        for index, answer in send(plan.occurrence_reads(), "GET instances"):
            if not failed(index, answer):
                plan.note_occurrence(index, (answer.body or {}).get("value"))

        def settle(answers: list[tuple[int, BatchItemResult]]) -> list[int]:
            """Record the write answers; the items to POST again under the next generation."""
            conflicts: list[int] = []
            spent: list[int] = []
            for index, answer in answers:
                item = plan.note(index, answer)
                if item.cancelled:
                    if answer.ok or is_not_found(answer.error):
                        item.status = "cancelled" if answer.ok else "not_found"
                    else:
                        item.error = self.access_denied(item.prepared, answer.error)
                elif is_conflict(answer.error):
                    conflicts.append(index)  # a repeated transactionId: the event exists, or was cancelled
                elif not answer.ok:
                    item.error = self.access_denied(item.prepared, answer.error)
                elif item.found is None:
                    if is_spent_answer(answer.body or {}):
                        spent.append(index)  # the transactionId of a cancelled booking
                    else:
                        item.event, item.status = dict(answer.body or {}), "created"
                else:
                    item.event, item.status = patched_event(answer.body or {}, item.found), "updated"
            for index, answer in send(plan.lookups(conflicts), "GET events (after 409)"):
                if not failed(index, answer):
                    item = plan.items[index]
                    found = pick_event((answer.body or {}).get("value"), item.prepared, self.client.log)
                    if found is None:
                        spent.append(index)
                    else:
                        item.event, item.status = found, "created"
            return sorted(spent)

        spent = settle(send(plan.writes(), "write events"))
        while spent:
            spent = settle(send(plan.rebookings(spent), "POST events (after a cancel)"))
        rereads = plan.rereads()
        if rereads:
            self.client.sleep(JOIN_URL_RECHECK_DELAY)
        for index, answer in send(rereads, "GET event (join link)"):
            item = plan.note(index, answer)
            if answer.ok and has_join_url(answer.body or {}):
                item.event = dict(answer.body or {})
        for item in plan.missing_join_url():
            item.error = MissingJoinUrlError((item.event or {}).get("id"), item.prepared.user_id)
        return plan.results()

    # -- steps ---------------------------------------------------------------------------------

    def _create(self, prepared: PreparedEvent) -> dict[str, Any]:
        """POST the event; after cancels of earlier bookings, under the next ``transactionId`` generation.

        The lookup found no event in the calendar. A POST answered with a cancelled event,
        or with a 409 when the lookup still finds none, met a ``transactionId`` an earlier,
        since cancelled booking spent (what Graph does then is not documented): the POST is
        sent again under the next generation (:func:`generation_transaction_id`), so the
        new booking is a new event and every attendee is invited again.
        """
        for generation in range(MAX_GENERATIONS):
            body = prepared.create_body(generation)
            what = f"POST event external_id={prepared.external_id}" + (
                f" (generation {generation})" if generation else ""
            )
            try:
                answer = self._call(
                    prepared,
                    lambda body=body, what=what: self.client.post(
                        prepared.base,
                        body,
                        what=what,
                        user_id=prepared.user_id,
                    ),
                )
            except GraphAPIError as error:
                # A repeat of a transactionId whose first POST went through: the event exists.
                if error.status != 409:
                    raise
                found = self.find(prepared)
                if found is not None:
                    return found
                continue  # spent by a cancelled booking
            event = answer.json_object("event")
            if not is_spent_answer(event):
                return event
            self.client.log.info(
                "transactionId generation %d of external_id=%s belongs to a cancelled event; booking anew",
                generation,
                prepared.external_id,
            )
        raise RebookingError(prepared.external_id)

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
        return with_properties(found, answer.json_object("event"))

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
        return patched_event(answer.json_object("event"), found)

    def _with_join_url(self, prepared: PreparedEvent, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` if it has a join link; else the event read once more; else an error."""
        if has_join_url(event):
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
            if has_join_url(again):
                return again
        raise MissingJoinUrlError(event_id, prepared.user_id)

    def _call(self, prepared: PreparedEvent, send: Any) -> Any:
        """Run ``send``; a 403 becomes :class:`CalendarAccessDeniedError` naming what to grant."""
        try:
            return send()
        except GraphAPIError as error:
            denied = self.access_denied(prepared, error)
            if denied is error:
                raise
            raise denied from error

    def access_denied(self, prepared: PreparedEvent, error: BaseException | None) -> BaseException | None:
        """``error`` as a :class:`CalendarAccessDeniedError` naming what to grant when it is a 403;
        any other error as it is."""
        if not isinstance(error, GraphAPIError) or error.status != 403 or isinstance(error, CalendarAccessDeniedError):
            return error
        return CalendarAccessDeniedError(**answer_facts(error), detail=self._permission_advice(prepared))

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
