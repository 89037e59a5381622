"""Credential loading: thumbprints, PEM files, MSAL's credential forms, federated token files."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.credentials import (
    FederatedTokenFile,
    certificate_credential,
    normalize_thumbprint,
    read_certificate_credential,
    split_pem,
)
from airflow_provider_meetings.exceptions import ConnectionConfigError

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
    from airflow_provider_meetings.connection_settings import parse_connection

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


def test_federated_token_file_is_read_each_time_and_masked(tmp_path):
    masked: list[str] = []
    path = tmp_path / "token"
    read = FederatedTokenFile(str(path), masked.append)
    path.write_text("first.jwt.value\n")
    assert read() == "first.jwt.value"
    path.write_text("second.jwt.value")
    assert read() == "second.jwt.value"
    assert masked == ["first.jwt.value", "second.jwt.value"]
    path.write_text("  ")
    with pytest.raises(ConnectionConfigError, match="is empty"):
        read()
