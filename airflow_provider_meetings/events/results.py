"""What the calendar-event calls return: plain, JSON-friendly types (no I/O, no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

__all__ = ["EventResult", "EventStatus", "OUTLOOK_ITEM_URL"]

#: What a call did about an event: ``created`` (POST), ``existing`` (found, not compared),
#: ``updated`` (one PATCH), ``unchanged`` (compared, nothing differed).
EventStatus = Literal["created", "existing", "updated", "unchanged"]
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

    @property
    def event_id(self) -> str | None:
        """Graph's event id."""
        return self.event.get("id")

    @property
    def ical_uid(self) -> str | None:
        """The ``iCalUId`` other calendars know the event by."""
        return self.event.get("iCalUId")

    @property
    def web_link(self) -> str | None:
        """Graph's ``webLink`` (opens the event in Outlook on the web)."""
        return self.event.get("webLink")

    @property
    def join_url(self) -> str | None:
        """The Teams join link (``onlineMeeting.joinUrl``)."""
        meeting = self.event.get("onlineMeeting")
        return meeting.get("joinUrl") if isinstance(meeting, dict) else None

    @property
    def outlook_url(self) -> str | None:
        """The event in today's Outlook on the web (its id URL-encoded)."""
        return OUTLOOK_ITEM_URL.format(id=quote(self.event_id, safe="")) if self.event_id else None

    def to_dict(self) -> dict[str, Any]:
        """What an operator pushes to XCom."""
        return {
            "event_id": self.event_id,
            "ical_uid": self.ical_uid,
            "web_link": self.web_link,
            "outlook_url": self.outlook_url,
            "join_url": self.join_url,
            "status": self.status,
            "created": self.created,
            "user_id": self.user_id,
        }
