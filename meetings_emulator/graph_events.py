"""Graph calendar ``events`` handlers: thin handlers over :class:`~meetings_emulator.events.EventStore`.

Each takes ``(service, request, match, token)`` like ``graph_meetings.py``. The mailbox is
``/users/{id | userPrincipalName}`` or ``/me`` (user-post-events, "HTTP request"). App-only
tokens need no application access policy (that is Teams'; an Exchange administrator may scope
an app to some mailboxes, which the emulator does not model).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

from meetings_emulator.config import SeedUser
from meetings_emulator.errors import CalendarAccessDenied, GraphError, bad_request
from meetings_emulator.event_instances import window_ticks
from meetings_emulator.events import StoredEvent
from meetings_emulator.graph_meetings import check_properties
from meetings_emulator.graph_users import find_user, path_key, signed_in_user
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.odata import (
    context_url,
    literal_value,
    next_link,
    query_option,
    select_option,
    skip_option,
    string_literal,
    top_option,
)
from meetings_emulator.service import EmulatorService
from meetings_emulator.ticks import format_ticks
from meetings_emulator.tokens import AccessToken

#: The mailbox part of every events path (after the version segment).
MAILBOX = r"^/(?:users/(?P<user>[^/]+)|(?P<me>me))/events"
#: A mailbox's default calendar (learn.microsoft.com/graph/api/calendar-get).
CALENDAR = r"^/(?:users/(?P<user>[^/]+)|(?P<me>me))/calendar/?$"
#: singlevaluelegacyextendedproperty-get, "Get resource instances using a filter":
#: ``singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{value}')``.
FILTER_RE = re.compile(
    r"^\s*singleValueExtendedProperties/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)/id\s+eq\s+"
    + string_literal("id")
    + r"\s+and\s+(?P=var)/value\s+eq\s+"
    + string_literal("value")
    + r"\s*\)\s*$",
    re.IGNORECASE,
)
#: singlevaluelegacyextendedproperty-get, "Get a resource instance expanded with a matching
#: extended property": ``$expand=singleValueExtendedProperties($filter=id eq '{id}')``.
EXPAND_RE = re.compile(
    r"^\s*singleValueExtendedProperties\(\s*\$filter\s*=\s*id\s+eq\s+" + string_literal("id") + r"\s*\)\s*$",
    re.IGNORECASE,
)
PREFER_ZONE_RE = re.compile(r'outlook\.timezone\s*=\s*"(?P<zone>[^"]*)"', re.IGNORECASE)
#: user-list-events: a page holds 10 events unless ``$top`` asks for another number.
DEFAULT_PAGE = 10
MAX_PAGE = 1000


def mailbox_id(service: EmulatorService, match: re.Match[str], token: AccessToken) -> str | None:
    """The object id of the mailbox a route acts on, or ``None`` when it names no known user."""
    user = find_user(service, path_key(match, token))
    return user.id if user is not None else None


def mailbox(service: EmulatorService, match: re.Match[str], token: AccessToken) -> SeedUser:
    """The mailbox (its owner) a route acts on, with the access rules of the event pages."""
    if match["me"]:
        return signed_in_user(service, token)
    key = unquote(match["user"])
    user = find_user(service, key)
    if user is None:
        # Outlook's answer for an unknown mailbox as users report it: an assumption.
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{key}' is invalid.")
    if token.is_delegated and user.id != token.user_id:
        # Another user's calendar needs Calendars.ReadWrite.Shared and a delegation (event
        # pages, "Permissions"); the emulator models no delegations, so it is always refused.
        raise CalendarAccessDenied()
    return user


def _prefer_zone(request: GraphRequest) -> str | None:
    found = PREFER_ZONE_RE.search(request.headers.get("prefer", ""))
    return found["zone"] if found else None


def _expand(request: GraphRequest) -> tuple[str, ...] | None:
    expression = query_option(request, "$expand")
    if expression is None:
        return None
    found = EXPAND_RE.match(expression)
    if found is None:
        raise bad_request(
            f"The emulator expands only singleValueExtendedProperties($filter=id eq '...'), not {expression!r}."
        )
    return (literal_value(found["id"]),)


def _context(service: EmulatorService, request: GraphRequest, user: SeedUser) -> str:
    return context_url(service.base_url, request, f"users('{user.id}')/events")


def _answer(service: EmulatorService, request: GraphRequest, user: SeedUser, event: StoredEvent, status: int) -> Reply:
    view = event.view(_prefer_zone(request), _expand(request))
    return Reply(status, {"@odata.context": f"{_context(service, request, user)}/$entity", **view})


def _join_url_maker(service: EmulatorService, user: SeedUser) -> Any:
    """Makes the onlineMeeting behind an event, with the same join URLs as createOrGet."""

    def make(start: int, end: int, subject: str) -> str:
        body = {
            # The meeting behind an event has no externalId in Graph; the store needs a key.
            "externalId": f"calendar-event-{uuid.uuid4()}",
            "subject": subject,
            "startDateTime": format_ticks(start),
            "endDateTime": format_ticks(end),
        }
        _, meeting = service.meetings.create_or_get(service.directory.tenant_id, user, body)
        return meeting["joinWebUrl"]

    return make


def create_event(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``POST /users/{id}/events`` (learn.microsoft.com/graph/api/user-post-events): 201 and the event."""
    user = mailbox(service, match, token)
    body = request.json_body()
    check_properties(body, "event", request.version)
    with service.lock:
        service.stats.event_posts += 1
        created, event = service.events.create(service.directory.tenant_id, user, body, _join_url_maker(service, user))
        if created:
            service.stats.events_created += 1
            service.persist()
    # A repeated transactionId answers like the first POST (201 with the same event): an
    # assumption, the docs say only that the server avoids the redundant POST.
    return _answer(service, request, user, event, 201)


