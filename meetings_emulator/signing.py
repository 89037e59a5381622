"""The emulator's token signing key: RS256 JWTs and the JSON Web Key Set that publishes it.

Entra signs its tokens with RSA keys published at the ``jwks_uri`` of its OpenID
configuration; the header names the key by ``kid`` (and, in v1.0 tokens, by the same value
in ``x5t``), a key entry carries ``kty``, ``use``, ``kid``, ``x5t``, ``n``, ``e``, ``x5c``
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference#header-claims,
https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-signature).
A key is made on every start: tokens do not outlive the emulator anyway.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def x5t(der: bytes) -> str:
    """A certificate's ``x5t``: the base64url SHA-1 thumbprint of its DER form (RFC 7515, 4.1.7)."""
    return b64url(hashlib.sha1(der).digest())  # noqa: S324 - x5t is SHA-1 by definition


def b64url_json(data: Mapping[str, Any]) -> str:
    """Compact JSON, base64url-encoded: one JWT segment."""
    return b64url(json.dumps(data, separators=(",", ":")).encode())


class SigningKey:
    """A fresh RSA key with a self-signed certificate (for ``x5c``); signs JWTs with RS256."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meetings emulator token signing (throwaway)")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(self._key, hashes.SHA256())
        )
        self._der = certificate.public_bytes(serialization.Encoding.DER)
        #: Entra's ``kid`` is the SHA-1 thumbprint of the signing certificate, like ``x5t``.
        self.kid = x5t(self._der)
        self.public_key_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, claims: Mapping[str, Any], x5t: bool = True) -> str:
        """A compact JWS of ``claims`` (RS256).

        :param claims: the payload.
        :param x5t: also name the key in ``x5t`` (v1.0 tokens do; v2.0 tokens carry ``kid`` only).
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header: dict[str, Any] = {"typ": "JWT", "alg": "RS256"}
        if x5t:
            header["x5t"] = self.kid
        header["kid"] = self.kid
        signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def jwks(self, issuer: str) -> dict[str, Any]:
        """The key set served at ``jwks_uri``."""
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.kid,
                    "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                    "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
                    "x5c": [base64.b64encode(self._der).decode()],
                    "issuer": issuer,
                }
            ]
        }
