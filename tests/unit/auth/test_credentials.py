"""Credentials: the mapping from a connection's fields, and what each class tells the token source."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.auth.credentials import (
    PUBLIC,
    Certificate,
    ClientSecret,
    DeviceCode,
    FederatedTokenFile,
    Grant,
    RefreshToken,
    WorkloadIdentity,
    credential_from_connection,
)
from airflow_provider_meetings.graph.errors import ConnectionConfigError

HEX = "0123456789ABCDEF0123456789ABCDEF01234567"
ENV_FILE = "/var/run/secrets/azure/tokens/azure-identity-token"


def credential(password=None, environ=None, require_credential=True, **extras):
    return credential_from_connection(
        password=password, extras=extras, environ=environ or {}, require_credential=require_credential
    )


# -- the mapping from a connection -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"password": "s3cret"}, ClientSecret("s3cret"), id="password: client secret"),
        pytest.param(
            {"certificate_path": "/k.pem", "certificate_thumbprint": HEX.lower(), "private_key_password": "pw"},
            Certificate("/k.pem", HEX, "pw"),
            id="certificate, thumbprint normalized",
        ),
        pytest.param({"certificate_path": "/k.pem"}, Certificate("/k.pem"), id="certificate alone"),
        pytest.param({"federated_token_file": "/t"}, WorkloadIdentity("/t"), id="federated token file"),
        pytest.param({"environ": {"AZURE_FEDERATED_TOKEN_FILE": ENV_FILE}}, WorkloadIdentity(ENV_FILE), id="env file"),
        pytest.param(
            {"password": "s3cret", "environ": {"AZURE_FEDERATED_TOKEN_FILE": ENV_FILE}},
            ClientSecret("s3cret"),
            id="a secret wins over the environment",
        ),
        pytest.param({"refresh_token": "0.AR"}, RefreshToken("0.AR"), id="refresh token alone: public client"),
        pytest.param(
            {"refresh_token": "0.AR", "environ": {"AZURE_FEDERATED_TOKEN_FILE": ENV_FILE}},
            RefreshToken("0.AR"),
            id="the environment's file does not make a refresh token confidential",
        ),
        pytest.param(
            {"refresh_token": "0.AR", "password": "s3cret"},
            RefreshToken("0.AR", ClientSecret("s3cret")),
            id="refresh token with a secret",
        ),
        pytest.param(
            {"refresh_token": "0.AR", "certificate_path": "/k.pem"},
            RefreshToken("0.AR", Certificate("/k.pem")),
            id="refresh token with a certificate",
        ),
        pytest.param(
            {"refresh_token": "0.AR", "federated_token_file": "/t"},
            RefreshToken("0.AR", WorkloadIdentity("/t")),
            id="refresh token with a federated token file",
        ),
        pytest.param(
            {"refresh_token": " 0.AR\n"}, RefreshToken("0.AR", None), id="refresh token pasted with white space"
        ),
        pytest.param(
            {"refresh_token": "\n", "password": "s3cret"}, ClientSecret("s3cret"), id="refresh token of white space"
        ),
        pytest.param({"require_credential": False}, DeviceCode(), id="nothing, for login: device code"),
        pytest.param(
            {"require_credential": False, "environ": {"AZURE_FEDERATED_TOKEN_FILE": ENV_FILE}},
            DeviceCode(),
            id="login ignores the environment's file",
        ),
        pytest.param(
            {"require_credential": False, "password": "s3cret"}, ClientSecret("s3cret"), id="login with a secret"
        ),
    ],
)
def test_a_connection_maps_to_one_credential(fields, expected):
    assert credential(**fields) == expected


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        pytest.param({}, "password", "no credential: set the client secret", id="none at all"),
        pytest.param(
            {"password": "s", "certificate_path": "/k.pem"}, "certificate_path", "keep one credential", id="secret+cert"
        ),
        pytest.param(
            {"password": "s", "federated_token_file": "/t"}, "federated_token_file", "keep one", id="secret+federated"
        ),
        pytest.param(
            {"certificate_path": "/k.pem", "federated_token_file": "/t"},
            "federated_token_file",
            "keep one",
            id="cert+federated",
        ),
        pytest.param(
            {"certificate_path": "/k.pem", "certificate_thumbprint": "AB:CD"},
            "certificate_thumbprint",
            "40 hex digits",
            id="bad thumbprint",
        ),
    ],
)
def test_a_wrong_combination_names_its_field(fields, field, fragment):
    with pytest.raises(ConnectionConfigError) as caught:
        credential(**fields)
    assert caught.value.field == field and fragment in str(caught.value)
    assert "s3cret" not in str(caught.value)


# -- what each class tells the token source ----------------------------------------------------


@pytest.mark.parametrize(
    ("cred", "kind", "grant", "description"),
    [
        pytest.param(
            ClientSecret("s"), "secret", Grant.CLIENT_CREDENTIALS, "app-only with a client secret", id="secret"
        ),
        pytest.param(
            Certificate("/k.pem"), "certificate", Grant.CLIENT_CREDENTIALS, "app-only with a certificate", id="cert"
        ),
        pytest.param(
            WorkloadIdentity("/t"), "federated", Grant.CLIENT_CREDENTIALS, "app-only with a federated token", id="wif"
        ),
        pytest.param(
            RefreshToken("r"),
            PUBLIC,
            Grant.REFRESH_TOKEN,
            "delegated (refresh token) as a public client, without a credential",
            id="refresh token, public",
        ),
        pytest.param(
            RefreshToken("r", ClientSecret("s")),
            "secret",
            Grant.REFRESH_TOKEN,
            "delegated (refresh token) with a client secret",
            id="refresh token, confidential",
        ),
        pytest.param(DeviceCode(), PUBLIC, Grant.DEVICE_CODE, "device code", id="device code"),
    ],
)
def test_kind_grant_and_description(cred, kind, grant, description):
    assert (cred.kind, cred.grant) == (kind, grant)
    assert description in cred.description


def test_a_client_secret_is_msal_s_credential_and_a_secret():
    cred = ClientSecret("s3cret")
    assert cred.client_credential(pytest.fail) == "s3cret"
    assert cred.secrets() == ("s3cret",)


def test_a_certificate_reads_its_file_when_asked(certificate_files):
    path = certificate_files["paths"]["encrypted"]
    cred = Certificate(path, password=certificate_files["password"])
    assert set(cred.client_credential(pytest.fail)) == {"private_key", "public_certificate", "passphrase"}
    assert cred.secrets() == (certificate_files["password"],)
    assert Certificate(path).secrets() == ()
    with pytest.raises(ConnectionConfigError) as caught:
        Certificate("/nowhere/app.pem").client_credential(pytest.fail)
    assert caught.value.field == "certificate_path" and "cannot read '/nowhere/app.pem'" in str(caught.value)


def test_workload_identity_reads_the_file_now_and_again_for_msal(tmp_path):
    masked: list[str] = []
    path = tmp_path / "token"
    path.write_text("first.jwt.value\n")
    cred = WorkloadIdentity(str(path))
    client_credential = cred.client_credential(masked.append)
    assert masked == ["first.jwt.value"]  # read (and checked) when the MSAL app is built
    path.write_text("second.jwt.value")
    assert client_credential["client_assertion"]() == "second.jwt.value"
    assert cred.secrets() == ()
    with pytest.raises(ConnectionConfigError) as caught:
        WorkloadIdentity(str(tmp_path / "missing")).client_credential(masked.append)
    assert caught.value.field == "federated_token_file"


def test_a_refresh_token_presents_its_client_s_credential_or_none():
    assert RefreshToken("r").client_credential(pytest.fail) is None
    assert RefreshToken("r", ClientSecret("s")).client_credential(pytest.fail) == "s"
    assert RefreshToken("r").secrets() == ("r",)
    assert RefreshToken("r", ClientSecret("s")).secrets() == ("r", "s")


def test_a_device_code_sign_in_is_a_public_client_without_secrets():
    assert DeviceCode().client_credential(pytest.fail) is None
    assert DeviceCode().secrets() == ()


@pytest.mark.parametrize(
    "cred",
    [
        pytest.param(ClientSecret("s3cret-value"), id="secret"),
        pytest.param(Certificate("/k.pem", HEX, "s3cret-value"), id="certificate password"),
        pytest.param(RefreshToken("s3cret-value"), id="refresh token"),
        pytest.param(RefreshToken("s3cret-value", ClientSecret("s3cret-value")), id="refresh token and secret"),
    ],
)
def test_no_secret_in_repr_or_str(cred):
    for text in (repr(cred), str(cred), f"{cred}", repr([cred])):
        assert "s3cret-value" not in text
        assert "<hidden>" in text
    assert type(cred).__name__ in repr(cred)


def test_repr_keeps_what_is_not_secret():
    assert repr(Certificate("/k.pem", HEX)) == f"Certificate(path='/k.pem', thumbprint='{HEX}', password=None)"
    assert repr(WorkloadIdentity("/t")) == "WorkloadIdentity(token_file='/t')"
    assert repr(FederatedTokenFile("/t", print)) == "FederatedTokenFile(path='/t')"


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
