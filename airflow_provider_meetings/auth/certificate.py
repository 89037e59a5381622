"""A certificate credential for MSAL: the PEM file's key and certificate, and the thumbprint.

The parsing is pure (bytes in, values or :class:`ConnectionConfigError` out) so that every
rule is a table-driven unit test; the file is read only in :func:`read_certificate_credential`.
A wrong field is always reported by its connection name (``certificate_path``,
``certificate_thumbprint``, ``private_key_password``), never as a trace from MSAL, and never
with the key in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from airflow_provider_meetings.graph.errors import ConnectionConfigError

_PEM_KEY_RE = re.compile(rb"-----BEGIN ((?:ENCRYPTED |RSA |EC |DSA )?PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL)
_PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_HEX40_RE = re.compile(r"[0-9A-F]{40}")


def normalize_thumbprint(value: Any) -> str:
    """A SHA-1 certificate thumbprint as MSAL wants it: 40 hex digits, upper case.

    Accepts the forms people copy: ``openssl x509 -fingerprint`` output (``AA:BB:...``,
    optionally with its ``SHA1 Fingerprint=`` prefix), hex with spaces, lower case.

    :raises ConnectionConfigError: naming ``certificate_thumbprint`` otherwise
    """
    text = str(value).strip()
    if "=" in text:  # "sha1 Fingerprint=AA:BB:..." as openssl prints it
        text = text.split("=", 1)[1]
    digits = re.sub(r"[\s:]", "", text).upper()
    if not _HEX40_RE.fullmatch(digits):
        raise ConnectionConfigError(
            "certificate_thumbprint",
            f"{value!r} is not a SHA-1 thumbprint (40 hex digits, e.g. as 'openssl x509 -noout "
            "-fingerprint -sha1' prints it); or remove it and keep the certificate in the PEM file",
        )
    return digits


@dataclass(frozen=True)
class PemBundle:
    """The private key and (optionally) the certificate found in a PEM file.

    :param private_key: the key block, as in the file
    :param certificate: the first certificate block, or ``None``
    """

    private_key: bytes = field(repr=False)
    certificate: bytes | None = None


def split_pem(pem: bytes, path: str) -> PemBundle:
    """Find the private key and certificate blocks of a PEM file's content."""
    key_match = _PEM_KEY_RE.search(pem)
    if key_match is None:
        raise ConnectionConfigError(
            "certificate_path", f"{path!r} holds no PEM private key ('-----BEGIN PRIVATE KEY-----')"
        )
    cert_match = _PEM_CERT_RE.search(pem)
    return PemBundle(key_match.group(0), cert_match.group(0) if cert_match else None)


#: Why a certificate's key must be RSA, and how to make one (the error of a non-RSA key).
RSA_REQUIRED = (
    "Entra ID verifies client assertions signed with RS256 or PS256 only "
    "(https://learn.microsoft.com/entra/identity-platform/certificate-credentials), so the "
    "certificate must have an RSA key. Make one with 'openssl req -x509 -newkey rsa:2048 -keyout "
    "key.pem -out cert.pem -days 365 -nodes', concatenate key.pem and cert.pem into one PEM file "
    "for certificate_path, and upload cert.pem to the app registration (Certificates & secrets)"
)


def check_private_key(private_key: bytes, password: str | None, path: str) -> None:
    """Load the key once, so a wrong password or a non-RSA key is a clear config error.

    Entra ID accepts client assertions signed with RS256 or PS256
    (https://learn.microsoft.com/entra/identity-platform/certificate-credentials); an EC,
    Ed25519 or DSA key would otherwise fail inside PyJWT (``InvalidKeyError``) at the first
    token request.
    """

    try:
        key = load_pem_private_key(private_key, password=password.encode() if password else None)
    except TypeError:
        reason = "is required: the key is encrypted" if not password else "is set but the key is not encrypted"
        raise ConnectionConfigError("private_key_password", f"{reason} ({path!r})") from None
    except ValueError:
        raise ConnectionConfigError(
            "private_key_password" if password else "certificate_path",
            f"cannot load the private key in {path!r} (wrong password or unsupported key)",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.removeprefix("_").removesuffix("PrivateKey") or "non-RSA"
        raise ConnectionConfigError("certificate_path", f"{path!r} holds a private key of type {kind}; {RSA_REQUIRED}")


def certificate_sha1(certificate: bytes, path: str) -> str:
    """The SHA-1 thumbprint (upper-case hex) of a PEM certificate block."""

    try:
        cert = x509.load_pem_x509_certificate(certificate)
    except ValueError:
        raise ConnectionConfigError("certificate_path", f"{path!r} holds an unreadable certificate") from None
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - a thumbprint, not a signature


def certificate_credential(pem: bytes, *, path: str, thumbprint: str | None, password: str | None) -> dict[str, Any]:
    """MSAL's ``client_credential`` for a PEM file's content.

    With the certificate in the file, MSAL gets it as ``public_certificate`` and signs with
    PS256, sending its SHA-256 thumbprint (``x5t#S256``) and ``x5c``; MSAL deprecates the
    SHA-1 ``thumbprint`` form (msal/application.py, ``client_credential``). A
    ``certificate_thumbprint`` given as well must match that certificate. With the key
    alone, the thumbprint is required and the SHA-1 form is used.
    """
    bundle = split_pem(pem, path)
    check_private_key(bundle.private_key, password, path)
    credential: dict[str, Any] = {"private_key": bundle.private_key.decode("ascii")}
    if bundle.certificate is not None:
        if thumbprint and normalize_thumbprint(thumbprint) != certificate_sha1(bundle.certificate, path):
            raise ConnectionConfigError(
                "certificate_thumbprint",
                f"does not match the certificate in {path!r}; remove the extra (the certificate "
                "in the file is enough) or fix the file",
            )
        credential["public_certificate"] = bundle.certificate.decode("ascii")
    elif thumbprint:
        credential["thumbprint"] = normalize_thumbprint(thumbprint)
    else:
        raise ConnectionConfigError(
            "certificate_path",
            f"{path!r} holds no PEM certificate ('-----BEGIN CERTIFICATE-----'); add the "
            "certificate registered on the app, or set the extra certificate_thumbprint",
        )
    if password:
        credential["passphrase"] = password
    return credential


def read_certificate_credential(path: str, *, thumbprint: str | None, password: str | None) -> dict[str, Any]:
    """Read the PEM file at ``path`` and return MSAL's credential for it."""
    try:
        with open(path, "rb") as pem_file:
            pem = pem_file.read()
    except OSError as err:
        raise ConnectionConfigError(
            "certificate_path", f"cannot read {path!r}: {err.strerror or type(err).__name__}"
        ) from None
    return certificate_credential(pem, path=path, thumbprint=thumbprint, password=password)