def get_event(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET /users/{id}/events/{eventId}`` (learn.microsoft.com/graph/api/event-get)."""
    user = mailbox(service, match, token)
    with service.lock:
        event = service.events.get(service.directory.tenant_id, user.id, unquote(match["event"]))
    return _answer(service, request, user, event, 200)


def list_events(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET /users/{id}/events`` with the extended-property ``$filter``, ``$expand``, ``$top``, ``$skip``."""
    user = mailbox(service, match, token)
    expand = _expand(request)
    expression = query_option(request, "$filter")
    found = FILTER_RE.match(expression) if expression is not None else None
    if expression is not None and found is None:
        raise bad_request(
            "Invalid filter clause: the emulator filters events only by "
            "singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...')."
        )
    top = top_option(request, MAX_PAGE) or DEFAULT_PAGE
    skip = skip_option(request)
    tenant = service.directory.tenant_id
    with service.lock:
        if found is not None:
            events = service.events.find_by_property(
                tenant, user.id, literal_value(found["id"]), literal_value(found["value"])
            )
        else:
            events = service.events.in_calendar(tenant, user.id)
    zone = _prefer_zone(request)
    page = events[skip : skip + top]
    answer: dict[str, Any] = {
        "@odata.context": _context(service, request, user),
        "value": [e.view(zone, expand) for e in page],
    }
    if skip + top < len(events):
        answer["@odata.nextLink"] = next_link(service.base_url, request, {"$top": str(top), "$skip": str(skip + top)})
    return Reply(200, answer)


def list_instances(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET /users/{id}/events/{eventId}/instances?startDateTime=...&endDateTime=...``
    (learn.microsoft.com/graph/api/event-list-instances): the occurrences in the window, both
    parameters required; ``Prefer: outlook.timezone`` as for events."""
    user = mailbox(service, match, token)
    bounds = {name: query_option(request, name) for name in ("startDateTime", "endDateTime")}
    for name, value in bounds.items():
        if not value:
            raise bad_request(
                f"This request requires a time window specified by startDateTime and endDateTime ({name})."
            )
    window = (
        window_ticks(bounds["startDateTime"], "startDateTime"),
        window_ticks(bounds["endDateTime"], "endDateTime"),
    )
    with service.lock:
        found = service.events.instances(
            service.directory.tenant_id, user.id, unquote(match["event"]), window, _prefer_zone(request)
        )
    context = f"{_context(service, request, user)}('{unquote(match['event'])}')/instances"
    return Reply(200, {"@odata.context": context, "value": found})


def update_event(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``PATCH /users/{id}/events/{eventId}`` (learn.microsoft.com/graph/api/event-update): 200 and the event."""
    user = mailbox(service, match, token)
    body = request.json_body()
    check_properties(body, "event", request.version)
    with service.lock:
        event = service.events.update(
            service.directory.tenant_id, user.id, unquote(match["event"]), body, _join_url_maker(service, user)
        )
        service.stats.events_updated += 1
        service.persist()
    return _answer(service, request, user, event, 200)


def cancel_event(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``POST /users/{id}/events/{eventId}/cancel`` (learn.microsoft.com/graph/api/event-cancel): 202.

    The body's one parameter is ``comment`` (the page's table; its example writes
    ``Comment``): both spellings are taken, anything else is a 400.
    """
    user = mailbox(service, match, token)
    body = {} if request.body in (None, b"", "") else request.json_body()
    if not isinstance(body, dict) or any(k.lower() != "comment" for k in body):
        raise bad_request("The parameter in the request payload is not a valid parameter for the operation 'cancel'.")
    comment = next(iter(body.values()), None)
    if comment is not None and not isinstance(comment, str):
        raise bad_request("Invalid value for 'comment'.")
    with service.lock:
        service.events.cancel(service.directory.tenant_id, user.id, unquote(match["event"]), comment)
        service.stats.events_cancelled += 1
        service.persist()
    return Reply(202)


def delete_event(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``DELETE /users/{id}/events/{eventId}`` (learn.microsoft.com/graph/api/event-delete): 204."""
    user = mailbox(service, match, token)
    with service.lock:
        service.events.delete(service.directory.tenant_id, user.id, unquote(match["event"]))
        service.stats.events_deleted += 1
        service.persist()
    return Reply(204)


def get_calendar(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET /users/{id}/calendar`` (learn.microsoft.com/graph/api/calendar-get), optionally ``$select``.

    Its ``allowedOnlineMeetingProviders`` tells whether events can get a Teams link
    (resources/calendar); the control API can take ``teamsForBusiness`` away.
    """
    user = mailbox(service, match, token)
    with service.lock:
        providers = list(service.events.allowed_providers(user.id))
    calendar: dict[str, Any] = {
        "id": f"AAMkA{user.id.replace('-', '')}AAAAAAEGAAA=",
        "name": "Calendar",
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": True,
        "changeKey": "DxYSthXJXEWwAQSYQnXvIgAAAAAAAA==",
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": True,
        "allowedOnlineMeetingProviders": providers,
        "defaultOnlineMeetingProvider": providers[0] if providers else "unknown",
        "isTallyingResponses": True,
        "isRemovable": False,
        "owner": {"name": user.display_name, "address": user.user_principal_name},
    }
    selected = select_option(request)
    if selected:
        calendar = {k: v for k, v in calendar.items() if k in {*selected, "id"}}
    context = context_url(service.base_url, request, f"users('{user.id}')/calendar/$entity")
    return Reply(200, {"@odata.context": context, **calendar})
