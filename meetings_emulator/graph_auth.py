"""The bearer token check in front of every Graph route (and of ``$batch``)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from meetings_emulator.errors import (
    TOKEN_AUDIENCE,
    TOKEN_EMPTY,
    TOKEN_EXPIRED,
    TOKEN_NOT_VALIDATED,
    InvalidAuthenticationToken,
)
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
    :raises InvalidAuthenticationToken: 401 with Graph's ``WWW-Authenticate``
        challenge: no token, one this emulator did not issue, an expired one, or one for
        another resource.
    """

    def refused(message: str) -> InvalidAuthenticationToken:
        return InvalidAuthenticationToken(message, service.base_url)

    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if not value or scheme.lower() != "bearer" or not token:
        raise refused(TOKEN_EMPTY)
    with service.lock:
        record = service.tokens.lookup(token)
    if record is None and token.count(".") == 2:
        # A JWT this emulator did not issue (or issued before a restart): its signature does
        # not verify. Graph's text for that case is an assumption (docs/emulator.md).
        raise refused(TOKEN_NOT_VALIDATED)
    if record is None:
        raise refused(NOT_WELL_FORMED)
    if record.expires_at <= time.time():
        raise refused(TOKEN_EXPIRED)
    if record.audience.lower() not in (service.config.graph_resource.lower(), service.base_url.lower()):
        # A token for another resource, e.g. another national cloud's Graph (community-reported text).
        raise refused(TOKEN_AUDIENCE)
    return record
