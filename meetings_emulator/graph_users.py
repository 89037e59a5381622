"""Graph ``users`` handler: ``GET /users/{id | userPrincipalName}``, for organizer lookups."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote

from meetings_emulator.errors import DirectoryObjectNotFound, InsufficientPrivileges, bad_request
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.permissions import may_read_user
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken


def get_user(service: EmulatorService, request: GraphRequest, match: re.Match[str], token: AccessToken) -> Reply:
    """``GET /users/{id | userPrincipalName}`` with optional ``$select``.

    Needs the application permission ``User.Read.All``, or delegated ``User.ReadBasic.All``
    (least privileged) or ``User.Read.All``; a delegated token may also read its own user
    with ``User.Read`` (https://learn.microsoft.com/graph/api/user-get#permissions;
    :func:`~meetings_emulator.permissions.may_read_user`).
    """
    key = unquote(match["user"])
    user = service.directory.find_user(key)
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
    query = parse_qs(request.query, keep_blank_values=True)
    select = (query.get("$select") or query.get("%24select") or [""])[0]
    context = f"{service.base_url}/{request.version}/$metadata#users"
    if select.strip():
        names = [n.strip() for n in select.split(",") if n.strip()]
        for name in names:
            if name not in resource:
                raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.user'.")
        resource = {n: resource[n] for n in names}
        context += f"({','.join(names)})"
    return Reply(200, {"@odata.context": f"{context}/$entity", **resource})
