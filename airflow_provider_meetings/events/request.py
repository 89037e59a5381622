"""Validating calendar-event arguments and building Graph bodies: pure, no Airflow, no network.

Rules a caller meets here (``docs/events.md`` repeats them):

* ``external_id`` follows the rules of :func:`~airflow_provider_meetings.graph.values.validate_external_id`
  (a template's missing value ``None`` refused); it is stored on the event in a single-value
  extended property under the provider's fixed GUID and name, and found again with
  ``$filter`` (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get).
* Datetimes: aware ``datetime`` objects or ISO-8601 strings with an offset; naive ones are
  refused. The event is sent in its start's own zone (``time_zone=`` overrides it), named as
  Graph accepts (:mod:`~airflow_provider_meetings.events.timezones`), so that a series keeps
  its wall-clock time across daylight-saving changes. A string's zone is its offset, as a
  datetime's fixed-offset ``tzinfo`` is: ``Z`` and ``+00:00`` are UTC, as
  ``tzinfo=timezone.utc`` is; a start with another fixed offset only (``+01:00``, string
  or datetime) is sent in UTC, and a series then needs ``time_zone``.
* ``transactionId``: a UUID derived from the tenant, the organizer and the external id, so a
  POST whose answer was lost and that is sent again books nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from airflow_provider_meetings.events.options import OPTIONS, option_fields
from airflow_provider_meetings.events.recurrence import to_recurrence
from airflow_provider_meetings.events.timezones import graph_time_zone, zone_info, zone_name_of
from airflow_provider_meetings.graph.errors import InvalidRequestError, ProviderError
from airflow_provider_meetings.graph.values import (
    check_free_text,
    check_missing_value,
    check_properties,
    odata_string,
    organizer_key,
    parse_iso,
    request_organizer,
    to_aware,
    user_path,
    validate_external_id,
)

#: The provider's property set for its extended properties (a fixed GUID: never change it,
#: or events made before cannot be found again).
PROPERTY_SET_GUID = "6f0d3a52-9c1e-4b7a-8e25-3d4a1f6c9b80"
#: The extended property that holds the external id.
EXTERNAL_ID_PROPERTY = f"String {{{PROPERTY_SET_GUID}}} Name ExternalId"
#: The extended property that holds a hash of the body last sent (so ``update_existing``
#: sends ``body`` only when it changed: Graph's answer holds the Teams block in it).
BODY_HASH_PROPERTY = f"String {{{PROPERTY_SET_GUID}}} Name BodyHash"
#: The path of the calendar's events below the organizer (``users/{id}/`` or ``me/``).
EVENTS_RESOURCE = "events"
#: Bookings of one external id after cancels, at most (each cancel spends a ``transactionId``).
MAX_GENERATIONS = 50
#: Namespace of the derived ``transactionId`` values.
TRANSACTION_NAMESPACE = uuid.UUID("0b7e4c1d-52a8-4f36-9d7e-a1c3e5f70924")
ATTENDEE_TYPES = ("required", "optional", "resource")
#: Graph's limit on attendees of one event (GRAPH_FACTS, "Event fields users expect").
MAX_ATTENDEES = 500
# A plain address: no white space, one @, a dot in the domain.
_ADDRESS_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"


def lookup_filter(external_id: str) -> str:
    """The ``$filter`` that finds events whose external-id property has this value.

    Graph compares the value without regard to case: compare exactly afterwards
    (:func:`external_id_of`).
    """
    return (
        f"singleValueExtendedProperties/Any(ep: ep/id eq {odata_string(EXTERNAL_ID_PROPERTY)} "
        f"and ep/value eq {odata_string(external_id)})"
    )


def property_expand(property_id: str) -> str:
    """The ``$expand`` that reads one extended property back, in the documented form
    (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get)."""
    return f"singleValueExtendedProperties($filter=id eq {odata_string(property_id)})"


def lookup_expand() -> str:
    """The ``$expand`` that reads the external id back with each event found."""
    return property_expand(EXTERNAL_ID_PROPERTY)


def lookup_query(external_id: str) -> str:
    """The query string of the lookup, each value percent-encoded (nothing in an id can
    change the query's meaning: quotes are doubled, ``&``, ``#`` and spaces encoded)."""
    return f"$filter={quote(lookup_filter(external_id), safe='')}&$expand={quote(lookup_expand(), safe='')}"


def extended_property(event: Mapping[str, Any], property_id: str) -> str | None:
    """The value of one of the provider's extended properties on ``event`` (ids compared without case)."""
    for item in event.get("singleValueExtendedProperties") or ():
        if isinstance(item, Mapping) and str(item.get("id", "")).lower() == property_id.lower():
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


def external_id_of(event: Mapping[str, Any]) -> str | None:
    """The external id stored on ``event``, as stored (case kept)."""
    return extended_property(event, EXTERNAL_ID_PROPERTY)


def transaction_id(tenant_id: str, organizer: str | None, external_id: str) -> str:
    """The ``transactionId`` of an event: a UUID (version 5) of tenant, organizer and external id.

    The organizer is compared without case (a UPN or an object id; ``me`` for ``/me``). The
    same three always give the same value, so a POST sent again after a lost answer is
    recognised by Graph as a repeat (https://learn.microsoft.com/graph/api/resources/event,
    ``transactionId``).
    """
    # organizer_key(x) or "me" is (x or "me").lower(), the form every transactionId so far was
    # made with, for every x: a non-empty string never lowers to "" (pinned in the tests).
    key = "\n".join((tenant_id.lower(), organizer_key(organizer) or "me", external_id))
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, key))


