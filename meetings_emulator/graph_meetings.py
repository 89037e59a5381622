"""Graph ``onlineMeetings`` handlers: thin handlers over :class:`~meetings_emulator.meetings.MeetingStore`.

Each takes ``(service, request, match, token)``: the route match of ``routes.py`` names the
organizer (``users/{id}`` or ``me``) and the meeting; the token has been authenticated and
its permission checked by ``graph.py``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from meetings_emulator.config import SeedUser, is_object_id
from meetings_emulator.errors import Forbidden, ParameterNotDefined, PropertyNotDefined, UserNotFound, bad_request
from meetings_emulator.graph_schema import undefined_property
from meetings_emulator.graph_users import find_user, signed_in_user
from meetings_emulator.meetings import require_join_url_organizer
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.odata import context_url, literal_value, query_option, string_literal
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken

#: The organizer part of every onlineMeetings path (after the version segment).
ORGANIZER = r"^/(?:users/(?P<user>[^/]+)|(?P<me>me))/onlineMeetings"
FILTER_RE = re.compile(r"^\s*joinWebUrl\s+eq\s+" + string_literal("v") + r"\s*$", re.IGNORECASE)


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
        return signed_in_user(service, token)
    key = unquote(match["user"])
    # The pages say {userId} is the user's object id; callers who put a UPN there have
    # reported 404s (an assumption, see docs/emulator.md), so only object ids resolve.
    user = find_user(service, key) if is_object_id(key) else None
    if user is None:
        raise UserNotFound(key)
    if token.is_delegated and user.id != token.user_id:
        raise Forbidden()
    if not token.is_delegated:
        # App tokens need an application access policy granted to the user
        # (https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy).
        with service.lock:
            allowed = service.directory.has_policy(user)
        if not allowed:
            raise Forbidden("No Application Access Policy found for this app.")
    return user


def stored_meeting(service: EmulatorService, user: SeedUser, match: re.Match[str]) -> dict[str, Any]:
    """The meeting ``{meetingId}`` the route names, of that organizer; else 404 (``MeetingNotFound``)."""
    with service.lock:
        return service.meetings.get(service.directory.tenant_id, user.id, unquote(match["meeting"]))


def _context(service: EmulatorService, request: GraphRequest, user: SeedUser) -> str:
    return context_url(service.base_url, request, f"users('{user.id}')/onlineMeetings")


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
    meeting = stored_meeting(service, user, match)
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
    filter_match = FILTER_RE.match(query_option(request, "$filter") or "")
    if filter_match is None:
        raise bad_request("Filter expression expected - /onlineMeetings?$filter=joinWebUrl eq '{joinWebUrl}'.")
    url = literal_value(filter_match["v"])
    require_join_url_organizer(url, user.id)  # Graph matches the join URL's organizer
    with service.lock:
        found = service.meetings.find_by_join_web_url(service.directory.tenant_id, user.id, url)
    return Reply(200, {"@odata.context": _context(service, request, user), "value": found})
