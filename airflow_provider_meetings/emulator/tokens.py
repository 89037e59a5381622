"""The Entra ID token endpoint: client authentication, grants, scopes, opaque tokens.

Access tokens are opaque random strings (real ones are JWTs, but clients must not look
inside them); the emulator remembers what each one stands for.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_meetings.emulator.config import GRAPH_ROOTS
from airflow_provider_meetings.emulator.directory import Directory
from airflow_provider_meetings.emulator.errors import EntraError

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
#: Clock skew tolerated on client assertions, like Entra's five minutes.
ASSERTION_LEEWAY_S = 300


@dataclass
class AccessToken:
    """What an issued access token stands for.

    :param tenant_id: tenant it was issued in.
    :param client_id: app it was issued to.
    :param user_id: the signed-in user (delegated tokens), ``None`` for app tokens.
    :param expires_at: epoch seconds.
    :param roles: application permissions (the ``roles`` claim of an app token).
    :param scopes: delegated permissions (the ``scp`` claim of a delegated token).
    """

    tenant_id: str
    client_id: str
    user_id: str | None
    expires_at: float
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @property
    def is_delegated(self) -> bool:
        """Whether the token acts as a user (``/me`` is allowed)."""
        return self.user_id is not None

    def grants(self, permission: str) -> bool:
        """Whether the token carries ``permission`` (a role for app tokens, a scope for delegated ones)."""
        held = self.scopes if self.is_delegated else self.roles
        return permission.lower() in {p.lower() for p in held}


class TokenService:
    """Issues and looks up access tokens; not thread-safe (the caller holds a lock).

    :param directory: the emulated directory.
    :param lifetime: access token lifetime in seconds.
    """

    def __init__(self, directory: Directory, lifetime: int) -> None:
        self.directory = directory
        self.lifetime = lifetime
        self._tokens: dict[str, AccessToken] = {}
        self._used_assertion_ids: set[str] = set()

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
        """Forget every issued token."""
        self._tokens.clear()
        self._used_assertion_ids.clear()

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
        :param issuer: the tenant's issuer URL (for ``id_token``).
        :param base_url: the emulator's base URL (an accepted scope resource).
        """
        directory = self.directory
        if not directory.is_tenant(tenant):
            raise EntraError(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise EntraError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        if grant_type not in ("client_credentials", "refresh_token"):
            raise EntraError(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            )
        client_id = form.get("client_id", "")
        if not client_id:
            raise EntraError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        if client_id.lower() != directory.client_id:
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{directory.tenant_domain}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You may have sent your authentication request to the wrong tenant.",
            )
        self._authenticate_client(form, token_endpoints)
        scopes = form.get("scope", "").split()
        if not scopes:
            raise EntraError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        if grant_type == "client_credentials":
            self._check_app_scopes(scopes, base_url)
            return self._issue(user_id=None)
        user_id = self._redeem_refresh_token(form.get("refresh_token", ""))
        self._check_delegated_scopes(scopes, base_url)
        response = self._issue(user_id=user_id)
        response["scope"] = " ".join(s for s in scopes if s.lower() not in RESERVED_SCOPES)
        response["refresh_token"] = form["refresh_token"]
        response["client_info"] = _b64url_json({"uid": user_id, "utid": directory.tenant_id})
        response["id_token"] = self._id_token(user_id, issuer)
        return response

    def _issue(self, user_id: str | None) -> dict[str, Any]:
        token = secrets.token_urlsafe(96)
        self._tokens[token] = AccessToken(
            tenant_id=self.directory.tenant_id,
            client_id=self.directory.client_id,
            user_id=user_id,
            expires_at=time.time() + self.lifetime,
            roles=frozenset() if user_id else frozenset(self.directory.app_roles),
            scopes=frozenset(self.directory.delegated_scopes) if user_id else frozenset(),
        )
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        }

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
            "sub": user.id,
            "tid": self.directory.tenant_id,
            "ver": "2.0",
        }
        header = _b64url_json({"typ": "JWT", "alg": "none"})
        return f"{header}.{_b64url_json(claims)}."

    # -- client authentication --------------------------------------------------------------

    def _authenticate_client(self, form: Mapping[str, str], token_endpoints: tuple[str, ...]) -> None:
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if secret is not None and assertion is not None:
            raise EntraError(
                400,
                "invalid_request",
                90015,
                "Requested query string is too long. Only one client credential may be presented.",
            )
        if secret is not None:
            expected = self.directory.client_secret
            if expected is None or not secrets.compare_digest(secret.encode(), expected.encode()):
                raise EntraError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{self.directory.client_id}'.",
                )
            return
        if assertion is not None:
            if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
                raise EntraError(
                    400,
                    "invalid_request",
                    50027,
                    f"Invalid client_assertion_type; expected '{CLIENT_ASSERTION_TYPE}'.",
                )
            self._verify_assertion(assertion, token_endpoints)
            return
        raise EntraError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )

    def _verify_assertion(self, assertion: str, token_endpoints: tuple[str, ...]) -> None:
        import jwt

        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise EntraError(
                401,
                "invalid_client",
                50027,
                "JWT token is invalid or malformed.",
            ) from None
        client_id = self.directory.client_id
        if str(claims.get("iss", "")).lower() == client_id:
            self._verify_certificate_assertion(assertion, header, claims, token_endpoints)
        else:
            self._verify_federated_assertion(assertion, header, claims)
        jti = claims.get("jti")
        if isinstance(jti, str):
            self._used_assertion_ids.add(jti)

    def _verify_certificate_assertion(
        self,
        assertion: str,
        header: dict[str, Any],
        claims: dict[str, Any],
        token_endpoints: tuple[str, ...],
    ) -> None:

        client_id = self.directory.client_id
        if str(claims.get("sub", "")).lower() != client_id:
            raise EntraError(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        cert = self.directory.find_certificate(header)
        if cert is None:
            raise EntraError(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Please visit the "
                f"Azure Portal, Graph Explorer or directly use MS Graph to see configured keys "
                f"for app Id '{client_id}'.]",
            )
        algorithm = header.get("alg")
        if algorithm not in ("RS256", "PS256"):
            raise EntraError(
                401,
                "invalid_client",
                5002738,
                f"Invalid JWT token. '{algorithm}' is not a supported signature algorithm.",
            )
        self._decode_verified(assertion, cert.public_key(), algorithm, audience=None)
        if not _audience_matches(claims.get("aud"), token_endpoints):
            raise EntraError(
                401,
                "invalid_client",
                700212,
                "The audience of the client assertion is not the token endpoint of this tenant.",
            )

    def _verify_federated_assertion(self, assertion: str, header: dict[str, Any], claims: dict[str, Any]) -> None:
        issuer, subject = claims.get("iss"), claims.get("sub")
        matches = [c for c in self.directory.federated_credentials if c.issuer == issuer and c.subject == subject]
        if not matches:
            raise EntraError(
                401,
                "invalid_client",
                70021,
                "No matching federated identity record found for presented assertion. "
                f"Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'.",
            )
        credential = matches[0]
        if not _audience_matches(claims.get("aud"), (credential.audience,)):
            raise EntraError(
                401,
                "invalid_client",
                700212,
                f"No matching federated identity record found for presented assertion audience '{claims.get('aud')}'.",
            )
        if credential.public_key_pem:
            from cryptography.hazmat.primitives import serialization

            key = serialization.load_pem_public_key(credential.public_key_pem.encode())
            self._decode_verified(assertion, key, str(header.get("alg")), audience=None)
        else:
            _check_times(claims)

    @staticmethod
    def _decode_verified(assertion: str, key: Any, algorithm: str, audience: str | None) -> None:
        import jwt

        try:
            jwt.decode(
                assertion,
                key=key,
                algorithms=[algorithm],
                options={"verify_aud": False, "require": ["exp"]},
                leeway=ASSERTION_LEEWAY_S,
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise EntraError(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ) from None
        except jwt.PyJWTError:
            raise EntraError(
                401,
                "invalid_client",
                7000274,
                "Key was found, but use of the key to verify the signature failed.",
            ) from None

    # -- scopes and refresh tokens --------------------------------------------------------

    def _resource_roots(self, base_url: str) -> tuple[str, ...]:
        return (*GRAPH_ROOTS, base_url.rstrip("/"))

    def _check_app_scopes(self, scopes: list[str], base_url: str) -> None:
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
        self._check_resource(resources[0][: -len("/.default")], base_url)

    def _check_delegated_scopes(self, scopes: list[str], base_url: str) -> None:
        for scope in scopes:
            if scope.lower() in RESERVED_SCOPES:
                continue
            if "/" not in scope.replace("://", ""):
                continue  # a bare permission name such as OnlineMeetings.ReadWrite means Graph
            self._check_resource(scope.rsplit("/", 1)[0], base_url)

    def _check_resource(self, resource: str, base_url: str) -> None:
        if resource.rstrip("/").lower() not in {r.lower() for r in self._resource_roots(base_url)}:
            raise EntraError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.directory.tenant_domain}. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You might have sent your authentication request to the wrong tenant.",
            )

    def _redeem_refresh_token(self, refresh_token: str) -> str:
        if not refresh_token:
            raise EntraError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'refresh_token'.",
            )
        user_id = self.directory.refresh_tokens.get(refresh_token)
        if user_id is None:
            raise EntraError(
                400,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )
        return user_id


def _audience_matches(aud: Any, expected: tuple[str, ...]) -> bool:
    wanted = {e.rstrip("/").lower() for e in expected}
    values = aud if isinstance(aud, list) else [aud]
    return any(isinstance(v, str) and v.rstrip("/").lower() in wanted for v in values)


def _check_times(claims: Mapping[str, Any]) -> None:
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if (
        not isinstance(exp, (int, float))
        or exp + ASSERTION_LEEWAY_S < now
        or (isinstance(nbf, (int, float)) and nbf - ASSERTION_LEEWAY_S > now)
    ):
        raise EntraError(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        )


def _b64url_json(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