def generation_transaction_id(first: str, generation: int) -> str:
    """The ``transactionId`` of the ``generation``-th booking of an external id (0: ``first``).

    A cancelled event leaves the calendar, but what Graph does with its ``transactionId``
    when it is sent again is not documented (GRAPH_FACTS, "Refinements: Cancel"): it may
    answer with the cancelled event or a 409. A new booking after a cancel is therefore sent
    under a new, still deterministic id: generation ``n`` is a UUID (version 5) of the first
    id and ``n``, so a POST retried after a lost answer repeats its own generation's id.
    """
    if generation == 0:
        return first
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, f"{first}\n{generation}"))


def is_spent_answer(event: Mapping[str, Any]) -> bool:
    """Whether a POST was answered with a cancelled event: its ``transactionId`` belongs to an
    earlier booking that was cancelled since (book again under the next generation)."""
    return event.get("isCancelled") is True


class RebookingError(ProviderError):
    """Every ``transactionId`` generation up to :data:`MAX_GENERATIONS` was spent by a cancelled event.

    :param external_id: the key booked and cancelled this often
    """

    permanent = True

    def __init__(self, external_id: str) -> None:
        self.external_id = external_id
        super().__init__(
            f"external id {external_id!r} was booked and cancelled {MAX_GENERATIONS} times: Graph answered each "
            "transactionId generation with a cancelled event. Book it under a new external id."
        )


