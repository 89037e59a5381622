"""The device authorization grant (device code flow) as Entra documents it.

https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code: the
``/devicecode`` answer (``device_code``, ``user_code``, ``verification_uri``,
``expires_in``, ``interval``, ``message``) and the polling errors
``authorization_pending``, ``authorization_declined``, ``bad_verification_code`` and
``expired_token``. AADSTS numbers from
https://learn.microsoft.com/entra/identity-platform/reference-error-codes (70016
AuthorizationPending, 70018 BadVerificationCode, 70019 CodeExpired; 65004 for a decline is
an assumption). A test plays the user through the control endpoint (approve / decline).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from meetings_emulator.errors import EntraError

#: Letters and digits that cannot be mistaken for one another when read aloud or typed.
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
USER_CODE_LENGTH = 9


class DeviceCodeState(Enum):
    """Where a device code stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass
class DeviceCode:
    """One device authorization request.

    :param device_code: the secret the device polls with.
    :param user_code: the short code the user types at ``verification_uri``.
    :param scopes: the requested scopes.
    :param expires_at: epoch seconds.
    :param interval: seconds between polls.
    :param state: pending, approved or declined.
    :param user_id: who approved it.
    """

    device_code: str
    user_code: str
    scopes: list[str]
    expires_at: float
    interval: int
    state: DeviceCodeState = DeviceCodeState.PENDING
    user_id: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def expired(self) -> bool:
        """Whether ``expires_in`` has passed."""
        return self.expires_at <= time.time()

    def to_json(self) -> dict[str, Any]:
        """What the control endpoint shows (never the ``device_code``, which is a credential)."""
        return {
            "user_code": self.user_code,
            "scope": " ".join(self.scopes),
            "state": "expired" if self.expired and self.state is DeviceCodeState.PENDING else self.state.value,
            "expires_in": max(int(self.expires_at - time.time()), 0),
            "user_id": self.user_id,
        }


class DeviceCodeStore:
    """Pending device codes; not thread-safe (the caller holds a lock).

    :param lifetime: seconds until a code expires (``expires_in``).
    :param interval: seconds between polls (``interval``).
    """

    def __init__(self, lifetime: int, interval: int) -> None:
        self.lifetime = lifetime
        self.interval = interval
        self._by_device_code: dict[str, DeviceCode] = {}

    def start(self, scopes: list[str]) -> DeviceCode:
        """A new pending device code for ``scopes``."""
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
        code = DeviceCode(
            device_code=secrets.token_urlsafe(96),
            user_code=user_code,
            scopes=scopes,
            expires_at=time.time() + self.lifetime,
            interval=self.interval,
        )
        self._by_device_code[code.device_code] = code
        return code

    def poll(self, device_code: str) -> DeviceCode:
        """The approved code (consumed: it cannot be redeemed twice); raises :class:`EntraError` otherwise."""
        code = self._by_device_code.get(device_code)
        if code is None:
            # After redemption a device code is forgotten, so a second redemption lands here too
            # (an assumption: Entra does not document that case).
            raise EntraError(
                400,
                "bad_verification_code",
                70018,
                "The provided value for the input parameter 'device_code' is not valid.",
            )
        if code.state is DeviceCodeState.DECLINED:
            raise EntraError(
                400,
                "authorization_declined",
                65004,
                "User declined to consent to access the app.",
            )
        if code.expired:
            raise EntraError(400, "expired_token", 70019, "Verification code expired.")
        if code.state is DeviceCodeState.PENDING:
            raise EntraError(
                400,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        del self._by_device_code[device_code]
        return code

    def decide(self, user_code: str | None, user_id: str | None, approve: bool) -> DeviceCode:
        """Approve (as ``user_id``) or decline a pending code, as the user would at ``verification_uri``.

        :param user_code: the code shown to the user; ``None`` picks the only pending one.
        :param user_id: the signing-in user's object id (approvals only).
        :param approve: approve or decline.
        :raises KeyError: no such pending code.
        :raises ValueError: the code expired, or ``user_code`` is ``None`` and not exactly one is pending.
        """
        code = self._find_pending(user_code)
        if code.expired:
            raise ValueError(f"device code {code.user_code} expired")
        if approve:
            code.state, code.user_id = DeviceCodeState.APPROVED, user_id
        else:
            code.state = DeviceCodeState.DECLINED
        return code

    def _find_pending(self, user_code: str | None) -> DeviceCode:
        pending = [c for c in self._by_device_code.values() if c.state is DeviceCodeState.PENDING]
        if user_code is None:
            live = [c for c in pending if not c.expired]
            if len(live) != 1:
                raise ValueError(f"{len(live)} device codes are pending; name the user_code")
            return live[0]
        for code in pending:
            if code.user_code == user_code.strip().upper():
                return code
        raise KeyError(user_code)

    def listing(self) -> list[dict[str, Any]]:
        """Every device code not yet redeemed, oldest first."""
        codes = sorted(self._by_device_code.values(), key=lambda c: c.created_at)
        return [c.to_json() for c in codes]

    def clear(self) -> None:
        """Forget every device code."""
        self._by_device_code.clear()
