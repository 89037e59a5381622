"""The calendar-events face of :class:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook`.

A mixin of the hook (docs/events.md): thin delegations to ``events/`` on the hook's
``client`` and ``settings``. Its resources are imported by the methods that use them, as in
the hook module, so that parsing a DAG file pays for none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_meetings.graph.batch import check_concurrency, check_progress_interval

if TYPE_CHECKING:
    from datetime import date

    from airflow_provider_meetings.events.api import CalendarEventsApi
    from airflow_provider_meetings.events.request import EventSpec, PreparedEvent
    from airflow_provider_meetings.events.results import EventBulkItemResult, EventResult
    from airflow_provider_meetings.graph.batch import BulkProgress
    from airflow_provider_meetings.graph.client import GraphRestClient
    from airflow_provider_meetings.graph.settings import ConnectionSettings

__all__ = ["CalendarEventsMethods"]


class CalendarEventsMethods:
    """Calendar events with a Teams link, idempotent by external id (mixed into the hook)."""

    client: GraphRestClient
    settings: ConnectionSettings

    # -- calendar events (issue 22) -------------------------------------------------------------

    @property
    def events(self) -> CalendarEventsApi:
        """The calendar-events resource on :attr:`client` (building the client if needed)."""
        from airflow_provider_meetings.events.api import CalendarEventsApi

        return CalendarEventsApi(self.client, delegated=self.settings.delegated)

    def prepare_event(self, spec: EventSpec) -> PreparedEvent:
        """Validate a calendar event against the connection without any request."""
        from airflow_provider_meetings.events.api import prepare_calendar_event

        return prepare_calendar_event(spec, self.settings)

    def create_or_get_event(
        self,
        external_id: str,
        *,
        subject: str,
        start: Any,
        end: Any,
        user_id: str | None = None,
        attendees: Sequence[str | Mapping[str, Any]] = (),
        time_zone: str | None = None,
        body: str | Mapping[str, Any] | None = None,
        location: str | Mapping[str, Any] | None = None,
        recurrence: str | Mapping[str, Any] | None = None,
        update_existing: bool = False,
        allow_new_time_proposals: bool | None = None,
        hide_attendees: bool | None = None,
        response_requested: bool | None = None,
        is_reminder_on: bool | None = None,
        reminder_minutes_before_start: int | None = None,
        sensitivity: str | None = None,
        show_as: str | None = None,
        categories: Sequence[str] | None = None,
    ) -> EventResult:
        """Create an Outlook calendar event with a Teams meeting, or get the one with this ``external_id``.

        Unlike :meth:`create_or_get_meeting`, the event is in the organizer's calendar and the
        attendees receive an invitation when it is created (and an update when a PATCH moves
        it). The external id is kept on the event in an extended property and compared
        exactly (``Course-A`` and ``course-a`` are two events); a POST retried after a lost
        answer carries the same ``transactionId``, so it books nothing twice. Everything is
        validated before a token is requested. Needs ``Calendars.ReadWrite``.

        .. seealso:: ``docs/events.md``

        :param external_id: the event's stable key, e.g. ``"interview-{{ params.candidate }}"``
        :param subject: the event's subject
        :param start: aware datetime or ISO-8601 string with offset; the event is sent in its zone
        :param end: same; after ``start``
        :param user_id: the organizer's mailbox (object id or UPN); default: the connection's
            ``default_user_id``, else ``/me`` with a delegated connection
        :param attendees: e-mail strings, or mappings ``{"address", "name", "type"}`` with
            ``type`` ``required`` (default), ``optional`` or ``resource`` (rooms)
        :param time_zone: IANA or Windows zone of the event; default: the start's own zone
        :param body: HTML text, or Graph's ``{"contentType", "content"}``
        :param location: its display name, or Graph's ``location``
        :param recurrence: an iCalendar ``RRULE`` string or Graph's ``patternedRecurrence``
        :param update_existing: PATCH an existing event whose time, subject, attendees,
            location, body or given options differ (one request; none when nothing does)
        :param allow_new_time_proposals: whether invitees may propose another time
            (``allowNewTimeProposals``; ``False`` suits an interview); ``None``: Graph's default
        :param hide_attendees: whether each attendee sees only themselves (``hideAttendees``)
        :param response_requested: whether the organizer asks for responses (``responseRequested``)
        :param is_reminder_on: whether a reminder is set (``isReminderOn``)
        :param reminder_minutes_before_start: minutes before the start the reminder fires
        :param sensitivity: ``normal``, ``personal``, ``private`` or ``confidential``
        :param show_as: ``free``, ``tentative``, ``busy``, ``oof``, ``workingElsewhere`` or ``unknown``
        :param categories: the event's category names
        :return: the event with ``status`` ``created``, ``existing``, ``updated`` or ``unchanged``,
            and the attendees' ``responses``
        """
        from airflow_provider_meetings.events.request import EventSpec

        prepared = self.prepare_event(
            EventSpec(
                external_id=external_id,
                subject=subject,
                start=start,
                end=end,
                user_id=user_id,
                attendees=attendees,
                time_zone=time_zone,
                body=body,
                location=location,
                recurrence=recurrence,
                allow_new_time_proposals=allow_new_time_proposals,
                hide_attendees=hide_attendees,
                response_requested=response_requested,
                is_reminder_on=is_reminder_on,
                reminder_minutes_before_start=reminder_minutes_before_start,
                sensitivity=sensitivity,
                show_as=show_as,
                categories=categories,
            )
        )
        return self.events.create_or_get(prepared, update_existing=update_existing)

    def cancel_event(self, external_id: str, *, user_id: str | None = None, comment: str | None = None) -> bool:
        """Cancel the calendar event with this ``external_id``; attendees get the cancellation.

        ``POST .../events/{id}/cancel`` with ``comment``. The event moves to Deleted Items, so a
        later :meth:`create_or_get_event` with the same id books a new event and invites
        everyone again: book a cancelled event again under a new external id (``docs/events.md``).

        :param external_id: the event's stable key
        :param user_id: the organizer's mailbox (as for :meth:`create_or_get_event`)
        :param comment: the text attendees receive with the cancellation
        :return: ``True`` when an event was cancelled, ``False`` when there was none
        """
        from airflow_provider_meetings.events.api import prepare_calendar_lookup

        prepared = prepare_calendar_lookup(external_id, self.settings, user_id=user_id)  # bad input sends nothing
        return self.events.cancel(prepared, comment=comment)

    def cancel_event_occurrence(
        self,
        external_id: str,
        occurrence_date: date | str,
        *,
        user_id: str | None = None,
        comment: str | None = None,
    ) -> bool:
        """Cancel one occurrence of the series with this ``external_id``; its attendees get the
        cancellation of that day (the rest of the series stays).

        The series master is found by its external id, that day's instance by
        ``GET .../events/{masterId}/instances`` (event-list-instances), and cancelled with
        ``POST .../events/{instanceId}/cancel`` and ``comment``. Arguments are checked before
        any request.

        :param external_id: the series' stable key
        :param occurrence_date: the occurrence's day in the series' own zone (``date`` or ``YYYY-MM-DD``)
        :param user_id: the organizer's mailbox (as for :meth:`create_or_get_event`)
        :param comment: the text attendees receive with the cancellation
        :return: ``True`` when an occurrence was cancelled, ``False`` when the series or that
            day's occurrence does not exist (a rerun after the cancel finds none)
        :raises ~airflow_provider_meetings.events.occurrences.NotASeriesError: the event is not a series
        """
        from airflow_provider_meetings.events.api import prepare_calendar_lookup
        from airflow_provider_meetings.events.occurrences import occurrence_day

        day = occurrence_day(occurrence_date)
        prepared = prepare_calendar_lookup(external_id, self.settings, user_id=user_id)  # bad input sends nothing
        return self.events.cancel_occurrence(prepared, day, comment=comment)

    def create_or_get_events(
        self,
        specs: Iterable[Mapping[str, Any] | EventSpec],
        *,
        update_existing: bool = False,
        max_concurrency: int | None = None,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
    ) -> list[EventBulkItemResult]:
        """Create or get many calendar events with Teams meetings through ``$batch``; with
        ``update_existing`` also PATCH those that differ; cancel items marked ``cancelled``.

        Every item is validated once, before any request: an invalid or repeated item gets
        its error result and is not sent. Each item is then looked up by its external id and
        created (with its ``transactionId``), PATCHed, cancelled or left alone, as
        :meth:`create_or_get_event` and :meth:`cancel_event` do. Requests go one ``$batch``
        per organizer, one batch per mailbox in flight, the organizers side by side
        (Outlook's 4 concurrent requests per mailbox); a 429 is retried, not an item failure.
        One failed item does not stop the others: check each result's ``ok``.

        .. seealso:: ``docs/events.md``, "Many events at once"

        :param specs: mappings with the keys of :meth:`create_or_get_event` (``external_id``
            among them), or :class:`EventSpec` objects; ``{"external_id", "user_id",
            "cancelled": True, "comment"}`` cancels that event, and with ``"occurrence_date"``
            (a date or ``YYYY-MM-DD``) only that day of the series (as :meth:`cancel_event_occurrence`)
        :param update_existing: PATCH found events that differ from their item
        :param max_concurrency: batches in flight at most (1-32; never more than one per
            organizer); default: the connection's ``bulk_concurrency``, at least 10
        :param progress: called with a :class:`~airflow_provider_meetings.graph.batch.BulkProgress`
            every ``progress_interval`` seconds and at the end of each step
        :param progress_interval: seconds between progress calls
        :return: one :class:`~airflow_provider_meetings.events.results.EventBulkItemResult`
            per item, in input order; ``status`` is ``created``, ``existing``, ``updated``,
            ``unchanged``, ``cancelled`` or ``not_found``
        """
        # Batches of different mailboxes do not compete for a mailbox's limit: by default as
        # many organizers as the connection's concurrency allows, and ten at least.
        from airflow_provider_meetings.events.api import prepare_calendar_lookup
        from airflow_provider_meetings.events.bulk import EventBulkPlan

        concurrency = check_concurrency(max_concurrency, max(self.settings.bulk_concurrency, 10))
        progress_interval = check_progress_interval(progress_interval)
        settings = self.settings
        plan = EventBulkPlan(
            specs,
            prepare=self.prepare_event,
            prepare_lookup=lambda external_id, user_id: prepare_calendar_lookup(external_id, settings, user_id=user_id),
            update_existing=update_existing,
        )
        return self.events.create_or_get_many(
            plan, max_concurrency=concurrency, progress=progress, progress_interval=progress_interval
        )
