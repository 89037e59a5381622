"""The Entra ID token endpoint: grants, scopes, and access tokens shaped like Graph's.

Access tokens are RS256 JWTs with the claims Entra puts in a v1.0 token for Microsoft Graph
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference): ``aud``
(the Graph resource asked for), ``iss`` (``https://sts.windows.net/{tid}/``), ``iat``/``nbf``/
``exp``, ``appid``, ``appidacr``, ``idtyp``, ``oid``, ``sub``, ``tid``, ``uti``, ``ver`` ("1.0")
and ``roles`` (app tokens) or ``scp`` (delegated tokens). Clients must treat them as opaque
(https://learn.microsoft.com/entra/identity-platform/access-tokens), but may decode them for
diagnostics. Graph here still authenticates by looking the token up, so that the controls
(expire, reset) act on issued tokens.

Grants: ``client_credentials``, ``refresh_token`` and the device code grant
(``urn:ietf:params:oauth:grant-type:device_code``).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meetings_emulator.client_credentials import ClientAuthenticator, Credential
from meetings_emulator.config import GRAPH_ROOTS, EmulatorConfig
from meetings_emulator.device_codes import DeviceCodeStore
from meetings_emulator.directory import Directory
from meetings_emulator.errors import EntraError, credential_required, missing_parameter, tenant_not_found
from meetings_emulator.refresh_tokens import RefreshTokenStore
from meetings_emulator.signing import SigningKey, b64url, b64url_json

RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ("client_credentials", "refresh_token", DEVICE_CODE_GRANT)


@dataclass
class AccessToken:
    """What an issued access token stands for.

    :param tenant_id: tenant it was issued in.
    :param client_id: app it was issued to.
    :param user_id: the signed-in user (delegated tokens), ``None`` for app tokens.
    :param expires_at: epoch seconds.
    :param roles: application permissions (the ``roles`` claim of an app token).
    :param scopes: delegated permissions (the ``scp`` claim of a delegated token).
    :param audience: the ``aud`` claim: the resource the token is for.
    """

    tenant_id: str
    client_id: str
    user_id: str | None
    expires_at: float
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    audience: str = ""

    @property
    def is_delegated(self) -> bool:
        """Whether the token acts as a user (``/me`` is allowed)."""
        return self.user_id is not None

    def grants(self, permission: str) -> bool:
        """Whether the token carries ``permission`` (a role for app tokens, a scope for delegated ones)."""
        held = self.scopes if self.is_delegated else self.roles
        return permission.lower() in {p.lower() for p in held}


class TokenService:
    """Issues and looks up tokens; not thread-safe (the caller holds a lock).

    :param directory: the emulated directory.
    :param config: lifetimes, device code settings and the emulated Graph resource.
    """

    def __init__(self, directory: Directory, config: EmulatorConfig) -> None:
        self.directory = directory
        self.lifetime = config.token_lifetime
        self.graph_resource = config.graph_resource
        self.signing = SigningKey()
        self.clients = ClientAuthenticator(directory)
        self.refresh_tokens = RefreshTokenStore(config.refresh_token_lifetime)
        self.device_codes = DeviceCodeStore(config.device_code_lifetime, config.device_code_interval)
        for token, user_id in directory.refresh_tokens.items():
            self.refresh_tokens.seed(token, user_id, public=False)
        for token, user_id in directory.public_refresh_tokens.items():
            self.refresh_tokens.seed(token, user_id, public=True)
        self._tokens: dict[str, AccessToken] = {}

    # -- lookups ---------------------------------------------------------------------

    def lookup(self, token: str) -> AccessToken | None:
        """The token's record, or ``None`` if the emulator never issued it."""
        return self._tokens.get(token)

    def expire_all(self) -> int:
        """Make every issued access token expired now; returns how many."""
        now = time.time()
        for record in self._tokens.values():
            record.expires_at = min(record.expires_at, now - 1)
        return len(self._tokens)

    def issued(self) -> list[str]:
        """Every access token issued and not forgotten."""
        return list(self._tokens)

    def clear(self) -> None:
        """Forget every issued access token, minted refresh token and device code."""
        self._tokens.clear()
        self.clients.clear()
        self.device_codes.clear()
        self.refresh_tokens.reset(forget_minted=True)

    # -- token endpoint ----------------------------------------------------------------

    def token_request(
        self,
        tenant: str,
        form: Mapping[str, str],
        token_endpoints: tuple[str, ...],
        issuer: str,
        base_url: str,
    ) -> dict[str, Any]:
        """Answer ``POST /{tenant}/oauth2/v2.0/token``; raises :class:`EntraError`.

        :param tenant: the tenant path segment.
        :param form: the decoded form body.
        :param token_endpoints: this tenant's token endpoint URLs (accepted assertion ``aud``).
        :param issuer: the tenant's v2.0 issuer URL (for ``id_token``).
        :param base_url: the emulator's base URL (an accepted scope resource).
        """
        self._check_tenant(tenant)
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise missing_parameter("grant_type")
        if grant_type not in GRANT_TYPES:
            raise EntraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        self._check_client_id(form.get("client_id", ""))
        credential = self.clients.authenticate(form, token_endpoints)
        if grant_type == DEVICE_CODE_GRANT:
            return self._device_code_grant(form, credential, issuer, base_url)
        scopes = form.get("scope", "").split()
        if not scopes:
            raise missing_parameter("scope")
        if grant_type == "client_credentials":
            if credential is Credential.NONE:
                raise credential_required()
            resource = self._check_app_scopes(scopes, base_url)
            return self._issue(None, resource, credential)
        record = self.refresh_tokens.redeem(form.get("refresh_token", ""), credential)
        resource = self._check_delegated_scopes(scopes, base_url)
        return self._issue_delegated(record.user_id, record.public, scopes, resource, credential, issuer, rotate=True)

    def device_authorization(self, tenant: str, form: Mapping[str, str], base_url: str) -> dict[str, Any]:
        """Answer ``POST /{tenant}/oauth2/v2.0/devicecode``; raises :class:`EntraError`.

        https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code#device-authorization-response
        """
        self._check_tenant(tenant)
        self._check_client_id(form.get("client_id", ""))
        scopes = form.get("scope", "").split()
        if not scopes:
            raise missing_parameter("scope")
        self._check_delegated_scopes(scopes, base_url)
        code = self.device_codes.start(scopes)
        # Entra sends https://microsoft.com/devicelogin; the emulator's page says how to approve.
        verification_uri = f"{base_url.rstrip('/')}/devicelogin"
        return {
            "user_code": code.user_code,
            "device_code": code.device_code,
            "verification_uri": verification_uri,
            "expires_in": self.device_codes.lifetime,
            "interval": code.interval,
            "message": (
                f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
                f"{code.user_code} to authenticate."
            ),
        }

    def _device_code_grant(
        self, form: Mapping[str, str], credential: Credential, issuer: str, base_url: str
    ) -> dict[str, Any]:
        device_code = form.get("device_code", "")
        if not device_code:
            raise missing_parameter("device_code")
        if credential is Credential.NONE and not self.directory.allow_public_client:
            # Without "Allow public client flows" the app is confidential and must authenticate
            # (reported as AADSTS7000218 for device code redemption, e.g. learn.microsoft.com/answers/questions/446907).
            raise credential_required()
        code = self.device_codes.poll(device_code)
        user_id = code.user_id or ""  # poll() only returns approved codes, which name their user
        resource = self._check_delegated_scopes(code.scopes, base_url)
        public = credential is Credential.NONE
        return self._issue_delegated(user_id, public, code.scopes, resource, credential, issuer, rotate=False)

    # -- issuing -------------------------------------------------------------------------

    def _issue(self, user_id: str | None, resource: str, credential: Credential) -> dict[str, Any]:
        now = int(time.time())
        directory = self.directory
        roles = frozenset() if user_id else frozenset(directory.app_roles)
        scopes = frozenset(directory.delegated_scopes) if user_id else frozenset()
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{directory.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "appid": directory.client_id,
            "appidacr": credential.acr,
            "idp": f"https://sts.windows.net/{directory.tenant_id}/",
            "idtyp": "user" if user_id else "app",
            "tid": directory.tenant_id,
            "uti": uuid.uuid4().hex,
            "ver": "1.0",
        }
        if user_id:
            user = directory.require_user(user_id)
            claims.update(
                {
                    "name": user.display_name,
                    "oid": user.id,
                    "scp": " ".join(sorted(scopes)),
                    "sub": _pairwise_subject(user.id, directory.client_id),
                    "unique_name": user.user_principal_name,
                    "upn": user.user_principal_name,
                }
            )
        else:
            claims.update({"oid": directory.service_principal_id, "sub": directory.service_principal_id})
            if roles:  # "Claims are present only if a value exists to fill it."
                claims["roles"] = sorted(roles)
        token = self.signing.sign(claims)
        self._tokens[token] = AccessToken(
            tenant_id=directory.tenant_id,
            client_id=directory.client_id,
            user_id=user_id,
            expires_at=now + self.lifetime,
            roles=roles,
            scopes=scopes,
            audience=resource,
        )
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        }

    def _issue_delegated(
        self,
        user_id: str,
        public: bool,
        scopes: list[str],
        resource: str,
        credential: Credential,
        issuer: str,
        rotate: bool,
    ) -> dict[str, Any]:
        response = self._issue(user_id, resource, credential)
        response["scope"] = " ".join(s for s in scopes if s.lower() not in RESERVED_SCOPES)
        # A redeemed refresh token is always replaced; the device code grant returns one only for
        # offline_access, and an id_token only for openid (v2-oauth2-device-code, "Successful
        # authentication response"). MSAL always asks for both.
        lowered = {s.lower() for s in scopes}
        if rotate or "offline_access" in lowered:
            response["refresh_token"] = self.refresh_tokens.mint(user_id, public)
        if "openid" in lowered or "offline_access" in lowered:
            response["id_token"] = self._id_token(user_id, issuer)
        response["client_info"] = b64url_json({"uid": user_id, "utid": self.directory.tenant_id})
        return response

    def _id_token(self, user_id: str, issuer: str) -> str:
        # MSAL decodes (without verifying) the id_token to build its account cache entry.
        user = self.directory.require_user(user_id)
        now = int(time.time())
        claims = {
            "aud": self.directory.client_id,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "name": user.display_name,
            "oid": user.id,
            "preferred_username": user.user_principal_name,
            "sub": _pairwise_subject(user.id, self.directory.client_id),
            "tid": self.directory.tenant_id,
            "ver": "2.0",
        }
        return self.signing.sign(claims, x5t=False)

    # -- request checks ------------------------------------------------------------------

    def _check_tenant(self, tenant: str) -> None:
        if not self.directory.is_tenant(tenant):
            raise tenant_not_found(tenant, "invalid_request")

    def _check_client_id(self, client_id: str) -> None:
        if not client_id:
            raise missing_parameter("client_id")
        if client_id.lower() != self.directory.client_id:
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.directory.tenant_domain}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You may have sent your authentication request to the wrong tenant.",
            )

    def _resource_roots(self, base_url: str) -> tuple[str, ...]:
        return (*GRAPH_ROOTS, self.graph_resource, base_url.rstrip("/"))

    def _check_app_scopes(self, scopes: list[str], base_url: str) -> str:
        resources = [s for s in scopes if s.lower() not in RESERVED_SCOPES]
        if len(resources) != 1 or not resources[0].endswith("/.default"):
            raise EntraError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client credential "
                "flows must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        return self._check_resource(resources[0][: -len("/.default")], base_url)

    def _check_delegated_scopes(self, scopes: list[str], base_url: str) -> str:
        """The resource the scopes name (a bare permission such as ``User.Read`` means Graph)."""
        resource = None
        for scope in scopes:
            if scope.lower() in RESERVED_SCOPES or "/" not in scope.replace("://", ""):
                continue
            checked = self._check_resource(scope.rsplit("/", 1)[0], base_url)
            resource = resource or checked
        return resource or self.graph_resource

    def _check_resource(self, resource: str, base_url: str) -> str:
        known = {r.lower(): r for r in self._resource_roots(base_url)}
        match = known.get(resource.rstrip("/").lower())
        if match is None:
            raise EntraError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.directory.tenant_domain}. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You might have sent your authentication request to the wrong tenant.",
            )
        return match


def _pairwise_subject(object_id: str, client_id: str) -> str:
    """``sub`` is "a pairwise identifier that's unique to a particular application ID"."""
    return b64url(hashlib.sha256(f"{object_id.lower()}|{client_id.lower()}".encode()).digest()[:32])
