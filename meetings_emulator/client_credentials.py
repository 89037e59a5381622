"""Client authentication at the token endpoint: secret, certificate or federated assertion.

https://learn.microsoft.com/entra/identity-platform/certificate-credentials (certificate
assertions: ``x5t`` SHA-1 or ``x5t#S256`` + ``x5c``, ``iss`` = ``sub`` = client id, ``aud`` =
the token endpoint) and
https://learn.microsoft.com/entra/workload-id/workload-identity-federation (federated
assertions matched by issuer, subject and audience).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from enum import Enum
from typing import Any

from meetings_emulator.directory import Directory
from meetings_emulator.errors import EntraError

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Clock skew tolerated on client assertions, like Entra's five minutes.
ASSERTION_LEEWAY_S = 300


class Credential(Enum):
    """How a client authenticated at the token endpoint (``NONE``: a public client)."""

    NONE = "none"
    SECRET = "secret"
    CERTIFICATE = "certificate"
    FEDERATED = "federated"

    @property
    def acr(self) -> str:
        """The ``appidacr`` claim of the tokens it gets.

        "For a public client, the value is 0. When you use the client ID and client secret,
        the value is 1. When you use a client certificate for authentication, the value is 2."
        (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
        A federated assertion counts as 2 here: an assumption, the page names no value for it.
        """
        return {"none": "0", "secret": "1"}.get(self.value, "2")


class ClientAuthenticator:
    """Checks the client credential of one token request; not thread-safe (the caller holds a lock).

    :param directory: the emulated directory (secret, certificates, federated credentials).
    """

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._used_assertion_ids: set[str] = set()

    def clear(self) -> None:
        """Forget the assertion ids seen."""
        self._used_assertion_ids.clear()

    def authenticate(self, form: Mapping[str, str], token_endpoints: tuple[str, ...]) -> Credential:
        """The credential presented in ``form`` (``Credential.NONE`` if none); raises :class:`EntraError`.

        :param form: the decoded form body.
        :param token_endpoints: this tenant's token endpoint URLs (accepted assertion ``aud``).
        """
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if secret is not None and assertion is not None:
            # "The client MUST NOT use more than one authentication method in each request"
            # and such a request is `invalid_request` (RFC 6749 sections 2.3 and 5.2). Entra's
            # number for it is undocumented: AADSTS90023 ("InvalidRequest - The authentication
            # service request isn't valid.", reference-error-codes) is an assumption
            # (docs/emulator.md, Assumptions).
            raise EntraError(
                400,
                "invalid_request",
                90023,
                "The authentication service request isn't valid. Only one client credential "
                "(client_secret or client_assertion) may be presented.",
            )
        if secret is not None:
            if any(
                secrets.compare_digest(secret.encode(), old.encode()) for old in self.directory.expired_client_secrets
            ):
                # "AADSTS7000222 | InvalidClientSecretExpiredKeysProvided - The provided client secret
                # keys are expired." (https://learn.microsoft.com/entra/identity-platform/reference-error-codes);
                # the text is the one Entra sends, the status and `error` an assumption (docs/emulator.md).
                raise EntraError(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{self.directory.client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, "
                    "or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                )
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
            return Credential.SECRET
        if assertion is not None:
            if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
                raise EntraError(
                    400,
                    "invalid_request",
                    50027,
                    f"Invalid client_assertion_type; expected '{CLIENT_ASSERTION_TYPE}'.",
                )
            return self._verify_assertion(assertion, token_endpoints)
        return Credential.NONE

    def _verify_assertion(self, assertion: str, token_endpoints: tuple[str, ...]) -> Credential:
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
            kind = Credential.CERTIFICATE
        else:
            self._verify_federated_assertion(assertion, header, claims)
            kind = Credential.FEDERATED
        jti = claims.get("jti")
        if isinstance(jti, str):
            self._used_assertion_ids.add(jti)
        return kind

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
        # Entra verifies certificate assertions signed with RS256 or PS256 only (an EC key's
        # ES256 is refused): https://learn.microsoft.com/entra/identity-platform/certificate-credentials
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
        """Verify the signature with ``key``, then the time claims (:func:`_check_times`)."""
        import jwt

        try:
            claims = jwt.decode(
                assertion,
                key=key,
                algorithms=[algorithm],
                # The time claims are checked by _check_times, for signed and unsigned assertions alike.
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise EntraError(
                401,
                "invalid_client",
                7000274,
                "Key was found, but use of the key to verify the signature failed.",
            ) from None
        _check_times(claims)


def _audience_matches(aud: Any, expected: tuple[str, ...]) -> bool:
    wanted = {e.rstrip("/").lower() for e in expected}
    values = aud if isinstance(aud, list) else [aud]
    return any(isinstance(v, str) and v.rstrip("/").lower() in wanted for v in values)


def _is_time(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_times(claims: Mapping[str, Any]) -> None:
    """The one check of an assertion's time claims (AADSTS700024 when it fails).

    ``exp`` is required (https://learn.microsoft.com/entra/identity-platform/certificate-credentials,
    "Claims (payload)") and the assertion is refused from ``exp`` on, and before ``nbf`` (RFC
    7519, 4.1.4 and 4.1.5); an ``iat`` in the future is refused too (as PyJWT does; an
    assumption, docs/emulator.md). Each with :data:`ASSERTION_LEEWAY_S` of clock skew, and a
    time claim that is not a number fails the check.
    """
    now = time.time()
    exp = claims.get("exp")
    early = [claims[name] for name in ("nbf", "iat") if claims.get(name) is not None]
    if (
        not _is_time(exp)
        or exp + ASSERTION_LEEWAY_S <= now
        or any(not _is_time(t) or t - ASSERTION_LEEWAY_S > now for t in early)
    ):
        raise EntraError(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        )
