"""Entra ID side of the emulator, driven by real MSAL over HTTPS."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from emulator_testlib import (
    GRAPH_SCOPE,
    assert_entra_error,
    claims,
    create_path,
    make_app,
    make_certificate,
    make_session,
    post_token,
    secret_form,
)

from meetings_emulator.client_credentials import CLIENT_ASSERTION_TYPE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certificate() -> tuple[str, str, Any]:
    return make_certificate()


def test_openid_configuration_points_at_the_emulator(emu: Any) -> None:
    session = make_session(emu.ca_path)
    config = session.get(f"{emu.url}/{emu.tenant_id}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token"
    assert config["authorization_endpoint"].startswith(f"{emu.url}/{emu.tenant_id}/")
    assert config["issuer"] == f"{emu.url}/{emu.tenant_id}/v2.0"
    by_domain = session.get(f"{emu.url}/contoso.example/v2.0/.well-known/openid-configuration")
    assert by_domain.status_code == 200


def test_openid_configuration_unknown_tenant(emu: Any) -> None:
    response = make_session(emu.ca_path).get(f"{emu.url}/{uuid.uuid4()}/v2.0/.well-known/openid-configuration")
    assert_entra_error(response, 400, "invalid_tenant", 90002)


def test_msal_refuses_unknown_tenant_at_construction(emu: Any) -> None:
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        make_app(emu, authority=f"{emu.url}/{uuid.uuid4()}")


def test_client_secret_token(emu: Any, session: Any) -> None:
    result = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3600
    token = result["access_token"]
    assert token.count(".") == 2  # a JWT, as Graph's access tokens are
    response = session.post(
        f"{emu.url}/v1.0{create_path(emu.default_user_id)}",
        json={"externalId": "secret"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert emu.stats()["token_requests"] == 1


def test_raw_token_response_fields(emu: Any) -> None:
    response = post_token(emu, secret_form(emu, "https://graph.microsoft.us/.default"))
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == 3600
    assert "no-store" in response.headers["Cache-Control"]


def test_tokens_are_unique(emu: Any) -> None:
    form = secret_form(emu)
    tokens = {post_token(emu, form).json()["access_token"] for _ in range(5)}
    assert len(tokens) == 5


@pytest.mark.parametrize(
    "scope",
    [
        "https://graph.microsoft.com/.default",
        "https://graph.microsoft.us/.default",
        "https://dod-graph.microsoft.us/.default",
        "https://microsoftgraph.chinacloudapi.cn/.default",
        "https://graph.microsoft.com/.default offline_access openid profile",
        "EMULATOR/.default",
    ],
)
def test_accepted_scopes(emu: Any, scope: str) -> None:
    assert post_token(emu, secret_form(emu, scope.replace("EMULATOR", emu.url))).status_code == 200


@pytest.mark.parametrize(
    ("form_changes", "status", "error", "code"),
    [
        pytest.param(
            {"client_id": "00000000-0000-0000-0000-000000000001"},
            400,
            "unauthorized_client",
            700016,
            id="unknown-client",
        ),
        pytest.param({"client_secret": "wrong"}, 401, "invalid_client", 7000215, id="wrong-secret"),
        pytest.param(
            {"client_secret": "emulator-expired-secret~not-for-production"},
            401,
            "invalid_client",
            7000222,
            id="expired-secret",
        ),
        pytest.param({"client_secret": None}, 401, "invalid_client", 7000218, id="no-credential"),
        # RFC 6749 2.3: one authentication method per request, else invalid_request (5.2); the
        # AADSTS number is assumed (InvalidRequest), not 90015 QueryStringTooLong (docs/emulator.md)
        pytest.param(
            {"client_assertion": "a.b.c", "client_assertion_type": CLIENT_ASSERTION_TYPE},
            400,
            "invalid_request",
            90023,
            id="two-credentials",
        ),
        pytest.param(
            {"scope": "https://graph.microsoft.com/User.Read"},
            400,
            "invalid_scope",
            1002012,
            id="scope-without-default",
        ),
        pytest.param({"scope": "https://example.org/.default"}, 400, "invalid_resource", 500011, id="unknown-resource"),
        pytest.param({"scope": None}, 400, "invalid_request", 900144, id="no-scope"),
        pytest.param({"grant_type": "password"}, 400, "unsupported_grant_type", 70003, id="grant-type"),
    ],
)
def test_token_errors(emu: Any, form_changes: dict[str, Any], status: int, error: str, code: int) -> None:
    form = {**secret_form(emu), **form_changes}
    body = assert_entra_error(post_token(emu, {k: v for k, v in form.items() if v is not None}), status, error, code)
    assert emu.client_secret not in body["error_description"]
    assert emu.stats()["token_errors"] == 1


def test_unknown_tenant_on_token_endpoint(emu: Any) -> None:
    assert_entra_error(post_token(emu, secret_form(emu), tenant="nosuchtenant.example"), 400, "invalid_request", 90002)


def test_msal_wrong_secret_comes_back_as_dict(emu: Any) -> None:
    result = make_app(emu, credential="not-the-secret").acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215:")
    assert result["error_codes"] == [7000215]


def test_msal_certificate_thumbprint_rs256(emu: Any, certificate: tuple[str, str, Any]) -> None:
    from cryptography.hazmat.primitives import hashes

    key_pem, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()
    result = make_app(emu, {"private_key": key_pem, "thumbprint": thumbprint}).acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result


def test_msal_certificate_public_certificate_ps256(emu: Any, certificate: tuple[str, str, Any]) -> None:
    key_pem, cert_pem, _ = certificate
    emu.add_certificate(cert_pem)
    credential = {"private_key": key_pem, "public_certificate": cert_pem}
    result = make_app(emu, credential).acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result


class RecordingSession:
    """Wraps a real requests session and keeps the client assertions MSAL posts."""

    def __init__(self, ca_path: str) -> None:
        self._session = make_session(ca_path)
        self.assertions: list[str] = []

    def post(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("client_assertion"):
            self.assertions.append(data["client_assertion"])
        return self._session.post(url, data=data, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._session.get(url, **kwargs)

    def close(self) -> None:
        self._session.close()


@pytest.mark.parametrize(
    ("form", "alg", "header"),
    [
        pytest.param("thumbprint", "RS256", {"x5t"}, id="sha1-thumbprint-rs256-deprecated"),
        pytest.param("public_certificate", "PS256", {"x5t#S256", "x5c"}, id="sha256-thumbprint-ps256-x5c"),
    ],
)
def test_msal_certificate_forms_are_both_accepted(
    emu: Any, certificate: tuple[str, str, Any], form: str, alg: str, header: set[str]
) -> None:
    import jwt
    from cryptography.hazmat.primitives import hashes

    key_pem, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    credential = {"private_key": key_pem}
    if form == "thumbprint":
        credential["thumbprint"] = cert.fingerprint(hashes.SHA1()).hex()
    else:
        credential["public_certificate"] = cert_pem
    recorder = RecordingSession(emu.ca_path)
    result = make_app(emu, credential, http_client=recorder).acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result
    assert claims(result["access_token"])["appidacr"] == "2"
    [assertion] = recorder.assertions
    sent = jwt.get_unverified_header(assertion)
    assert sent["alg"] == alg and header <= set(sent), sent
    if form == "thumbprint":
        assert "x5t#S256" not in sent and "x5c" not in sent


def _assertion_claims(emu: Any, *, exp_delta: int = 0, **overrides: Any) -> dict[str, Any]:
    """The claims of a client assertion the emulator accepts, with ``overrides`` applied."""
    now = int(time.time())
    claims = {
        "iss": emu.client_id,
        "sub": emu.client_id,
        "aud": f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token",
        "exp": now + 600 + exp_delta,
        "iat": now - 10,
        "jti": str(uuid.uuid4()),
    }
    return {**claims, **overrides}


def _assertion_form(emu: Any, assertion: str) -> dict[str, str]:
    """A client credentials grant authenticated by ``assertion``."""
    return {
        "grant_type": "client_credentials",
        "client_id": emu.client_id,
        "scope": GRAPH_SCOPE[0],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }


def test_sha256_thumbprint_alone_identifies_the_certificate(emu: Any, certificate: tuple[str, str, Any]) -> None:
    # Without x5c, the emulator finds the registered certificate by its SHA-256 thumbprint.
    import base64

    import jwt
    from cryptography.hazmat.primitives import hashes

    key_pem, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    x5t256 = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
    payload = _assertion_claims(emu)
    form = _assertion_form(emu, jwt.encode(payload, key_pem, algorithm="PS256", headers={"x5t#S256": x5t256}))
    assert post_token(emu, form).status_code == 200


def test_es256_assertion_is_refused_even_with_a_registered_ec_certificate(emu: Any) -> None:
    # Entra verifies certificate client assertions signed with RS256 or PS256 only
    # (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
    import base64

    import jwt
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from meetings_emulator.certs import make_app_certificate

    key = ec.generate_private_key(ec.SECP256R1())
    app_cert = make_app_certificate("ec-app", days=1, key=key)
    cert = app_cert.cert
    emu.add_certificate(app_cert.cert_pem)
    x5t256 = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA256())).rstrip(b"=").decode()
    assertion = jwt.encode(_assertion_claims(emu), key, algorithm="ES256", headers={"x5t#S256": x5t256})
    response = post_token(emu, _assertion_form(emu, assertion))
    assert response.status_code == 401, response.text
    body = response.json()
    assert (
        body["error"] == "invalid_client"
        and "'ES256' is not a supported signature algorithm" in body["error_description"]
    )
    assert "access_token" not in body


def test_certificate_not_registered(emu: Any) -> None:
    key_pem, cert_pem, _ = make_certificate("unregistered")
    result = make_app(emu, {"private_key": key_pem, "public_certificate": cert_pem}).acquire_token_for_client(
        GRAPH_SCOPE
    )
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_certificate_signed_by_another_key(emu: Any, certificate: tuple[str, str, Any]) -> None:
    from cryptography.hazmat.primitives import hashes

    _, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    other_key, _, _ = make_certificate("other")
    thumbprint = cert.fingerprint(hashes.SHA1()).hex()
    result = make_app(emu, {"private_key": other_key, "thumbprint": thumbprint}).acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000274]


def _assertion(key_pem: str, cert: Any, **claims: Any) -> str:
    import base64

    import jwt
    from cryptography.hazmat.primitives import hashes

    x5t = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()
    return jwt.encode(claims, key_pem, algorithm="RS256", headers={"x5t": x5t})


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        pytest.param({"exp_delta": -3600}, 700024, id="expired"),
        pytest.param({"aud": "https://login.microsoftonline.com/x/oauth2/v2.0/token"}, 700212, id="wrong-aud"),
        pytest.param({"sub": "someone-else"}, 700021, id="wrong-sub"),
    ],
)
def test_certificate_assertion_claims_are_checked(
    emu: Any, certificate: tuple[str, str, Any], claims: dict[str, Any], code: int
) -> None:
    key_pem, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    payload = _assertion_claims(emu, **claims)
    form = _assertion_form(emu, _assertion(key_pem, cert, **payload))
    body = assert_entra_error(post_token(emu, form), 401, "invalid_client", code)
    assert form["client_assertion"] not in body["error_description"]


def test_valid_hand_made_assertion_is_accepted(emu: Any, certificate: tuple[str, str, Any]) -> None:
    key_pem, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    payload = _assertion_claims(emu)
    form = _assertion_form(emu, _assertion(key_pem, cert, **payload))
    assert post_token(emu, form).status_code == 200


def _federated_jwt(
    key_pem: str, issuer: str, subject: str, audience: str = "api://AzureADTokenExchange", exp_delta: int = 600
) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode(
        {"iss": issuer, "sub": subject, "aud": audience, "exp": now + exp_delta, "iat": now}, key_pem, algorithm="RS256"
    )


def public_key_pem(cert: Any) -> str:
    """The certificate's public key as PEM, as an app registration's federated credential holds it."""
    from cryptography.hazmat.primitives import serialization

    return (
        cert.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_federated_assertion_with_configured_key(emu: Any) -> None:
    key_pem, _, cert = make_certificate("workload")
    public_pem = public_key_pem(cert)
    issuer, subject = "https://token.actions.example", "system:serviceaccount:airflow:worker"
    emu.add_federated_credential(issuer, subject, public_key_pem=public_pem)
    token = _federated_jwt(key_pem, issuer, subject)
    app = make_app(emu, {"client_assertion": lambda: token})
    assert "access_token" in app.acquire_token_for_client(GRAPH_SCOPE)

    forged_key, _, _ = make_certificate("forger")
    forged_jwt = _federated_jwt(forged_key, issuer, subject)
    forged = make_app(emu, {"client_assertion": lambda: forged_jwt})
    result = forged.acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"


def test_federated_assertion_without_key_checks_iss_sub_aud_exp(emu: Any) -> None:
    key_pem, _, _ = make_certificate("any")
    issuer, subject = "https://oidc.example", "repo:org/app:ref:refs/heads/main"
    emu.add_federated_credential(issuer, subject)
    ok = _federated_jwt(key_pem, issuer, subject)
    assert "access_token" in make_app(emu, {"client_assertion": lambda: ok}).acquire_token_for_client(GRAPH_SCOPE)
    cases = {
        70021: _federated_jwt(key_pem, issuer, "other-subject"),
        700212: _federated_jwt(key_pem, issuer, subject, audience="api://other"),
        700024: _federated_jwt(key_pem, issuer, subject, exp_delta=-3600),
    }
    for code, assertion in cases.items():
        assert_entra_error(post_token(emu, _assertion_form(emu, assertion)), 401, "invalid_client", code)


def test_refresh_token_gives_a_delegated_token(emu: Any, session: Any) -> None:
    result = make_app(emu).acquire_token_by_refresh_token(emu.refresh_token, GRAPH_SCOPE)
    assert "access_token" in result, result
    assert result["refresh_token"]
    assert result["id_token_claims"]["oid"] == emu.default_user_id
    response = session.post(
        f"{emu.url}/v1.0/me/onlineMeetings/createOrGet",
        json={"externalId": "delegated"},
        headers={"Authorization": f"Bearer {result['access_token']}"},
    )
    assert response.status_code == 201
    assert response.json()["participants"]["organizer"]["identity"]["user"]["id"] == emu.default_user_id


def test_unknown_refresh_token(emu: Any) -> None:
    result = make_app(emu).acquire_token_by_refresh_token("not-a-refresh-token", GRAPH_SCOPE)
    assert result["error"] == "invalid_grant"


def test_token_lifetime_is_configurable() -> None:
    from meetings_emulator import run_emulator

    with run_emulator(token_lifetime=120) as emu:
        assert make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["expires_in"] == 120


def test_a_signed_assertion_without_exp_fails_the_time_check_as_an_unsigned_one_does(
    emu: Any, certificate: tuple[str, str, Any]
) -> None:
    # One check of the time claims for signed and unsigned assertions: a missing exp is
    # AADSTS700024 ("not within its valid time range"), not a signature failure (7000274).
    key_pem, cert_pem, cert = certificate
    emu.add_certificate(cert_pem)
    payload = {k: v for k, v in _assertion_claims(emu).items() if k != "exp"}
    assert_entra_error(
        post_token(emu, _assertion_form(emu, _assertion(key_pem, cert, **payload))), 401, "invalid_client", 700024
    )
    issuer, subject = "https://oidc.example", "repo:org/app:ref:refs/heads/main"
    emu.add_federated_credential(issuer, subject)
    unsigned = _assertion(key_pem, cert, iss=issuer, sub=subject, aud="api://AzureADTokenExchange")
    assert_entra_error(post_token(emu, _assertion_form(emu, unsigned)), 401, "invalid_client", 700024)


def test_an_unsigned_federated_assertion_issued_in_the_future_is_refused_as_a_signed_one_is(emu: Any) -> None:
    key_pem, _, cert = make_certificate("workload")
    public_pem = public_key_pem(cert)
    later = int(time.time()) + 3600
    claims = {"sub": "worker", "aud": "api://AzureADTokenExchange", "exp": later + 600, "iat": later}
    emu.add_federated_credential("https://signed.example", "worker", public_key_pem=public_pem)
    emu.add_federated_credential("https://unsigned.example", "worker")
    for issuer in ("https://signed.example", "https://unsigned.example"):
        assertion = _jwt({"iss": issuer, **claims}, key_pem)
        assert_entra_error(post_token(emu, _assertion_form(emu, assertion)), 401, "invalid_client", 700024)


def _jwt(claims: dict[str, Any], key_pem: str) -> str:
    import jwt

    return jwt.encode(claims, key_pem, algorithm="RS256")


def test_every_entra_error_echoes_the_client_request_id(emu: Any) -> None:
    # docs/emulator.md: Entra's errors carry correlation_id = the request's client-request-id,
    # the discovery endpoints' and a scripted token fault's too.
    session = make_session(emu.ca_path)
    headers = {"client-request-id": str(uuid.uuid4())}
    unknown = uuid.uuid4()
    discovery = session.get(f"{emu.url}/{unknown}/v2.0/.well-known/openid-configuration", headers=headers)
    keys = session.get(f"{emu.url}/{unknown}/discovery/v2.0/keys", headers=headers)
    token = session.post(f"{emu.url}/{unknown}/oauth2/v2.0/token", data=secret_form(emu), headers=headers)
    emu.script(503, target="token")
    faulted = session.post(f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token", data=secret_form(emu), headers=headers)
    assert faulted.status_code == 503
    for response in (discovery, keys, token, faulted):
        assert response.json()["correlation_id"] == headers["client-request-id"], response.url
    assert all("no-store" in r.headers["Cache-Control"] for r in (discovery, keys, token, faulted))
