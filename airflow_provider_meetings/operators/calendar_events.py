"""Operators for Outlook calendar events with a Teams meeting (invitations, series).

Importing this module loads neither msal nor requests: the hook imports them when a task
runs, not when a DAG file is parsed.

.. seealso:: ``docs/events.md``
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from airflow_provider_meetings.links.calendar_events import JoinTeamsEventLink, OutlookEventLink
from airflow_provider_meetings.operators.base import BulkOptions, ProviderOperator, bulk_items
from airflow_provider_meetings.operators.task_outcome import fail_permanent_errors, finish_bulk

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["BulkCreateOrGetTeamsEventsOperator", "CancelTeamsEventOperator", "CreateOrGetTeamsEventOperator"]

#: The optional event fields (``events/options.py``; kept here as names so that importing
#: this module stays light): keyword arguments and template fields of the create operator.
EVENT_OPTIONS = (
    "allow_new_time_proposals",
    "hide_attendees",
    "response_requested",
    "is_reminder_on",
    "reminder_minutes_before_start",
    "sensitivity",
    "show_as",
    "categories",
)


def _given(value: Any) -> Any:
    """A rendered option, or ``None`` when a template rendered it empty (``""``: not given)."""
    return None if isinstance(value, str) and not value.strip() else value


class CreateOrGetTeamsEventOperator(ProviderOperator):
    """Create an Outlook calendar event with a Teams meeting, or get the one with this external id.

    The attendees receive an invitation when the event is created (and an update when
    ``update_existing`` moves it). A rerun, a cleared task or a backfill with the same
    ``external_id`` and organizer returns the same event. The return value (XCom) is
    ``{"event_id", "ical_uid", "web_link", "outlook_url", "join_url", "status", "created",
    "user_id", "responses"}``; ``status`` is ``created``, ``existing``, ``updated`` or
    ``unchanged``; ``responses`` maps each attendee's address to its ``status.response``.
    Invalid arguments and permanent Graph errors (403, 400) fail the task without retries.

    :param conn_id: id of a ``msgraph_meetings`` connection (templated)
    :param external_id: the event's stable key, e.g. ``"interview-{{ params.candidate }}"`` (templated)
    :param subject: the event's subject (templated)
    :param start: aware datetime or ISO-8601 string with an offset (templated)
    :param end: same; after ``start`` (templated)
    :param user_id: the organizer's mailbox (object id or UPN); default: the connection's
        ``default_user_id``, else ``/me`` with a delegated connection (templated)
    :param attendees: e-mail strings or mappings ``{"address", "name", "type"}`` (templated)
    :param time_zone: IANA or Windows zone; default: the start's own zone (templated)
    :param body: HTML text or Graph's ``itemBody`` (templated)
    :param location: display name or Graph's ``location`` (templated)
    :param recurrence: an ``RRULE`` string or Graph's ``patternedRecurrence`` (templated)
    :param update_existing: PATCH an existing event whose time, subject, attendees,
        location, body or given options differ
    :param allow_new_time_proposals: whether invitees may propose a new time (``False`` suits
        interviews; templated; ``"true"``/``"false"`` accepted)
    :param hide_attendees: whether each attendee sees only themselves (templated)
    :param response_requested: whether responses are requested (templated)
    :param is_reminder_on: whether a reminder is set (templated)
    :param reminder_minutes_before_start: minutes before the start of the reminder (templated)
    :param sensitivity: ``normal``, ``personal``, ``private`` or ``confidential`` (templated)
    :param show_as: ``free``, ``tentative``, ``busy``, ``oof``, ``workingElsewhere``, ``unknown`` (templated)
    :param categories: category names (templated)
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "external_id",
        "subject",
        "start",
        "end",
        "user_id",
        "attendees",
        "time_zone",
        "body",
        "location",
        "recurrence",
        *EVENT_OPTIONS,
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"attendees": "json", "body": "html"}
    ui_color = "#C5E3F3"
    operator_extra_links = (JoinTeamsEventLink(), OutlookEventLink())

    def __init__(
        self,
        *,
        conn_id: str = OnlineMeetingsHook.default_conn_name,
        external_id: str,
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
        allow_new_time_proposals: bool | str | None = None,
        hide_attendees: bool | str | None = None,
        response_requested: bool | str | None = None,
        is_reminder_on: bool | str | None = None,
        reminder_minutes_before_start: int | str | None = None,
        sensitivity: str | None = None,
        show_as: str | None = None,
        categories: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            conn_id=conn_id, unrendered={"external_id": external_id, "user_id": user_id, "subject": subject}, **kwargs
        )
        self.external_id = external_id
        self.allow_new_time_proposals = allow_new_time_proposals
        self.hide_attendees = hide_attendees
        self.response_requested = response_requested
        self.is_reminder_on = is_reminder_on
        self.reminder_minutes_before_start = reminder_minutes_before_start
        self.sensitivity = sensitivity
        self.show_as = show_as
        self.categories = categories
        self.subject = subject
        self.start = start
        self.end = end
        self.user_id = user_id
        self.attendees = attendees
        self.time_zone = time_zone
        self.body = body
        self.location = location
        self.recurrence = recurrence
        self.update_existing = update_existing

    def execute(self, context: Context) -> dict[str, Any]:
        with fail_permanent_errors(self._show_template):
            result = self.hook.create_or_get_event(
                self.external_id,
                subject=self.subject,
                start=self.start,
                end=self.end,
                user_id=self.user_id or None,
                attendees=self.attendees or (),
                time_zone=self.time_zone or None,
                body=self.body,
                location=self.location,
                recurrence=self.recurrence or None,
                update_existing=self.update_existing,
                **{name: _given(getattr(self, name)) for name in EVENT_OPTIONS},
            )
        self.log.info(
            "%s calendar event id=%s join_url=%s external_id=%s",
            result.status.capitalize(),
            result.event_id,
            result.join_url,
            self.external_id,
        )
        return result.to_dict()


