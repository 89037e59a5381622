"""The calendar-event store: Outlook events of each mailbox, free of HTTP.

An event belongs to a mailbox (tenant + user object id). It is found by id, by its
``transactionId`` (a repeated POST returns it) and by the value of a single-value extended
property. Cancelling or deleting moves it out of the calendar: it is kept (state
``cancelled`` or ``deleted``) so that the control API can show it, but no Graph lookup finds
it any more. Times are kept as UTC ticks (100 ns) beside the zone the client sent.
"""

from __future__ import annotations

import base64
import copy
import datetime
import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from meetings_emulator.config import SeedUser
from meetings_emulator.errors import EmptyPayload, GraphError, bad_request
from meetings_emulator.event_instances import instance_id, occurrences, split_instance_id
from meetings_emulator.event_recurrence import checked_recurrence
from meetings_emulator.event_times import from_utc_ticks, is_supported_zone, local_date, to_utc_ticks
from meetings_emulator.ticks import format_ticks, now_ticks

#: https://learn.microsoft.com/graph/api/event-update, "Request body": what a PATCH may change
#: (extended properties too: singlevaluelegacyextendedproperty-post-singlevalueextendedproperties,
#: "Create or update"). Others are refused (docs/emulator.md, assumptions).
UPDATABLE = frozenset(
    {
        "attendees",
        "body",
        "categories",
        "end",
        "hideAttendees",
        "importance",
        "isAllDay",
        "isOnlineMeeting",
        "isReminderOn",
        "location",
        "locations",
        "onlineMeetingProvider",
        "recurrence",
        "reminderMinutesBeforeStart",
        "responseRequested",
        "sensitivity",
        "showAs",
        "start",
        "subject",
        "allowNewTimeProposals",
        "singleValueExtendedProperties",
    }
)
#: attendee's ``type`` (https://learn.microsoft.com/graph/api/resources/attendee).
ATTENDEE_TYPES = ("required", "optional", "resource")
#: At most this many attendees (an Outlook recipient limit; an assumption, docs/emulator.md).
MAX_ATTENDEES = 500
#: Property id forms of https://learn.microsoft.com/graph/api/resources/extended-properties-overview,
#: "id formats": ``{type} {guid} Name {name}``, ``{type} {guid} Id {hex}``, ``{type} {proptag}``.
PROPERTY_ID_RE = re.compile(
    r"^\s*(?P<type>[A-Za-z]+)\s+(?:\{(?P<guid>[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})\}\s+"
    r"(?:Name\s+(?P<name>\S.*?)|Id\s+(?P<id>0x[0-9A-Fa-f]+))|(?P<tag>0x[0-9A-Fa-f]+))\s*$"
)
NO_RESPONSE_TIME = "0001-01-01T00:00:00Z"
#: resources/responsestatus: the ``responseType`` enum.
RESPONSES = ("none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded")
#: A mailbox's calendar allows Teams meetings unless told otherwise
#: (https://learn.microsoft.com/graph/api/resources/calendar, ``allowedOnlineMeetingProviders``).
DEFAULT_PROVIDERS = ("teamsForBusiness",)

#: Makes the Teams meeting behind an event: ``(start ticks, end ticks, subject) -> join URL``.
JoinUrlMaker = Callable[[int, int, str], str]


