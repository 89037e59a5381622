"""Refresh tokens as Entra handles them: bound to a public or a confidential client, rotated, expiring.

https://learn.microsoft.com/entra/identity-platform/refresh-tokens: "The default lifetime
for the refresh tokens is 24 hours for single page apps and 90 days for all other
scenarios. Refresh tokens replace themselves with a fresh token upon every use. The
Microsoft identity platform doesn't revoke old refresh tokens when used to fetch new access
tokens." Error codes from https://learn.microsoft.com/entra/identity-platform/reference-error-codes
(AADSTS700025, AADSTS7000218, AADSTS700082, AADSTS9002313).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from meetings_emulator.client_credentials import Credential
from meetings_emulator.errors import EntraError, credential_required, missing_parameter
from meetings_emulator.ticks import epoch_ticks, format_ticks


@dataclass
class RefreshTokenRecord:
    """What a refresh token stands for.

    :param user_id: object id of the signed-in user.
    :param public: minted for a public client (no client credential), which must redeem it
        without one; otherwise the confidential client must present its credential.
    :param issued_at: epoch seconds.
    :param expires_at: epoch seconds.
    :param seeded: configured at start-up (restored by ``reset``) rather than minted.
    """

    user_id: str
    public: bool
    issued_at: float
    expires_at: float
    seeded: bool = False


class RefreshTokenStore:
    """Seeded and minted refresh tokens; not thread-safe (the caller holds a lock).

    :param lifetime: seconds a refresh token lives from its issue (each rotation gets a full
        lifetime; see docs/emulator.md, assumptions).
    """

    def __init__(self, lifetime: int) -> None:
        self.lifetime = lifetime
        self._records: dict[str, RefreshTokenRecord] = {}

    def seed(self, token: str, user_id: str, public: bool) -> None:
        """Register a configured refresh token, valid for a full lifetime from now."""
        now = time.time()
        self._records[token] = RefreshTokenRecord(user_id, public, now, now + self.lifetime, seeded=True)

    def mint(self, user_id: str, public: bool) -> str:
        """A new refresh token for ``user_id``."""
        token = secrets.token_urlsafe(64)
        now = time.time()
        self._records[token] = RefreshTokenRecord(user_id, public, now, now + self.lifetime)
        return token

    def redeem(self, token: str, credential: Credential) -> RefreshTokenRecord:
        """The record of ``token`` if the presenting client may redeem it; raises :class:`EntraError`.

        :param token: the refresh token from the request.
        :param credential: how the client authenticated (``Credential.NONE``: not at all).
        """
        if not token:
            raise missing_parameter("refresh_token")
        record = self._records.get(token)
        if record is None:
            raise EntraError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        if record.public and credential is not Credential.NONE:
            raise EntraError(
                401,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            )
        if not record.public and credential is Credential.NONE:
            raise credential_required()
        now = time.time()
        if record.expires_at <= now:
            raise EntraError(
                400,
                "invalid_grant",
                700082,
                f"The refresh token has expired due to inactivity. The token was issued on "
                f"{format_ticks(epoch_ticks(record.issued_at))} and was inactive for {_entra_span(now - record.issued_at)}.",
            )
        return record

    def expire_all(self) -> int:
        """Make every refresh token expired now; returns how many."""
        now = time.time()
        for record in self._records.values():
            record.expires_at = min(record.expires_at, now - 1)
        return len(self._records)

    def reset(self, forget_minted: bool) -> None:
        """Seeded tokens valid again for a full lifetime; minted ones dropped if ``forget_minted``."""
        now = time.time()
        for token, record in list(self._records.items()):
            if record.seeded:
                record.issued_at, record.expires_at = now, now + self.lifetime
            elif forget_minted:
                del self._records[token]

    def minted(self) -> list[str]:
        """Every refresh token handed out by the token endpoint (not the seeded ones)."""
        return [token for token, record in self._records.items() if not record.seeded]


def _entra_span(seconds: float) -> str:
    whole = max(int(seconds), 0)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}.{hours:02d}:{minutes:02d}:{secs:02d}"
