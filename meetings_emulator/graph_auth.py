"""The bearer token check in front of every Graph route (and of ``$batch``)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from meetings_emulator.errors import GraphError
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken

#: Graph's text for a token that is neither a JWT nor an opaque token it knows.
NOT_WELL_FORMED = (
    "IDX14100: JWT is not well formed, there are no dots (.).\n"
    "The token needs to be in JWS or JWE Compact Serialization Format. "
    "(JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. "
    "(JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector."
    "EncodedCiphertext.EncodedAuthenticationTag'."
)


def authenticate(service: EmulatorService, headers: Mapping[str, str]) -> AccessToken:
    """The access token a request's ``Authorization: Bearer`` header carries.

    :param service: the emulator that issued the tokens.
    :param headers: request headers (lower-case names).
    :raises GraphError: 401 ``InvalidAuthenticationToken`` with Graph's ``WWW-Authenticate``
        challenge: no token, one this emulator did not issue, an expired one, or one for
        another resource.
    """
    challenge = {
        "WWW-Authenticate": (
            f'Bearer realm="", authorization_uri="{service.base_url}/common/oauth2/authorize", '
            'client_id="00000003-0000-0000-c000-000000000000"'
        )
    }
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if not value or scheme.lower() != "bearer" or not token:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.", challenge)
    with service.lock:
        record = service.tokens.lookup(token)
    if record is None and token.count(".") == 2:
        # A JWT this emulator did not issue (or issued before a restart): its signature does
        # not verify. Graph's text for that case is an assumption (docs/emulator.md).
        raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.", challenge)
    if record is None:
        raise GraphError(401, "InvalidAuthenticationToken", NOT_WELL_FORMED, challenge)
    if record.expires_at <= time.time():
        raise GraphError(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
            challenge,
        )
    if record.audience.lower() not in (service.config.graph_resource.lower(), service.base_url.lower()):
        # A token for another resource, e.g. another national cloud's Graph (community-reported text).
        raise GraphError(
            401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.", challenge
        )
    return record
