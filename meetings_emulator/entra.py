"""Entra ID endpoints beyond discovery and the token endpoint, and the Entra side of the controls.

Served by :class:`EntraEndpoints`, which works on the state of one
:class:`~meetings_emulator.service.EmulatorService` under its lock:

- ``POST /{tenant}/oauth2/v2.0/devicecode`` (device authorization, for the device code flow);
- ``GET /{tenant}/discovery/v2.0/keys`` and ``/{tenant}/discovery/keys`` (the signing keys);
- ``GET /devicelogin`` (the ``verification_uri``: how to approve a code in the emulator);
- control operations: app roles, users, refresh tokens, device code approval, public client flows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from meetings_emulator.config import SeedUser
from meetings_emulator.errors import EntraError, tenant_not_found

if TYPE_CHECKING:
    from meetings_emulator.service import EmulatorService, Reply

log = logging.getLogger("meetings_emulator")

NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
#: Tenant aliases Entra serves keys for besides a tenant id or domain.
_KEY_ALIASES = ("common", "organizations")


def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    from meetings_emulator.service import Reply

    return Reply(status, body, dict(headers or {}))


class EntraEndpoints:
    """The device code, key set and directory-control parts of the emulated Entra ID.

    :param service: the emulator whose state (directory, tokens, lock) this works on.
    """

    def __init__(self, service: EmulatorService) -> None:
        self._service = service

    # -- HTTP endpoints -----------------------------------------------------------------------

    def device_authorization(self, tenant: str, form: Mapping[str, str], correlation_id: str | None) -> Reply:
        """``POST /{tenant}/oauth2/v2.0/devicecode``."""
        service = self._service
        with service.lock:
            try:
                body = service.tokens.device_authorization(tenant, form, service.base_url)
            except EntraError as error:
                log.info("device code request refused: AADSTS%s %s", error.code, error.error)
                return _reply(error.status, error.body(correlation_id), NO_STORE)
        log.info("device code issued")
        return _reply(200, body, NO_STORE)

    def keys(self, tenant: str) -> Reply:
        """``GET /{tenant}/discovery/v2.0/keys``: the JSON Web Key Set that verifies the emulator's tokens."""
        service = self._service
        if not (service.directory.is_tenant(tenant) or tenant.lower() in _KEY_ALIASES):
            error = tenant_not_found(tenant)
            return _reply(400, error.body())
        issuer = f"{service.base_url}/{service.directory.tenant_id}/v2.0"
        return _reply(200, service.tokens.signing.jwks(issuer))

    def device_login_page(self) -> Reply:
        """``GET /devicelogin``: the emulator has no sign-in page; say how a test or a person approves."""
        url = self._service.base_url
        text = (
            "Meetings emulator: device code sign-in\n\n"
            "There is no sign-in page. Approve a pending code as a user of the emulated tenant:\n\n"
            f"  curl --cacert CA.pem -X POST {url}/_emulator/device-codes/approve \\\n"
            '       -H "Content-Type: application/json" \\\n'
            '       -d \'{"user_code": "CODE", "user": "adelev@contoso.example"}\'\n\n'
            "or decline it at /_emulator/device-codes/decline; from Python: emulator.approve_device_code(...).\n"
        )
        return _reply(200, text, {"Content-Type": "text/plain; charset=utf-8"})

    # -- controls ----------------------------------------------------------------------------

    def set_app_roles(self, roles: Any) -> list[str]:
        """Application permissions granted (with admin consent) to the app, for tokens issued from now on."""
        if not isinstance(roles, (list, tuple)) or not all(isinstance(r, str) and r.strip() for r in roles):
            raise ValueError("roles must be a list of permission names, e.g. ['OnlineMeetings.ReadWrite.All']")
        with self._service.lock:
            self._service.directory.app_roles = {r.strip() for r in roles}
            return sorted(self._service.directory.app_roles)

    def set_public_client_flows(self, enabled: bool) -> bool:
        """The app registration's "Allow public client flows" setting."""
        if not isinstance(enabled, bool):
            raise ValueError("enabled must be true or false")
        with self._service.lock:
            self._service.directory.allow_public_client = enabled
        return enabled

    def add_user(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user (``id``, ``userPrincipalName``, ``displayName``, ``hasPolicy``) to the tenant."""
        user = SeedUser.from_json(dict(data))
        service = self._service
        with service.lock:
            service.directory.add_user(user)
            service._persist()
            return {**user.to_json(), "hasPolicy": service.directory.has_policy(user)}

    def expire_refresh_tokens(self) -> int:
        """Expire every refresh token (seeded and minted) now."""
        with self._service.lock:
            return self._service.tokens.refresh_tokens.expire_all()

    def issued_refresh_tokens(self) -> list[str]:
        """Refresh tokens handed out by the token endpoint so far (for leak checks in tests)."""
        with self._service.lock:
            return self._service.tokens.refresh_tokens.minted()

    def device_codes(self) -> list[dict[str, Any]]:
        """Device codes not yet redeemed: ``user_code``, ``scope``, ``state``, ``expires_in``, ``user_id``."""
        with self._service.lock:
            return self._service.tokens.device_codes.listing()

    def decide_device_code(self, approve: bool, user: str | None = None, user_code: str | None = None) -> dict:
        """Approve (as ``user``, id or UPN) or decline a pending device code; ``user_code=None``: the only one.

        :raises KeyError: unknown user or no such pending code.
        :raises ValueError: the code expired, or several are pending and none was named.
        """
        service = self._service
        with service.lock:
            user_id = None
            if approve:
                if not user:
                    raise ValueError("name the user who approves, e.g. {'user': 'adelev@contoso.example'}")
                user_id = service.directory.require_user(user).id
            code = service.tokens.device_codes.decide(user_code, user_id, approve)
            return code.to_json()


def handle_entra_control(entra: EntraEndpoints, method: str, path: str, body: dict[str, Any]) -> Reply | None:
    """Answer an Entra control call (path after ``/_emulator``), or ``None`` if it is not one."""
    if method == "GET" and path == "/device-codes":
        return _reply(200, {"device_codes": entra.device_codes()})
    if method == "GET" and path == "/refresh-tokens":
        return _reply(200, {"refresh_tokens": entra.issued_refresh_tokens()})
    if method != "POST":
        return None
    if path == "/app-roles":
        return _reply(200, {"app_roles": entra.set_app_roles(body["roles"])})
    if path == "/public-client-flows":
        return _reply(200, {"allow_public_client": entra.set_public_client_flows(body["enabled"])})
    if path == "/users":
        return _reply(200, entra.add_user(body))
    if path == "/refresh-tokens/expire":
        return _reply(200, {"expired": entra.expire_refresh_tokens()})
    if path in ("/device-codes/approve", "/device-codes/decline"):
        try:
            decided = entra.decide_device_code(
                path.endswith("/approve"), user=body.get("user"), user_code=body.get("user_code")
            )
        except KeyError as error:
            return _reply(404, {"error": f"no pending device code or user {error.args[0]!r}"})
        return _reply(200, decided)
    return None