class EventNotFound(GraphError):
    """404 for an event id the mailbox does not have in its calendar (or no longer: cancelled, deleted).

    Outlook's code and text as users report them; the event pages do not document them
    (an assumption, docs/emulator.md).
    """

    def __init__(self) -> None:
        super().__init__(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def property_key(property_id: Any) -> tuple[str, ...]:
    """The comparable form of an extended property id: type and GUID without case, the Name with case.

    :raises GraphError: 400 for an id none of the documented forms matches.
    """
    match = PROPERTY_ID_RE.match(property_id) if isinstance(property_id, str) else None
    if match is None:
        raise bad_request(f"Invalid value for 'singleValueExtendedProperties.id': {property_id!r}.")
    if match["tag"]:
        return (match["type"].lower(), match["tag"].lower())
    if match["id"]:
        return (match["type"].lower(), match["guid"].lower(), "id", str(int(match["id"], 16)))
    return (match["type"].lower(), match["guid"].lower(), "name", match["name"])


@dataclass
class StoredEvent:
    """One event of a mailbox.

    :param tenant_id: tenant of the mailbox.
    :param user_id: the mailbox owner's (organizer's) object id.
    :param resource: the event as Graph answers it, with ``start``/``end`` in the zones sent.
    :param start_ticks: start in UTC ticks.
    :param end_ticks: end in UTC ticks.
    :param properties: single-value extended properties ``[{"id", "value"}]``.
    :param transaction_id: the ``transactionId`` of its POST, if any.
    :param state: ``active``, ``cancelled`` (``/cancel``) or ``deleted`` (DELETE).
    :param cancel_comment: the comment of its cancellation.
    :param cancelled_occurrences: a series' cancelled days (ISO dates) with their comments.
    """

    tenant_id: str
    user_id: str
    resource: dict[str, Any]
    start_ticks: int
    end_ticks: int
    properties: list[dict[str, str]] = field(default_factory=list)
    transaction_id: str | None = None
    state: str = "active"
    cancel_comment: str | None = None
    cancelled_occurrences: dict[str, str | None] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The event id."""
        return self.resource["id"]

    def to_json(self) -> dict[str, Any]:
        """JSON form for persistence and ``GET /_emulator/events``."""
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "event": {**self.resource, "singleValueExtendedProperties": copy.deepcopy(self.properties)},
            "start_ticks": self.start_ticks,
            "end_ticks": self.end_ticks,
            "transaction_id": self.transaction_id,
            "state": self.state,
            "cancel_comment": self.cancel_comment,
            "cancelled_occurrences": dict(self.cancelled_occurrences),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredEvent:
        """Inverse of :meth:`to_json`."""
        resource = dict(data["event"])
        properties = resource.pop("singleValueExtendedProperties", [])
        return cls(
            data["tenant_id"],
            data["user_id"],
            resource,
            int(data["start_ticks"]),
            int(data["end_ticks"]),
            list(properties),
            data.get("transaction_id"),
            data.get("state", "active"),
            data.get("cancel_comment"),
            dict(data.get("cancelled_occurrences") or {}),
        )

    def occurrence_view(self, day: datetime.date, start: int, end: int, time_zone: str | None) -> dict[str, Any]:
        """One occurrence of this series as Graph answers an instance (resources/event: ``type``
        ``occurrence``, ``seriesMasterId``, no ``recurrence``)."""
        answer = self.view(time_zone)
        zone = answer["start"]["timeZone"]
        answer.update(
            id=instance_id(self.id, day),
            type="occurrence",
            seriesMasterId=self.id,
            recurrence=None,
            start=from_utc_ticks(start, zone),
            end=from_utc_ticks(end, zone),
        )
        return answer

    def has_property(self, key: tuple[str, ...], value: str) -> bool:
        """Whether a property with this id key has this value, compared without case (as Graph does)."""
        return any(property_key(p["id"]) == key and p["value"].casefold() == value.casefold() for p in self.properties)

    def view(self, time_zone: str | None = None, expand: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The event as Graph answers it.

        :param time_zone: the zone of ``Prefer: outlook.timezone`` (``None``: UTC, as
            user-post-events documents for answers without the header).
        :param expand: property ids of ``$expand=singleValueExtendedProperties($filter=id eq ...)``
            (``None``: the properties are not returned).
        """
        zone = time_zone if time_zone and is_supported_zone(time_zone) else "UTC"
        answer = copy.deepcopy(self.resource)
        answer["start"] = from_utc_ticks(self.start_ticks, zone)
        answer["end"] = from_utc_ticks(self.end_ticks, zone)
        if expand is not None:
            keys = {property_key(i) for i in expand}
            answer["singleValueExtendedProperties"] = [
                dict(p) for p in self.properties if property_key(p["id"]) in keys
            ]
        return answer


class EventStore:
    """Every mailbox's events; not thread-safe (the caller holds the service lock)."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredEvent] = {}
        self._by_transaction: dict[tuple[str, str, str], StoredEvent] = {}
        #: user id -> the calendar's ``allowedOnlineMeetingProviders`` where it differs from the default
        self.providers: dict[str, tuple[str, ...]] = {}

    def allowed_providers(self, user_id: str) -> tuple[str, ...]:
        """The ``allowedOnlineMeetingProviders`` of a mailbox's calendar."""
        return self.providers.get(user_id.lower(), DEFAULT_PROVIDERS)

    def set_providers(self, user_id: str, providers: Any) -> tuple[str, ...]:
        """Set a calendar's ``allowedOnlineMeetingProviders`` (e.g. ``[]``: no Teams meetings)."""
        if not isinstance(providers, (list, tuple)) or not all(isinstance(p, str) for p in providers):
            raise ValueError("providers must be a list of names, e.g. ['teamsForBusiness']")
        self.providers[user_id.lower()] = tuple(providers)
        return self.providers[user_id.lower()]

    def __len__(self) -> int:
        return sum(1 for e in self._by_id.values() if e.state == "active")

    def all(self) -> list[StoredEvent]:
        """Every event ever stored (cancelled and deleted ones too), oldest first."""
        return list(self._by_id.values())

    def clear(self) -> None:
        """Forget every event and transactionId; calendars allow Teams meetings again."""
        self._by_id.clear()
        self._by_transaction.clear()
        self.providers.clear()

    def add(self, event: StoredEvent) -> None:
        """Store an event (also when loading persisted state)."""
        self._by_id[event.id] = event
        if event.transaction_id:
            self._by_transaction[(event.tenant_id, event.user_id, event.transaction_id)] = event

    def create(
        self, tenant_id: str, organizer: SeedUser, body: Any, join_url: JoinUrlMaker
    ) -> tuple[bool, StoredEvent]:
        """``POST /users/{id}/events``: ``(created, event)``; raises 400 :class:`GraphError`.

        A ``transactionId`` this mailbox has seen returns the event it created, unchanged:
        "a custom identifier specified by a client app for the server to avoid redundant POST
        operations in case of client retries" (resources/event). That the emulator remembers
        it for as long as it keeps the event (cancelled and deleted ones too) is an assumption.
        """
        if not isinstance(body, dict):
            raise EmptyPayload()
        start, end, start_zone, end_zone = _checked_times(body, None)
        transaction_id = body.get("transactionId")
        if transaction_id is not None and not isinstance(transaction_id, str):
            raise bad_request("Invalid value for 'transactionId'.")
        properties = _checked_properties(body.get("singleValueExtendedProperties"), [])
        attendees = _checked_attendees(body.get("attendees", []))
        recurrence = _checked_recurrence(body.get("recurrence"), start, start_zone)
        checked_values(body)
        if transaction_id:
            existing = self._by_transaction.get((tenant_id, organizer.id, transaction_id))
            if existing is not None:
                return False, existing
        subject = body.get("subject") if isinstance(body.get("subject"), str) else ""
        # A calendar whose allowedOnlineMeetingProviders lacks teamsForBusiness books the
        # event without a Teams meeting (201, isOnlineMeeting false): reported behaviour, an
        # assumption (docs/emulator.md).
        online = (
            bool(body.get("isOnlineMeeting"))
            and body.get("onlineMeetingProvider") == "teamsForBusiness"
            and "teamsForBusiness" in self.allowed_providers(organizer.id)
        )
        link = join_url(start, end, subject) if online else None
        resource = _new_event(organizer, body, subject, attendees, recurrence, link, start_zone, end_zone)
        resource["start"], resource["end"] = from_utc_ticks(start, start_zone), from_utc_ticks(end, end_zone)
        event = StoredEvent(tenant_id, organizer.id, resource, start, end, properties, transaction_id or None)
        self.add(event)
        return True, event

    def get(self, tenant_id: str, user_id: str, event_id: str) -> StoredEvent:
        """An event in that mailbox's calendar; raises :class:`EventNotFound`."""
        event = self._by_id.get(event_id)
        if event is None or (event.tenant_id, event.user_id) != (tenant_id, user_id) or event.state != "active":
            raise EventNotFound()
        return event

    def in_calendar(self, tenant_id: str, user_id: str) -> list[StoredEvent]:
        """The mailbox's events in its calendar, oldest first."""
        return [
            e for e in self._by_id.values() if (e.tenant_id, e.user_id) == (tenant_id, user_id) and e.state == "active"
        ]

    def find_by_property(self, tenant_id: str, user_id: str, property_id: str, value: str) -> list[StoredEvent]:
        """Events of the calendar with that extended property value (value compared without case)."""
        key = property_key(property_id)
        return [e for e in self.in_calendar(tenant_id, user_id) if e.has_property(key, value)]

    def update(self, tenant_id: str, user_id: str, event_id: str, body: Any, join_url: JoinUrlMaker) -> StoredEvent:
        """``PATCH /users/{id}/events/{eventId}`` (event-update): the changed event.

        A ``body`` that no longer holds the Teams join link removes the link (users report
        it; no page says so): an assumption, docs/emulator.md.
        """
        event = self.get(tenant_id, user_id, event_id)
        if not isinstance(body, dict):
            raise EmptyPayload()
        for name in body:
            if name not in UPDATABLE and name != "@odata.type":
                raise bad_request(f"Invalid request: property '{name}' of an event cannot be updated.")
        checked_values(body)
        resource = copy.deepcopy(event.resource)
        start, end, start_zone, end_zone = _checked_times(body, event)
        properties = _checked_properties(body.get("singleValueExtendedProperties"), event.properties)
        if "attendees" in body:
            resource["attendees"] = _checked_attendees(body["attendees"])
        if "recurrence" in body:
            resource["recurrence"] = _checked_recurrence(body["recurrence"], start, start_zone)
        elif resource.get("recurrence") and (start, start_zone) != (event.start_ticks, resource["start"]["timeZone"]):
            resource["recurrence"] = _checked_recurrence(resource["recurrence"], start, start_zone)
        resource["type"] = "seriesMaster" if resource.get("recurrence") else "singleInstance"
        for name in ("subject", "categories", "hideAttendees", "importance", "isAllDay", "isReminderOn"):
            if name in body:
                resource[name] = copy.deepcopy(body[name])
        for name in ("reminderMinutesBeforeStart", "responseRequested", "sensitivity", "showAs"):
            if name in body:
                resource[name] = copy.deepcopy(body[name])
        if "allowNewTimeProposals" in body:
            resource["allowNewTimeProposals"] = bool(body["allowNewTimeProposals"])
        if "location" in body:
            resource["location"] = _location(body["location"])
        link = (resource.get("onlineMeeting") or {}).get("joinUrl")
        if "body" in body:
            content = _content(body["body"])
            if link and link not in content and html.escape(link) not in content:
                link = None
            resource["body"] = {"contentType": "html", "content": _html(content, None)}
        if body.get("isOnlineMeeting") is False:
            link = None
        elif body.get("isOnlineMeeting") is True and link is None:
            provider = body.get("onlineMeetingProvider", "teamsForBusiness")
            if provider == "teamsForBusiness" and provider in self.allowed_providers(user_id):
                link = join_url(start, end, resource.get("subject") or "")
        _set_link(resource, link, organizer_body=resource["body"]["content"])
        resource["start"] = {**from_utc_ticks(start, start_zone)}
        resource["end"] = {**from_utc_ticks(end, end_zone)}
        resource["originalStartTimeZone"], resource["originalEndTimeZone"] = start_zone, end_zone
        resource["lastModifiedDateTime"] = format_ticks(now_ticks())
        resource["changeKey"] = _change_key()
        resource["@odata.etag"] = f'W/"{resource["changeKey"]}"'
        event.resource, event.start_ticks, event.end_ticks, event.properties = resource, start, end, properties
        return event

    def respond(self, event_id: str, address: str, response: str) -> StoredEvent:
        """An attendee's answer to the invitation: their ``status`` (resources/attendee,
        ``status``: a responseStatus with ``response`` and ``time``) on the organizer's event.

        :raises KeyError: no such event, or the address is not an attendee
        :raises ValueError: a response the ``responseType`` enum does not have
        """
        if response not in RESPONSES:
            raise ValueError(f"response must be one of {list(RESPONSES)}, got {response!r}")
        event = self._by_id.get(event_id)
        if event is None:
            raise KeyError(f"no event {event_id!r}")
        for attendee in event.resource.get("attendees") or ():
            if attendee["emailAddress"]["address"].lower() == address.lower():
                attendee["status"] = {"response": response, "time": format_ticks(now_ticks())}
                return event
        raise KeyError(f"{address!r} is not an attendee of event {event_id!r}")

    def instances(
        self, tenant_id: str, user_id: str, event_id: str, window: tuple[int, int], time_zone: str | None
    ) -> list[dict[str, Any]]:
        """``GET .../events/{id}/instances`` (event-list-instances): the occurrences in ``window``.

        A single event answers no instances (an assumption); see :mod:`meetings_emulator.event_instances`.
        """
        master = self.get(tenant_id, user_id, event_id)
        if not master.resource.get("recurrence"):
            return []
        found = occurrences(
            master.resource, master.start_ticks, master.end_ticks, window, set(master.cancelled_occurrences)
        )
        return [master.occurrence_view(day, start, end, time_zone) for day, start, end in found]

    def cancel(self, tenant_id: str, user_id: str, event_id: str, comment: str | None) -> StoredEvent:
        """``POST .../events/{id}/cancel`` (event-cancel): the event leaves the calendar; for an
        instance id, that day leaves the series (the master keeps it in ``cancelled_occurrences``)."""
        occurrence = split_instance_id(event_id)
        if occurrence is not None and occurrence[0] in self._by_id:
            master = self.get(tenant_id, user_id, occurrence[0])
            day = occurrence[1]
            window = (0, 2**62)
            days = {d for d, _, _ in occurrences(master.resource, master.start_ticks, master.end_ticks, window, set())}
            if (
                not master.resource.get("recurrence")
                or day not in days
                or day.isoformat() in master.cancelled_occurrences
            ):
                raise EventNotFound()
            master.cancelled_occurrences[day.isoformat()] = comment
            return master
        event = self.get(tenant_id, user_id, event_id)
        event.state, event.cancel_comment = "cancelled", comment
        event.resource["isCancelled"] = True
        return event

    def delete(self, tenant_id: str, user_id: str, event_id: str) -> StoredEvent:
        """``DELETE .../events/{id}`` (event-delete): the event leaves the calendar."""
        event = self.get(tenant_id, user_id, event_id)
        event.state = "deleted"
        return event


def _checked_times(body: Mapping[str, Any], old: StoredEvent | None) -> tuple[int, int, str, str]:
    """``(start, end, start zone, end zone)`` of a POST, or of a PATCH over ``old``."""
    parts = []
    for name in ("start", "end"):
        value = body.get(name)
        if value is None and old is not None:
            ticks = old.start_ticks if name == "start" else old.end_ticks
            parts.append((ticks, old.resource[name]["timeZone"]))
            continue
        if not isinstance(value, Mapping):
            raise bad_request(f"Invalid value for '{name}': a dateTimeTimeZone with dateTime and timeZone is required.")
        parts.append((to_utc_ticks(value.get("dateTime"), value.get("timeZone"), name), value["timeZone"]))
    (start, start_zone), (end, end_zone) = parts
    if end < start:
        # user-post-events does not spell this rule out; the text is an assumption.
        raise bad_request("Invalid request: the end of an event must not be before its start.")
    return start, end, start_zone, end_zone


def _checked_recurrence(recurrence: Any, start: int, start_zone: str) -> dict[str, Any] | None:
    if recurrence is None:
        return None
    return checked_recurrence(recurrence, local_date(start, start_zone), start_zone)


def _checked_properties(sent: Any, current: list[dict[str, str]]) -> list[dict[str, str]]:
    """Extended properties after a POST or PATCH: those sent replace the ones with the same id."""
    if sent is None:
        return copy.deepcopy(current)
    if not isinstance(sent, list):
        raise bad_request("Invalid value for 'singleValueExtendedProperties': expected a list.")
    result = copy.deepcopy(current)
    for item in sent:
        if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
            raise bad_request(
                "Invalid value for 'singleValueExtendedProperties': each needs 'id' and a string 'value'."
            )
        key = property_key(item.get("id"))
        result = [p for p in result if property_key(p["id"]) != key]
        result.append({"id": str(item["id"]).strip(), "value": item["value"]})
    return result


def _checked_attendees(sent: Any) -> list[dict[str, Any]]:
    """Attendees as Graph answers them: ``type``, ``status`` (no response yet), ``emailAddress``."""
    if not isinstance(sent, list):
        raise bad_request("Invalid value for 'attendees': expected a list.")
    if len(sent) > MAX_ATTENDEES:
        raise bad_request(f"Invalid request: an event takes at most {MAX_ATTENDEES} attendees.")
    attendees = []
    for attendee in sent:
        email = attendee.get("emailAddress") if isinstance(attendee, Mapping) else None
        address = email.get("address") if isinstance(email, Mapping) else None
        if not isinstance(address, str) or "@" not in address.strip("@"):
            raise bad_request("Invalid value for 'attendees': each needs emailAddress.address.")
        kind = attendee.get("type", "required")
        if kind not in ATTENDEE_TYPES:
            raise bad_request(f"Invalid value for 'attendees.type': {kind!r}; expected one of {ATTENDEE_TYPES}.")
        attendees.append(
            {
                "type": kind,
                "status": {"response": "none", "time": NO_RESPONSE_TIME},
                "emailAddress": {"name": email.get("name") or address, "address": address},
            }
        )
    return attendees


#: resources/event: the enums of ``sensitivity`` and ``showAs`` (freeBusyStatus).
ENUMS = {
    "sensitivity": ("normal", "personal", "private", "confidential"),
    "showAs": ("unknown", "free", "tentative", "busy", "oof", "workingElsewhere"),
    "importance": ("low", "normal", "high"),
}
#: resources/event: the Boolean properties a client sets.
BOOLEANS = ("allowNewTimeProposals", "hideAttendees", "isAllDay", "isReminderOn", "responseRequested")


def checked_values(body: Mapping[str, Any]) -> None:
    """400 for a value resources/event does not allow (an enum member, a Boolean, the reminder's
    ``Int32`` minutes, ``categories`` as a string collection). Graph's exact message is an assumption."""
    for name, allowed in ENUMS.items():
        if name in body and body[name] not in allowed:
            raise bad_request(f"Invalid value for '{name}': {body[name]!r}; expected one of {list(allowed)}.")
    for name in BOOLEANS:
        if name in body and not isinstance(body[name], bool):
            raise bad_request(f"Invalid value for '{name}': {body[name]!r}; expected true or false.")
    minutes = body.get("reminderMinutesBeforeStart")
    if "reminderMinutesBeforeStart" in body and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        raise bad_request(f"Invalid value for 'reminderMinutesBeforeStart': {minutes!r}; expected an Int32.")
    categories = body.get("categories")
    if "categories" in body and (not isinstance(categories, list) or not all(isinstance(c, str) for c in categories)):
        raise bad_request("Invalid value for 'categories': expected a collection of strings.")


def _location(sent: Any) -> dict[str, Any]:
    name = sent.get("displayName") if isinstance(sent, Mapping) else None
    return {"displayName": name or "", "locationType": "default", "uniqueIdType": "unknown"}


def _content(sent: Any) -> str:
    """The HTML of a sent ``itemBody`` (text is escaped, as Outlook stores bodies as HTML)."""
    if not isinstance(sent, Mapping):
        raise bad_request("Invalid value for 'body': expected an itemBody.")
    content = sent.get("content") or ""
    if str(sent.get("contentType", "text")).lower() == "html":
        return str(content)
    return html.escape(str(content)).replace("\n", "<br>\r\n")


def _teams_block(join_url: str) -> str:
    """The Teams block Outlook adds to the body of an online meeting (shape, not Outlook's exact markup)."""
    return (
        '<div style="width:100%"><span style="white-space:nowrap; color:#5F5F5F; opacity:.36">'
        "________________________________________________________________________________</span></div>\r\n"
        '<div class="me-email-text" lang="en-US">\r\n'
        '<div style="margin-top:24px; margin-bottom:20px"><span style="font-size:24px">Microsoft Teams meeting'
        "</span></div>\r\n"
        f'<div style="margin-bottom:20px"><a class="me-email-headline" href="{html.escape(join_url)}" '
        'target="_blank" rel="noreferrer noopener">Join the meeting now</a></div>\r\n</div>'
    )


def _html(content: str, join_url: str | None) -> str:
    block = _teams_block(join_url) if join_url and join_url not in content else ""
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n'
        f"<body>\r\n{content}\r\n{block}</body>\r\n</html>\r\n"
    )


