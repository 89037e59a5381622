"""Graph ``onlineMeetings`` handlers: thin handlers over :class:`~meetings_emulator.meetings.MeetingStore`.

Each takes ``(service, request, match, token)``: the route match of ``routes.py`` names the
organizer (``users/{id}`` or ``me``) and the meeting; the token has been authenticated and
its permission checked by ``graph.py``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote

from meetings_emulator.config import SeedUser
from meetings_emulator.errors import GraphError, ParameterNotDefined, PropertyNotDefined, bad_request
from meetings_emulator.graph_schema import undefined_property
from meetings_emulator.meetings import require_join_url_organizer
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken

#: The organizer part of every onlineMeetings path (after the version segment).
ORGANIZER = r"^/(?:users/(?P<user>[^/]+)|(?P<me>me))/onlineMeetings"
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
FILTER_RE = re.compile(r"^\s*joinWebUrl\s+eq\s+'(?P<v>(?:[^']|'')*)'\s*$", re.IGNORECASE)


def check_properties(body: Any, type_name: str, version: str, operation: str | None = None) -> None:
    """Raise Graph's 400 for the first property ``type_name`` does not define in ``version``.

    :param operation: for an action body (``createOrGet``), an unknown top-level name is an
        unknown parameter of that operation; deeper ones are unknown properties of their type.
    """
    found = undefined_property(body, type_name, version)
    if found is None:
        return
    path, owner = found
    name = path.rsplit(".", 1)[-1]
    if operation is not None and "." not in path:
        raise ParameterNotDefined(name, operation)
    raise PropertyNotDefined(name, owner)


def organizer(service: EmulatorService, match: re.Match[str], token: AccessToken) -> SeedUser:
    """The organizer a meeting route acts for, with the access rules of the onlineMeetings pages."""
    if match["me"]:
        if not token.is_delegated:
            raise bad_request("/me request is only valid with delegated authentication flow.")
        return service.directory.require_user(token.user_id)
    key = unquote(match["user"])
    # The pages say {userId} is the user's object id; callers who put a UPN there have
    # reported 404s (an assumption, see docs/emulator.md), so only object ids resolve.
    user = service.directory.find_user(key) if GUID_RE.match(key) else None
    if user is None:
        raise GraphError(
            404,
            "NotFound",
            f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
        )
    if token.is_delegated and user.id != token.user_id:
        raise GraphError(403, "Forbidden", "Insufficient privileges to complete the operation.")
    if not token.is_delegated:
        # App tokens need an application access policy granted to the user
        # (https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy).
        with service.lock:
            allowed = service.directory.has_policy(user)
        if not allowed:
            raise GraphError(403, "Forbidden", "No Application Access Policy found for this app.")
    return user


def _context(service: EmulatorService, request: GraphRequest, user: SeedUser) -> str:
    return f"{service.base_url}/{request.version}/$metadata#users('{user.id}')/onlineMeetings"


def create_or_get(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``POST .../onlineMeetings/createOrGet`` (learn.microsoft.com/graph/api/onlinemeeting-createorget)."""
    user = organizer(service, match, token)
    body = request.json_body()
    check_properties(body, "createOrGetPostRequestBody", request.version, operation="createOrGet")
    if request.version == "v1.0" and isinstance(body, dict) and "chatInfo" in body:
        # v1.0's createOrGet page lists no chatInfo (it is documented for beta): the emulator
        # ignores it there and answers the generated chatInfo (an assumption, docs/emulator.md).
        body = {k: v for k, v in body.items() if k != "chatInfo"}
    with service.lock:
        created, meeting = service.meetings.create_or_get(service.directory.tenant_id, user, body)
        if created:
            service.stats.meetings_created += 1
            service.persist()
    context = _context(service, request, user)
    return Reply(201 if created else 200, {"@odata.context": f"{context}/$entity", **meeting})


def get_meeting(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../onlineMeetings/{meetingId}``."""
    user = organizer(service, match, token)
    with service.lock:
        meeting = service.meetings.get(service.directory.tenant_id, user.id, unquote(match["meeting"]))
    return Reply(200, {"@odata.context": f"{_context(service, request, user)}/$entity", **meeting})


def update_meeting(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``PATCH .../onlineMeetings/{meetingId}`` (learn.microsoft.com/graph/api/onlinemeeting-update)."""
    user = organizer(service, match, token)
    body = request.json_body()
    check_properties(body, "onlineMeeting", request.version)
    with service.lock:
        meeting = service.meetings.update(service.directory.tenant_id, user.id, unquote(match["meeting"]), body)
        service.persist()
    return Reply(200, {"@odata.context": f"{_context(service, request, user)}/$entity", **meeting})


def delete_meeting(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``DELETE .../onlineMeetings/{meetingId}``: 204 (learn.microsoft.com/graph/api/onlinemeeting-delete)."""
    user = organizer(service, match, token)
    with service.lock:
        service.meetings.delete(service.directory.tenant_id, user.id, unquote(match["meeting"]))
        service.stats.meetings_deleted += 1
        service.persist()
    return Reply(204)


def list_meetings(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET .../onlineMeetings?$filter=joinWebUrl eq '...'`` (the only listing Graph offers)."""
    user = organizer(service, match, token)
    query = parse_qs(request.query, keep_blank_values=True)
    expression = (query.get("$filter") or query.get("%24filter") or [""])[0]
    filter_match = FILTER_RE.match(expression)
    if filter_match is None:
        raise bad_request("Filter expression expected - /onlineMeetings?$filter=joinWebUrl eq '{joinWebUrl}'.")
    url = filter_match["v"].replace("''", "'")
    require_join_url_organizer(url, user.id)  # Graph matches the join URL's organizer
    with service.lock:
        found = service.meetings.find_by_join_web_url(service.directory.tenant_id, user.id, url)
    return Reply(200, {"@odata.context": _context(service, request, user), "value": found})
