"""What the calendar-event calls return: plain, JSON-friendly types (no I/O, no heavy imports)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from airflow_provider_meetings.graph.batch import FailableResult
from airflow_provider_meetings.graph.errors import error_fields
from airflow_provider_meetings.graph.fields import ResourceField

__all__ = [
    "EventBulkItemResult",
    "EventBulkStatus",
    "EventResult",
    "EventStatus",
    "OUTLOOK_ITEM_URL",
    "attendee_responses",
    "event_summary",
    "has_join_url",
]

#: What a call did about an event: ``created`` (POST), ``existing`` (found, not compared),
#: ``updated`` (one PATCH), ``unchanged`` (compared, nothing differed).
EventStatus = Literal["created", "existing", "updated", "unchanged"]
#: What a bulk call did about an item: an :data:`EventStatus`, or for a cancelled item
#: ``cancelled`` (an event was cancelled) or ``not_found`` (there was none).
EventBulkStatus = Literal["created", "existing", "updated", "unchanged", "cancelled", "not_found"]
#: Fields of each event a bulk result keeps (Graph's event holds an HTML body; results and
#: XCom stay small).
BULK_EVENT_FIELDS = ("id", "iCalUId", "webLink", "onlineMeeting", "subject", "start", "end", "type", "attendees")
#: Where Outlook on the web opens an event (GRAPH_FACTS: ``webLink`` is the older form).
OUTLOOK_ITEM_URL = "https://outlook.office365.com/calendar/item/{id}"


@dataclass(frozen=True)
class EventResult:
    """The outcome of one create-or-get of a calendar event.

    :param event: Graph's ``event`` JSON as returned (times in UTC)
    :param created: ``True`` when this call created it
    :param status: ``created``, ``existing``, ``updated`` or ``unchanged``
    :param user_id: the organizer as given (``None``: ``/me``)
    """

    event: dict[str, Any]
    created: bool
    status: EventStatus
    user_id: str | None = None

    event_id = ResourceField("event", "id", "Graph's event id.")
    ical_uid = ResourceField("event", "iCalUId", "The ``iCalUId`` other calendars know the event by.")
    web_link = ResourceField("event", "webLink", "Graph's ``webLink`` (opens the event in Outlook on the web).")

    @property
    def join_url(self) -> str | None:
        """The Teams join link (``onlineMeeting.joinUrl``)."""
        return join_url_of(self.event)

    @property
    def responses(self) -> dict[str, str]:
        """Each attendee's response (``status.response``) by address, as Graph answered:
        ``none``, ``accepted``, ``tentativelyAccepted``, ``declined``, ``notResponded``..."""
        return attendee_responses(self.event)

    @property
    def outlook_url(self) -> str | None:
        """The event in today's Outlook on the web (its id URL-encoded)."""
        return _outlook_url(self.event_id)

    def to_dict(self) -> dict[str, Any]:
        """What an operator pushes to XCom."""
        return event_summary(self.event, status=self.status, created=self.created, user_id=self.user_id)


def event_summary(
    event: Mapping[str, Any] | None, *, status: str | None, created: bool | None, user_id: str | None
) -> dict[str, Any]:
    """An event's XCom dict (of a single call, or one bulk item): how it is found again
    (``event_id``, ``ical_uid``, ``web_link``, ``outlook_url``, ``join_url``), what was done
    (``status``, ``created``), its organizer and the attendees' ``responses``; without an event
    (an error, a cancel) its fields are ``None``."""
    found = event or {}
    event_id = found.get("id")
    return {
        "event_id": event_id,
        "ical_uid": found.get("iCalUId"),
        "web_link": found.get("webLink"),
        "outlook_url": _outlook_url(event_id),
        "join_url": join_url_of(found),
        "status": status,
        "created": created,
        "user_id": user_id,
        "responses": None if event is None else attendee_responses(event),
    }


def attendee_responses(event: Mapping[str, Any] | None) -> dict[str, str]:
    """``{address: status.response}`` of an event's attendees (resources/attendee, responseStatus);
    an attendee without a status counts as ``none``."""
    result: dict[str, str] = {}
    for attendee in (event or {}).get("attendees") or ():
        if not isinstance(attendee, Mapping):
            continue
        address = (attendee.get("emailAddress") or {}).get("address")
        if isinstance(address, str) and address:
            status = attendee.get("status")
            response = status.get("response") if isinstance(status, Mapping) else None
            result[address] = response if isinstance(response, str) else "none"
    return result


def has_join_url(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` carries its Teams link (``onlineMeeting.joinUrl``)."""
    return bool(join_url_of(event))


def join_url_of(event: Mapping[str, Any] | None) -> str | None:
    """The event's Teams link (``onlineMeeting.joinUrl``), if any."""
    meeting = event.get("onlineMeeting") if event else None
    return meeting.get("joinUrl") if isinstance(meeting, Mapping) else None


def body_holds_link(event: Mapping[str, Any], link: str) -> bool:
    """Whether the event's body holds ``link``, as written or HTML-escaped (``&amp;``)."""
    content = str((event.get("body") or {}).get("content") or "")
    return bool(link) and (link in content or html.escape(link) in content)


def _outlook_url(event_id: str | None) -> str | None:
    return OUTLOOK_ITEM_URL.format(id=quote(event_id, safe="")) if event_id else None


@dataclass(frozen=True)
class EventBulkItemResult(FailableResult):
    """The outcome of one item of a bulk events call: an event, or an ``error`` instead.

    :param index: the item's position in the input
    :param external_id: its external id (``None`` when it was not a string)
    :param user_id: its organizer as given (else the connection's default; ``None``: ``/me``)
    :param event: the event's kept fields (:data:`BULK_EVENT_FIELDS`), ``None`` on error or cancel
    :param status: what was done (:data:`EventBulkStatus`), ``None`` on error
    :param error: why the item failed, or ``None``
    :param attempts: requests sent for the item, over all its steps (0: refused before sending)
    """

    index: int
    external_id: str | None
    user_id: str | None
    event: Mapping[str, Any] | None = None
    status: EventBulkStatus | None = None
    error: BaseException | None = None
    attempts: int = 0

    event_id = ResourceField("event", "id", "Graph's event id (``None`` on error or cancel).")

    @property
    def created(self) -> bool | None:
        """``True`` when this call created the event; ``None`` on error."""
        return None if self.error is not None else self.status == "created"

    @property
    def join_url(self) -> str | None:
        """The Teams join link."""
        return join_url_of(self.event)

    def to_dict(self) -> dict[str, Any]:
        """What the bulk operator pushes to XCom (one per item); carries no token."""
        summary = event_summary(self.event, status=self.status, created=self.created, user_id=self.user_id)
        return {"index": self.index, "external_id": self.external_id, **summary, **error_fields(self.error)}