def body_hash(body: Mapping[str, Any]) -> str:
    """A short hash of an event ``body`` as sent (``contentType`` and ``content``)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class EventTimes:
    """An event's start and end in its own zone.

    :param start: the start, in the zone
    :param end: the end, in the zone
    :param time_zone: the zone's name as sent to Graph (IANA or Windows)
    """

    start: datetime
    end: datetime
    time_zone: str

    def graph(self, moment: datetime) -> dict[str, str]:
        """A ``dateTimeTimeZone``: the wall-clock time without offset, and the zone."""
        return {"dateTime": moment.strftime(_LOCAL_FORMAT), "timeZone": self.time_zone}


def event_times(start: Any, end: Any, *, time_zone: Any = None, series: bool = False) -> EventTimes:
    """Check ``start`` and ``end`` and put them in the event's zone.

    :param start: aware datetime or ISO-8601 string with an offset
    :param end: same; after ``start``
    :param time_zone: IANA or Windows zone name; default: the start's own zone
    :param series: a series needs a named zone (a fixed offset moves at daylight-saving changes)
    :raises InvalidRequestError: naive or missing values, an unknown zone, end not after start
    """
    if start is None or (isinstance(start, str) and not start.strip()):
        raise InvalidRequestError("start", "is required: an aware datetime or an ISO-8601 string with offset")
    if end is None or (isinstance(end, str) and not end.strip()):
        raise InvalidRequestError("end", "is required: an aware datetime or an ISO-8601 string with offset")
    start_at = to_aware(start, field_name="start")  # its own tzinfo: the zone is decided on it
    end_at = to_aware(end, field_name="end")
    assert start_at is not None and end_at is not None
    # Whole seconds, as sent (_LOCAL_FORMAT): a start with microseconds (a manual run's
    # logical_date, now()) would otherwise differ from Graph's answer on every comparison,
    # and update_existing would PATCH (and notify every attendee) on every run.
    start_at, end_at = start_at.replace(microsecond=0), end_at.replace(microsecond=0)
    start_utc, end_utc = start_at.astimezone(timezone.utc), end_at.astimezone(timezone.utc)
    if end_utc <= start_utc:
        raise InvalidRequestError("end", f"{end!r} is not after start {start!r} (in whole seconds, as sent)")
    if time_zone is not None:
        name = str(time_zone)
        sent = graph_time_zone(name)
    else:
        name = zone_name_of(start_at.tzinfo)
        if name is None:
            if series:
                raise InvalidRequestError(
                    "time_zone",
                    f"start {start!r} has a fixed offset, not a zone: a series in a fixed offset keeps "
                    "UTC time and moves at daylight-saving changes; pass time_zone='Europe/Berlin' (say)",
                )
            name = "UTC"
        sent = graph_time_zone(name)
    zone = zone_info(name)
    return EventTimes(start_utc.astimezone(zone), end_utc.astimezone(zone), sent)


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(where, f"must be an e-mail address such as 'name@contoso.com', got {value!r}")
    check_missing_value(value, where)
    if not _ADDRESS_RE.fullmatch(value.strip()):
        raise InvalidRequestError(where, f"{value!r} is not an e-mail address such as 'name@contoso.com'")
    return value.strip()


def attendee(item: Any, where: str) -> dict[str, Any]:
    """Graph's ``attendee`` for an e-mail string or a mapping ``{address, name, type}``."""
    if isinstance(item, str):
        return {"emailAddress": {"address": _address(item, where)}, "type": "required"}
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            where, f"must be an e-mail string or a mapping {{'address', 'name', 'type'}}, got {type(item).__name__}"
        )
    unknown = sorted(set(item) - {"address", "name", "type"})
    if unknown:
        raise InvalidRequestError(where, f"unknown key(s) {unknown}; allowed: address, name, type")
    email: dict[str, Any] = {"address": _address(item.get("address"), f"{where}.address")}
    name = item.get("name")
    if name is not None:
        email["name"] = check_free_text(name, f"{where}.name")
    kind = item.get("type", "required")
    if kind not in ATTENDEE_TYPES:
        raise InvalidRequestError(
            f"{where}.type", f"{kind!r} is not one of {list(ATTENDEE_TYPES)} (rooms are 'resource')"
        )
    return {"emailAddress": email, "type": kind}


def attendees_body(value: Any) -> list[dict[str, Any]]:
    """Graph's ``attendees`` for a list of e-mail strings or mappings; duplicates refused."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidRequestError("attendees", f"must be a list, got {type(value).__name__}")
    if len(value) > MAX_ATTENDEES:
        raise InvalidRequestError("attendees", f"has {len(value)} entries; Graph allows {MAX_ATTENDEES}")
    result, seen = [], {}
    for i, item in enumerate(value):
        built = attendee(item, f"attendees[{i}]")
        key = built["emailAddress"]["address"].lower()
        if key in seen:
            raise InvalidRequestError(
                f"attendees[{i}]", f"{key!r} is also attendees[{seen[key]}]: give each address once"
            )
        seen[key] = i
        result.append(built)
    return result


def body_of(value: Any) -> dict[str, str] | None:
    """Graph's ``itemBody``: a string is HTML; a mapping ``{contentType, content}`` is checked."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"contentType": "html", "content": value}
    if isinstance(value, Mapping):
        kind, content = value.get("contentType", "html"), value.get("content")
        if str(kind).lower() not in ("html", "text") or not isinstance(content, str):
            raise InvalidRequestError(
                "body", "a mapping body needs 'content' (a string) and 'contentType' 'html' or 'text'"
            )
        return {"contentType": str(kind).lower(), "content": content}
    raise InvalidRequestError("body", f"must be a string (HTML) or a mapping, got {type(value).__name__}")