class CancelTeamsEventOperator(ProviderOperator):
    """Cancel the calendar event with an external id; attendees receive the cancellation.

    With ``occurrence_date``, only that day of a series is cancelled (its attendees receive
    the cancellation of that day; the series stays).

    The return value (XCom) is ``{"external_id", "user_id", "cancelled", "occurrence_date"}``:
    ``cancelled`` is ``False`` when no event (or no occurrence that day) had this id (a rerun
    after a cancel finds none).

    :param conn_id: id of a ``msgraph_meetings`` connection (templated)
    :param external_id: the event's external id (templated)
    :param user_id: the organizer's mailbox (templated)
    :param comment: the text sent to attendees with the cancellation (templated)
    :param occurrence_date: a day of a series (``YYYY-MM-DD`` or a ``date``, in the series'
        zone) to cancel only that occurrence; empty: the whole event (templated)
    """

    template_fields: Sequence[str] = ("conn_id", "external_id", "user_id", "comment", "occurrence_date")
    ui_color = "#F3C5C5"

    def __init__(
        self,
        *,
        conn_id: str = OnlineMeetingsHook.default_conn_name,
        external_id: str,
        user_id: str | None = None,
        comment: str | None = None,
        occurrence_date: Any = None,
        **kwargs: Any,
    ) -> None:
        unrendered = {"external_id": external_id, "user_id": user_id, "occurrence_date": occurrence_date}
        super().__init__(conn_id=conn_id, unrendered=unrendered, **kwargs)
        self.external_id = external_id
        self.user_id = user_id
        self.comment = comment
        self.occurrence_date = occurrence_date

    def execute(self, context: Context) -> dict[str, Any]:
        day = _given(self.occurrence_date)
        what = f"the occurrence on {day} of the series" if day is not None else "the calendar event"
        with fail_permanent_errors(self._show_template):
            if day is None:
                cancelled = self.hook.cancel_event(self.external_id, user_id=self.user_id or None, comment=self.comment)
            else:
                cancelled = self.hook.cancel_event_occurrence(
                    self.external_id, day, user_id=self.user_id or None, comment=self.comment
                )
        if cancelled:
            self.log.info("Cancelled %s with external_id=%s", what, self.external_id)
        else:
            self.log.info("No %s had external_id=%s: nothing to cancel", what.removeprefix("the "), self.external_id)
        return {
            "external_id": self.external_id,
            "user_id": self.user_id or None,
            "cancelled": cancelled,
            "occurrence_date": None if day is None else str(day),
        }


