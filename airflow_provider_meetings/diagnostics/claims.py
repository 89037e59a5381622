"""What the connection check reads from its own access token, without verifying it.

The token is the one Entra ID just issued to this connection, so reading it is safe; the
claims only explain what Graph will decide (only Graph verifies the signature). Microsoft
documents the claims in https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference:
``roles`` (application permissions), ``scp`` (delegated permissions), ``aud``, ``exp``, and
``oid``, the object id of the principal: in a delegated token, the signed-in user.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_meetings.graph.values import is_guid

__all__ = ["claim_name", "granted", "holds", "names", "read_claims", "signed_in_user_id"]


def read_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, read without verifying its signature (``None``: not a readable JWT).

    A client must not trust these claims for security decisions; the check only reads them to
    explain what Graph will decide. Encrypted tokens (JWE, five parts) are not readable.

    :param token: an access token
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def names(value: Any) -> list[str]:
    """The permission names of a ``scp`` (space-separated text) or ``roles`` (a list) claim."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def claim_name(delegated: bool) -> str:
    """The claim that lists a token's permissions: ``scp`` (delegated) or ``roles`` (app-only).

    :param delegated: whether the token acts as a signed-in user
    """
    return "scp" if delegated else "roles"


def granted(claims: Mapping[str, Any] | None, delegated: bool) -> list[str]:
    """The permission names a token carries: its ``scp`` (delegated) or ``roles`` (app-only).

    :param claims: the token's claims (``None`` when the token was not readable: none)
    :param delegated: whether the token acts as a signed-in user
    """
    return names((claims or {}).get(claim_name(delegated)))


def holds(granted: Iterable[str], permission: str) -> bool:
    """Whether ``permission`` is among ``granted`` (Graph compares names without case).

    :param granted: the permission names a token carries (:func:`granted`)
    :param permission: the permission asked about
    """
    return permission.lower() in {n.lower() for n in granted}


def signed_in_user_id(claims: Mapping[str, Any] | None) -> str | None:
    """The object id of the user a delegated token acts as (its ``oid``), if readable.

    :param claims: the token's claims (``None`` when the token was not readable)
    """
    oid = (claims or {}).get("oid")
    return oid if isinstance(oid, str) and is_guid(oid) else None
