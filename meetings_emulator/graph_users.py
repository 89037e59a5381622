"""Graph ``users``: ``GET /users/{id | userPrincipalName}`` (for organizer lookups), and the one
way every Graph route finds the user its path names (``/users/{key}`` or ``/me``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from meetings_emulator.config import SeedUser
from meetings_emulator.errors import DirectoryObjectNotFound, InsufficientPrivileges, bad_request
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.odata import context_url, select_option
from meetings_emulator.permissions import may_read_user
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken


def find_user(service: EmulatorService, key: str | None) -> SeedUser | None:
    """The user with this object id or UPN (any case), or ``None``; under the service lock."""
    if not key:
        return None
    with service.lock:
        return service.directory.find_user(key)


def path_key(match: re.Match[str], token: AccessToken) -> str | None:
    """Who a route's path names: ``{key}`` of ``/users/{key}`` (decoded), the signed-in user's id for ``/me``."""
    return token.user_id if match["me"] else unquote(match["user"])


def signed_in_user(service: EmulatorService, token: AccessToken) -> SeedUser:
    """The user of ``/me``: the signed-in user of a delegated token; an app token is Graph's 400."""
    if not token.is_delegated:
        raise bad_request("/me request is only valid with delegated authentication flow.")
    return service.directory.require_user(token.user_id or "")


def get_user(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET /users/{id | userPrincipalName}`` with optional ``$select``.

    Needs the application permission ``User.Read.All``, or delegated ``User.ReadBasic.All``
    (least privileged) or ``User.Read.All``; a delegated token may also read its own user
    with ``User.Read`` (https://learn.microsoft.com/graph/api/user-get#permissions;
    :func:`~meetings_emulator.permissions.may_read_user`).
    """
    key = unquote(match["user"])
    user = find_user(service, key)
    if not may_read_user(token, user.id if user is not None else None):
        raise InsufficientPrivileges()
    if user is None:
        raise DirectoryObjectNotFound(key)
    resource: dict[str, Any] = {
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": None,
        "jobTitle": None,
        "mail": user.user_principal_name,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": None,
        "userPrincipalName": user.user_principal_name,
        "id": user.id,
    }
    names = select_option(request)
    context = context_url(service.base_url, request, "users")
    if names:
        for name in names:
            if name not in resource:
                raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.user'.")
        resource = {n: resource[n] for n in names}
        context += f"({','.join(names)})"
    return Reply(200, {"@odata.context": f"{context}/$entity", **resource})