class BulkCreateOrGetTeamsEventsOperator(ProviderOperator, BulkOptions):
    """Create or get many calendar events with Teams meetings in one task, with ``$batch``.

    Every item is validated first; invalid and repeated items are reported, not sent. Each
    item is then looked up by its external id and created, updated (``update_existing``),
    cancelled (``"cancelled": True``, with an optional ``"comment"``; with
    ``"occurrence_date"`` only that day of a series) or left alone; the
    requests go one ``$batch`` per organizer, one batch per mailbox at a time (Outlook's
    per-mailbox limit), and 429s are retried. One failing item does not stop the others:
    the task fails at the end naming each failed external id; when every failure is
    permanent (invalid input, 400/403/404) with ``AirflowFailException`` (no retries). A
    retry of the task finds the events that exist and creates only what is missing.

    The return value (XCom) is a list with one dict per item, in input order:
    ``external_id``, ``user_id``, ``event_id``, ``ical_uid``, ``web_link``, ``outlook_url``,
    ``join_url``, ``status`` (``created``, ``existing``, ``updated``, ``unchanged``,
    ``cancelled``, ``not_found``), ``created``, ``responses`` (address -> ``status.response``),
    ``error``. On failure the same list is
    pushed under the XCom key ``results``.

    .. seealso:: ``docs/events.md``, "Many events at once"

    :param events: a list of mappings with the keys of :class:`CreateOrGetTeamsEventOperator`
        (``external_id``, ``subject``, ``start``, ``end``, ``user_id``, ``attendees``,
        ``time_zone``, ``body``, ``location``, ``recurrence`` and the options such as
        ``allow_new_time_proposals``), or ``{"external_id",
        "user_id", "cancelled": True, "comment"}`` to cancel (plus ``"occurrence_date"``:
        one day of a series); or an ``XComArg``/template
        producing one (templated)
    :param conn_id: id of a ``msgraph_meetings`` connection (templated)
    :param user_id: organizer for items without a ``user_id``; default: the connection's
        ``default_user_id`` (templated)
    :param update_existing: PATCH existing events that differ from their item
    :param max_concurrency: ``$batch`` requests in flight at most, one per organizer (1-32)
    :param progress_interval: seconds between progress log lines
    """

    template_fields: Sequence[str] = ("conn_id", "events", "user_id")
    template_fields_renderers: ClassVar[dict[str, str]] = {"events": "json"}
    ui_color = "#C5E3F3"

    def __init__(
        self,
        *,
        events: Any,
        conn_id: str = OnlineMeetingsHook.default_conn_name,
        user_id: str | None = None,
        update_existing: bool = False,
        max_concurrency: int | None = None,
        progress_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, unrendered={"user_id": user_id}, **kwargs)
        self.events = events
        self.user_id = user_id
        self.update_existing = update_existing
        self.max_concurrency = max_concurrency
        self.progress_interval = progress_interval

    def execute(self, context: Context) -> list[dict[str, Any]]:
        items = bulk_items(self.events, field="events", noun="event")
        with fail_permanent_errors(self._show_template):  # connection problems: nothing was sent
            results = self.hook.create_or_get_events(
                [self._with_default_organizer(item) for item in items], **self._bulk_options()
            )
        return finish_bulk(self.log, context, [result.to_dict() for result in results], noun="event", field="events")
