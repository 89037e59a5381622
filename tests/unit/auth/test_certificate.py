"""Certificate credentials: thumbprints, PEM files, MSAL's credential forms, RSA keys only."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.auth.certificate import (
    certificate_credential,
    normalize_thumbprint,
    read_certificate_credential,
    split_pem,
)
from airflow_provider_meetings.graph.errors import ConnectionConfigError
from airflow_provider_meetings.graph.settings import parse_connection

HEX = "0123456789ABCDEF0123456789ABCDEF01234567"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(HEX, id="plain"),
        pytest.param(HEX.lower(), id="lower case"),
        pytest.param(":".join(HEX[i : i + 2] for i in range(0, 40, 2)), id="openssl colons"),
        pytest.param("SHA1 Fingerprint=" + ":".join(HEX[i : i + 2] for i in range(0, 40, 2)), id="openssl line"),
        pytest.param(" ".join(HEX[i : i + 4] for i in range(0, 40, 4)), id="spaces"),
        pytest.param(f"  {HEX}\n", id="surrounding white space"),
    ],
)
def test_thumbprints_are_normalized(value):
    assert normalize_thumbprint(value) == HEX


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(HEX[:-1], id="39 digits (odd length)"),
        pytest.param(HEX + "00", id="42 digits"),
        pytest.param(HEX[:-1] + "G", id="not hex"),
        pytest.param("a" * 64, id="a SHA-256 thumbprint"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_thumbprints_name_the_field(value):
    with pytest.raises(ConnectionConfigError) as caught:
        normalize_thumbprint(value)
    assert caught.value.field == "certificate_thumbprint" and "40 hex digits" in str(caught.value)


def test_a_bad_thumbprint_is_refused_when_the_connection_is_read():
    extra = {"tenant_id": "t", "certificate_path": "/x.pem", "certificate_thumbprint": "AB:CD"}
    with pytest.raises(ConnectionConfigError) as caught:
        parse_connection(login="client", password=None, host=None, extra=extra)
    assert caught.value.field == "certificate_thumbprint"


def test_split_pem_finds_key_and_certificate(certificate_files):
    bundle = split_pem((certificate_files["key_pem"] + certificate_files["cert_pem"]).encode(), "app.pem")
    assert bundle.private_key.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert bundle.certificate is not None and bundle.certificate.startswith(b"-----BEGIN CERTIFICATE-----")
    assert b"PRIVATE" not in repr(bundle).encode()


def test_with_the_certificate_msal_gets_it_for_sha256_and_x5c(certificate_files):
    credential = read_certificate_credential(certificate_files["paths"]["plain"], thumbprint=None, password=None)
    assert set(credential) == {"private_key", "public_certificate"}  # MSAL then signs PS256 with x5t#S256


def test_a_matching_thumbprint_is_accepted_beside_the_certificate(certificate_files):
    colons = ":".join(certificate_files["thumbprint"][i : i + 2] for i in range(0, 40, 2))
    credential = read_certificate_credential(certificate_files["paths"]["plain"], thumbprint=colons, password=None)
    assert "public_certificate" in credential and "thumbprint" not in credential


def test_a_thumbprint_that_does_not_match_the_certificate_is_refused(certificate_files):
    with pytest.raises(ConnectionConfigError) as caught:
        read_certificate_credential(certificate_files["paths"]["plain"], thumbprint=HEX, password=None)
    assert caught.value.field == "certificate_thumbprint" and "does not match" in str(caught.value)


def test_key_alone_uses_the_sha1_thumbprint(certificate_files):
    pem = certificate_files["key_pem"].encode()
    credential = certificate_credential(pem, path="key.pem", thumbprint=certificate_files["thumbprint"], password=None)
    assert credential["thumbprint"] == certificate_files["thumbprint"].upper()
    with pytest.raises(ConnectionConfigError, match="holds no PEM certificate"):
        certificate_credential(pem, path="key.pem", thumbprint=None, password=None)


def test_encrypted_key_needs_its_password(certificate_files):
    path = certificate_files["paths"]["encrypted"]
    credential = read_certificate_credential(path, thumbprint=None, password=certificate_files["password"])
    assert credential["passphrase"] == certificate_files["password"]
    with pytest.raises(ConnectionConfigError) as caught:
        read_certificate_credential(path, thumbprint=None, password=None)
    assert caught.value.field == "private_key_password"


def _key_pem(kind: str, fmt: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

    key = {
        "RSA": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "EC": lambda: ec.generate_private_key(ec.SECP256R1()),
        "Ed25519": ed25519.Ed25519PrivateKey.generate,
        "DSA": lambda: dsa.generate_private_key(key_size=2048),
    }[kind]()
    encoding = serialization.PrivateFormat.PKCS8 if fmt == "pkcs8" else serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, encoding, serialization.NoEncryption())


@pytest.mark.parametrize(
    ("kind", "fmt", "accepted"),
    [
        pytest.param("RSA", "pkcs8", True, id="RSA (BEGIN PRIVATE KEY)"),
        pytest.param("RSA", "traditional", True, id="RSA (BEGIN RSA PRIVATE KEY)"),
        pytest.param("EC", "pkcs8", False, id="EC P-256 (BEGIN PRIVATE KEY)"),
        pytest.param("EC", "traditional", False, id="EC P-256 (BEGIN EC PRIVATE KEY)"),
        pytest.param("Ed25519", "pkcs8", False, id="Ed25519"),
        pytest.param("DSA", "pkcs8", False, id="DSA (BEGIN PRIVATE KEY)"),
        pytest.param("DSA", "traditional", False, id="DSA (BEGIN DSA PRIVATE KEY)"),
    ],
)
def test_only_an_rsa_key_is_accepted(certificate_files, kind, fmt, accepted):
    # Entra verifies client assertions signed with RS256/PS256 only
    # (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
    pem = _key_pem(kind, fmt) + certificate_files["cert_pem"].encode()
    if accepted:
        assert "public_certificate" in certificate_credential(pem, path="app.pem", thumbprint=None, password=None)
        return
    with pytest.raises(ConnectionConfigError) as caught:
        certificate_credential(pem, path="app.pem", thumbprint=None, password=None)
    message = str(caught.value)
    assert caught.value.field == "certificate_path"
    assert f"holds a private key of type {kind}" in message and "RSA" in message and "RS256 or PS256" in message
    assert "openssl req -x509 -newkey rsa:2048" in message and "certificate-credentials" in message
    assert "PRIVATE KEY-----" not in message  # the key itself is never in the error