#: Properties of Graph's ``location`` (both versions; tests/contract keeps them equal to the SDK).
LOCATION_PROPERTIES = (
    "displayName",
    "address",
    "coordinates",
    "locationEmailAddress",
    "locationType",
    "locationUri",
    "uniqueId",
    "uniqueIdType",
)


def location_of(value: Any) -> dict[str, Any] | None:
    """Graph's ``location``: a string is its ``displayName``; a mapping needs ``displayName``."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"displayName": check_missing_value(value, "location", empty_segments=False)}
    if isinstance(value, Mapping) and isinstance(value.get("displayName"), str):
        check_properties(value, LOCATION_PROPERTIES, "location", model="location")
        return dict(value)
    raise InvalidRequestError("location", "must be a string or a mapping with 'displayName'")


@dataclass(frozen=True)
class EventSpec:
    """One calendar event, as the caller gave it: the arguments of
    :meth:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook.create_or_get_event`,
    typed as it declares them. Nothing is checked here (a bulk item may hold anything):
    :func:`~airflow_provider_meetings.events.api.prepare_calendar_event` checks every value."""

    external_id: str
    subject: str | None = None
    start: Any = None
    end: Any = None
    user_id: str | None = None
    attendees: Sequence[str | Mapping[str, Any]] = ()
    time_zone: str | None = None
    body: str | Mapping[str, Any] | None = None
    location: str | Mapping[str, Any] | None = None
    recurrence: str | Mapping[str, Any] | None = None
    allow_new_time_proposals: bool | None = None
    hide_attendees: bool | None = None
    response_requested: bool | None = None
    is_reminder_on: bool | None = None
    reminder_minutes_before_start: int | None = None
    sensitivity: str | None = None
    show_as: str | None = None
    categories: Sequence[str] | None = None


@dataclass(frozen=True)
class PreparedEvent:
    """A validated event: where it goes and what is sent.

    :param external_id: the key
    :param user_id: the organizer (``None``: ``/me``)
    :param fields: the event's own fields (subject, start, end, attendees, body, location,
        recurrence, Teams, the options of :mod:`~airflow_provider_meetings.events.options`), as PATCHed
    :param transaction_id: the POST's ``transactionId``
    :param times: start and end in the event's zone (``None`` for a lookup only, e.g. a cancel)
    """

    external_id: str
    user_id: str | None
    fields: dict[str, Any]
    transaction_id: str
    times: EventTimes | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        """The events collection of the organizer: ``users/<id>/events`` or ``me/events``."""
        return f"{user_path(self.user_id)}/{EVENTS_RESOURCE}"

    def event_path(self, event_id: str) -> str:
        """The path of one event (its id percent-encoded as one segment)."""
        return f"{self.base}/{quote(event_id, safe='')}"

    def body_hash_path(self, event_id: str) -> str:
        """One event with the hash of the body the provider last sent (for ``update_existing``)."""
        return f"{self.event_path(event_id)}?$select=id&$expand={quote(property_expand(BODY_HASH_PROPERTY), safe='')}"

    @property
    def lookup_path(self) -> str:
        """The lookup by external id, with the properties read back."""
        return f"{self.base}?{lookup_query(self.external_id)}"

    def create_body(self, generation: int = 0) -> dict[str, Any]:
        """The POST body: the fields, the extended properties and the ``transactionId``.

        :param generation: how many earlier bookings of this external id were cancelled
            (their ``transactionId`` is spent: :func:`generation_transaction_id`)
        """
        properties = [{"id": EXTERNAL_ID_PROPERTY, "value": self.external_id}]
        if "body" in self.fields:
            properties.append({"id": BODY_HASH_PROPERTY, "value": body_hash(self.fields["body"])})
        return {
            **self.fields,
            "singleValueExtendedProperties": properties,
            "transactionId": generation_transaction_id(self.transaction_id, generation),
        }


def prepare_event(
    spec: EventSpec, *, tenant_id: str, default_user_id: str | None = None, delegated: bool = True
) -> PreparedEvent:
    """Validate ``spec`` and build what is sent; nothing is sent.

    :param spec: the event as given
    :param tenant_id: the connection's tenant (part of the ``transactionId``)
    :param default_user_id: the organizer when ``spec.user_id`` is not given (``None`` or
        ``""``); ``None``: ``/me``
    :param delegated: whether the connection's tokens are delegated (``False``: ``/me`` is
        refused); the organizer follows :func:`~airflow_provider_meetings.graph.values.request_organizer`
    :raises InvalidRequestError: which field, what is wrong, what to do
    """
    external_id = validate_external_id(spec.external_id)
    user_id = request_organizer(
        spec.user_id, default_user_id=default_user_id, delegated=delegated, resource=EVENTS_RESOURCE
    )
    if not isinstance(spec.subject, str) or not spec.subject.strip():
        raise InvalidRequestError("subject", f"must be a non-empty string, got {spec.subject!r}")
    subject = check_missing_value(spec.subject, "subject", empty_segments=False)
    times = event_times(spec.start, spec.end, time_zone=spec.time_zone, series=spec.recurrence is not None)
    fields: dict[str, Any] = {
        "subject": subject,
        "start": times.graph(times.start),
        "end": times.graph(times.end),
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "attendees": attendees_body(spec.attendees),
    }
    body = body_of(spec.body)
    if body is not None:
        fields["body"] = body
    location = location_of(spec.location)
    if location is not None:
        fields["location"] = location
    recurrence = to_recurrence(spec.recurrence, start=times.start, time_zone=times.time_zone)
    if recurrence is not None:
        fields["recurrence"] = recurrence
    fields.update(option_fields({keyword: getattr(spec, keyword) for keyword in OPTIONS}))
    return PreparedEvent(
        external_id=external_id,
        user_id=user_id,
        fields=fields,
        transaction_id=transaction_id(tenant_id, user_id, external_id),
        times=times,
    )


def prepare_lookup(
    external_id: Any,
    *,
    tenant_id: str,
    user_id: Any = None,
    default_user_id: str | None = None,
    delegated: bool = True,
) -> PreparedEvent:
    """Validate what finds an event (its external id and organizer), for a cancel: no fields.

    :param external_id: the event's external id
    :param tenant_id: the connection's tenant (part of the ``transactionId``)
    :param user_id: the organizer (``None`` or ``""``: ``default_user_id``)
    :param default_user_id: the connection's default organizer (``None``: ``/me``)
    :param delegated: whether the connection's tokens are delegated (``False``: ``/me`` is refused)
    :raises InvalidRequestError: a bad external id or organizer, or none with an app-only token
    """
    key = validate_external_id(external_id)
    organizer = request_organizer(
        user_id, default_user_id=default_user_id, delegated=delegated, resource=EVENTS_RESOURCE
    )
    return PreparedEvent(
        external_id=key, user_id=organizer, fields={}, transaction_id=transaction_id(tenant_id, organizer, key)
    )


def cancel_body(comment: str | None) -> dict[str, Any]:
    """The body of ``POST .../cancel`` (the parameter is ``comment``: GRAPH_FACTS, "Refinements")."""
    return {"comment": comment} if comment else {}


def utc_instant(value: Any) -> datetime | None:
    """The UTC instant of a ``dateTimeTimeZone`` from Graph (7 fraction digits, any zone name)."""
    if not isinstance(value, Mapping) or not isinstance(value.get("dateTime"), str):
        return None
    text = value["dateTime"].rstrip("Zz")
    try:
        local = parse_iso(text)
    except ValueError:
        return None
    if local.tzinfo is not None:
        return local.astimezone(timezone.utc)
    name = value.get("timeZone") or "UTC"
    try:
        zone = zone_info(str(name))
    except InvalidRequestError:
        return None
    return local.replace(tzinfo=zone).astimezone(timezone.utc)
