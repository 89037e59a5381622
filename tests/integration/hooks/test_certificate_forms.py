"""Certificates as MSAL recommends: with the certificate in the PEM file, the hook's client
assertion carries the SHA-256 thumbprint and ``x5c`` (PS256); the deprecated SHA-1 form only
when the file holds the key alone. Through the hook, real MSAL and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

pytestmark = pytest.mark.integration


def sent_assertions(hook: Any) -> list[str]:
    """The ``client_assertion`` of every token request the hook makes."""
    assertions: list[str] = []

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        body = response.request.body
        form = dict(parse_qsl(body.decode() if isinstance(body, bytes) else body or ""))
        if "client_assertion" in form:
            assertions.append(form["client_assertion"])

    hook.client.transport.session.hooks["response"].append(record)
    return assertions


def der_sha256(der_base64: str) -> str:
    """Base64url SHA-256 of a DER certificate given in base64 (an ``x5c`` entry)."""
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(base64.b64decode(der_base64)).digest()).decode().rstrip("=")


def sha256_thumbprint(cert_pem: str) -> str:
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(Encoding.DER)
    return der_sha256(base64.b64encode(der).decode())


@pytest.mark.parametrize("pem", ["plain", "encrypted"])
def test_certificate_in_the_pem_sends_sha256_thumbprint_and_x5c(make_hook, graph_emulator, certificate_files, pem):
    import jwt

    graph_emulator.add_certificate(certificate_files["cert_pem"])
    extras: dict[str, Any] = {"password": None, "certificate_path": certificate_files["paths"][pem]}
    if pem == "encrypted":
        extras["private_key_password"] = certificate_files["password"]
    hook = make_hook(**extras)
    assertions = sent_assertions(hook)

    assert hook.create_or_get_meeting(f"cert-sha256-{pem}").created
    [assertion] = assertions
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256"
    assert header["x5t#S256"].rstrip("=") == sha256_thumbprint(certificate_files["cert_pem"])
    assert "x5t" not in header  # no SHA-1 thumbprint
    assert [der_sha256(c) for c in header["x5c"]] == [header["x5t#S256"].rstrip("=")]  # the certificate itself


def test_key_alone_with_a_thumbprint_falls_back_to_the_sha1_form(
    make_hook, graph_emulator, certificate_files, tmp_path
):
    import jwt

    graph_emulator.add_certificate(certificate_files["cert_pem"])
    key_only = tmp_path / "key-only.pem"
    key_only.write_text(certificate_files["key_pem"])
    hook = make_hook(
        password=None, certificate_path=str(key_only), certificate_thumbprint=certificate_files["thumbprint"]
    )
    assertions = sent_assertions(hook)

    assert hook.create_or_get_meeting("cert-sha1").created
    header = jwt.get_unverified_header(assertions[0])
    assert header["alg"] == "RS256" and "x5t" in header
    assert "x5t#S256" not in header and "x5c" not in header
    assert Path(key_only).read_text() == certificate_files["key_pem"]


def test_an_ec_key_is_refused_before_any_request(make_hook, graph_emulator, certificate_files, tmp_path):
    # Entra verifies client assertions signed with RS256/PS256 only
    # (https://learn.microsoft.com/entra/identity-platform/certificate-credentials); without
    # the check PyJWT fails inside MSAL with "InvalidKeyError ... got: ECPrivateKey".
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from airflow_provider_meetings.graph.errors import ConnectionConfigError

    key_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    path = tmp_path / "ec-app.pem"
    path.write_text(key_pem + certificate_files["cert_pem"])
    hook = make_hook(password=None, certificate_path=str(path))

    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("cert-ec")
    assert caught.value.field == "certificate_path"
    assert (
        "private key of type EC" in str(caught.value) and "RSA" in str(caught.value) and str(path) in str(caught.value)
    )
    assert key_pem.splitlines()[1] not in str(caught.value)
    stats = graph_emulator.stats()
    assert (stats["token_requests"], stats["graph_requests"]) == (0, 0)