def _set_link(resource: dict[str, Any], link: str | None, organizer_body: str) -> None:
    """Set (or clear) the Teams meeting of an event; the body gets the Teams block."""
    resource["isOnlineMeeting"] = link is not None
    resource["onlineMeetingProvider"] = "teamsForBusiness" if link else "unknown"
    resource["onlineMeeting"] = {"joinUrl": link} if link else None
    if link and link not in organizer_body:
        inner = re.sub(r"(?s)^.*?<body>\r\n|\r\n</body>.*$", "", organizer_body)
        resource["body"]["content"] = _html(inner, link)
    resource["bodyPreview"] = _preview(resource["body"]["content"])


def _preview(content: str) -> str:
    text = html.unescape(re.sub(r"(?s)<head>.*?</head>|<[^>]+>", " ", content))
    return " ".join(text.split())[:255]


def _change_key() -> str:
    return base64.b64encode(secrets.token_bytes(18)).decode()


def _new_event(
    organizer: SeedUser,
    body: Mapping[str, Any],
    subject: str,
    attendees: list[dict[str, Any]],
    recurrence: dict[str, Any] | None,
    link: str | None,
    start_zone: str,
    end_zone: str,
) -> dict[str, Any]:
    """A new event as user-post-events answers it (its example response's fields)."""
    event_id = "AAMkA" + base64.urlsafe_b64encode(secrets.token_bytes(104)).decode()
    ical = "040000008200E00074C5B7101A82E00800000000" + secrets.token_hex(28).upper()
    created = format_ticks(now_ticks())
    change_key = _change_key()
    content = _content(body["body"]) if body.get("body") is not None else ""
    resource: dict[str, Any] = {
        "@odata.etag": f'W/"{change_key}"',
        "id": event_id,
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "changeKey": change_key,
        "categories": list(body.get("categories") or []),
        "transactionId": body.get("transactionId"),
        "originalStartTimeZone": start_zone,
        "originalEndTimeZone": end_zone,
        "iCalUId": ical,
        "reminderMinutesBeforeStart": body.get("reminderMinutesBeforeStart", 15),
        "isReminderOn": body.get("isReminderOn", True),
        "hasAttachments": False,
        "subject": subject,
        "bodyPreview": "",
        "importance": body.get("importance", "normal"),
        "sensitivity": body.get("sensitivity", "normal"),
        "isAllDay": bool(body.get("isAllDay", False)),
        "isCancelled": False,
        "isOrganizer": True,
        "responseRequested": body.get("responseRequested", True),
        "seriesMasterId": None,
        "showAs": body.get("showAs", "busy"),
        "type": "seriesMaster" if recurrence else "singleInstance",
        "webLink": f"https://outlook.office365.com/owa/?itemid={quote(event_id, safe='')}&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": bool(body.get("allowNewTimeProposals", True)),
        "isDraft": False,
        "hideAttendees": bool(body.get("hideAttendees", False)),
        "responseStatus": {"response": "organizer", "time": NO_RESPONSE_TIME},
        "body": {"contentType": "html", "content": _html(content, None)},
        "location": _location(body.get("location") or {}),
        "locations": [],
        "recurrence": recurrence,
        "attendees": attendees,
        "organizer": {"emailAddress": {"name": organizer.display_name, "address": organizer.user_principal_name}},
        "onlineMeeting": None,
    }
    _set_link(resource, link, resource["body"]["content"])
    return resource
