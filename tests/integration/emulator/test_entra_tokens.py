"""Access tokens shaped like Entra's Graph tokens, app roles, and what Graph does with them (real MSAL, HTTPS)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from emulator_testlib import (
    GRAPH_SCOPE,
    claims,
    create_or_get,
    create_path,
    make_app,
    make_session,
    post_token,
    secret_form,
)

pytestmark = pytest.mark.integration

US_GOV_SCOPE = ["https://graph.microsoft.us/.default"]


def create(emu: Any, token: str, user: str | None = None, external_id: str = "x") -> Any:
    return create_or_get(emu, token, external_id, user or emu.default_user_id)


def assert_graph_error(response: Any, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (code, message)
    assert error["innerError"]["request-id"] == response.headers["request-id"]


def test_app_token_carries_graph_claims(emu: Any) -> None:
    before = int(time.time())
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    decoded = claims(token)
    assert decoded["aud"] == "https://graph.microsoft.com"
    assert decoded["iss"] == f"https://sts.windows.net/{emu.tenant_id}/"
    assert decoded["tid"] == emu.tenant_id
    assert decoded["appid"] == emu.client_id
    assert decoded["appidacr"] == "1"  # client secret
    assert decoded["idtyp"] == "app"
    assert decoded["ver"] == "1.0"
    assert decoded["roles"] == [
        "Calendars.ReadWrite",
        "OnlineMeetingArtifact.Read.All",
        "OnlineMeetingRecording.Read.All",
        "OnlineMeetingTranscript.Read.All",
        "OnlineMeetings.ReadWrite.All",
        "User.Read.All",
    ]
    assert "scp" not in decoded
    assert decoded["oid"] == decoded["sub"]
    assert before <= decoded["iat"] == decoded["nbf"] <= decoded["exp"] - 3600 + 1


def test_delegated_token_carries_scp_and_the_user(emu: Any) -> None:
    result = make_app(emu).acquire_token_by_refresh_token(emu.refresh_token, GRAPH_SCOPE)
    decoded = claims(result["access_token"])
    assert decoded["scp"] == (
        "Calendars.ReadWrite OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All "
        "OnlineMeetingTranscript.Read.All OnlineMeetings.ReadWrite User.Read"
    )
    assert "roles" not in decoded
    assert decoded["oid"] == emu.default_user_id
    assert decoded["upn"] == "adelev@contoso.example"
    assert decoded["idtyp"] == "user"
    assert decoded["aud"] == "https://graph.microsoft.com"


def test_token_signature_verifies_against_the_published_keys(emu: Any) -> None:
    import jwt

    session = make_session(emu.ca_path)
    metadata = session.get(f"{emu.url}/{emu.tenant_id}/v2.0/.well-known/openid-configuration", timeout=10).json()
    keys = session.get(metadata["jwks_uri"], timeout=10).json()["keys"]
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == header["x5t"]
    [key] = [k for k in keys if k["kid"] == header["kid"]]
    public_key = jwt.PyJWK(key).key
    verified = jwt.decode(
        token,
        public_key,
        algorithms=["RS256"],
        audience="https://graph.microsoft.com",
        issuer=f"https://sts.windows.net/{emu.tenant_id}/",
    )
    assert verified["appid"] == emu.client_id
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, public_key, algorithms=["RS256"], audience="https://graph.microsoft.com")


def test_token_without_the_role_gets_403_on_create_or_get(emu: Any) -> None:
    # "Permission added, admin consent missing": the app token carries no roles at all.
    assert emu.set_app_roles([]) == []
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    assert "roles" not in claims(token)
    response = create(emu, token)
    assert_graph_error(response, 403, "Forbidden", "Insufficient privileges to complete the operation.")
    assert emu.meetings() == []


def test_a_role_granted_later_needs_a_new_token(emu: Any) -> None:
    emu.set_app_roles(["User.Read.All"])
    old = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    assert claims(old)["roles"] == ["User.Read.All"]
    emu.set_app_roles(["OnlineMeetings.ReadWrite.All"])
    assert create(emu, old).status_code == 403  # roles are fixed when the token is issued
    fresh = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]  # a new app: empty MSAL cache
    assert claims(fresh)["roles"] == ["OnlineMeetings.ReadWrite.All"]
    assert create(emu, fresh).status_code == 201


def test_reset_restores_the_configured_roles(emu: Any) -> None:
    emu.set_app_roles([])
    emu.reset()
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    assert "OnlineMeetings.ReadWrite.All" in claims(token)["roles"]


def test_delegated_token_without_the_scope_gets_403() -> None:
    from meetings_emulator import run_emulator

    with run_emulator(delegated_scopes=("User.Read",)) as emu:
        token = make_app(emu).acquire_token_by_refresh_token(emu.refresh_token, GRAPH_SCOPE)["access_token"]
        response = make_session(emu.ca_path).post(
            f"{emu.url}/v1.0/me/onlineMeetings/createOrGet",
            json={"externalId": "x"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert_graph_error(response, 403, "Forbidden", "Insufficient privileges to complete the operation.")


def test_read_role_reads_but_does_not_create(emu: Any, graph: Any) -> None:
    created = graph("POST", create_path(emu.default_user_id), json={"externalId": "readable"}).json()
    emu.set_app_roles(["OnlineMeetings.Read.All"])
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    path = f"/users/{emu.default_user_id}/onlineMeetings/{created['id']}"
    assert graph("GET", path, token=token).status_code == 200
    assert create(emu, token, external_id="new").status_code == 403


def test_token_for_another_cloud_is_refused_by_the_global_graph(emu: Any) -> None:
    # A national-cloud mix-up: Entra issues a token for graph.microsoft.us, the call goes to
    # the (emulated) global Graph.
    token = make_app(emu).acquire_token_for_client(US_GOV_SCOPE)["access_token"]
    assert claims(token)["aud"] == "https://graph.microsoft.us"
    response = create(emu, token)
    assert_graph_error(
        response, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
    )
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_emulated_graph_resource_is_configurable() -> None:
    from meetings_emulator import run_emulator

    with run_emulator(graph_resource="https://graph.microsoft.us") as emu:
        us_token = make_app(emu).acquire_token_for_client(US_GOV_SCOPE)["access_token"]
        assert create(emu, us_token).status_code == 201
        global_token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        assert create(emu, global_token, external_id="other").status_code == 401
        assert emu.info()["graph_resource"] == "https://graph.microsoft.us"


def test_token_for_the_emulator_url_is_accepted(emu: Any) -> None:
    token = make_app(emu).acquire_token_for_client([f"{emu.url}/.default"])["access_token"]
    assert claims(token)["aud"] == emu.url
    assert create(emu, token).status_code == 201


def test_unknown_jwt_is_refused(emu: Any) -> None:
    import jwt

    from_elsewhere = jwt.encode({"aud": "https://graph.microsoft.com", "exp": time.time() + 600}, "k" * 32)
    response = create(emu, from_elsewhere)
    assert_graph_error(response, 401, "InvalidAuthenticationToken", "Access token validation failure.")


def test_raw_token_endpoint_answers_jwt_with_the_requested_audience(emu: Any) -> None:
    form = secret_form(emu, "https://dod-graph.microsoft.us/.default")
    assert claims(post_token(emu, form).json()["access_token"])["aud"] == "https://dod-graph.microsoft.us"


def test_keys_of_an_unknown_tenant(emu: Any) -> None:
    response = make_session(emu.ca_path).get(f"{emu.url}/nosuchtenant.example/discovery/v2.0/keys", timeout=10)
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]
    v1 = make_session(emu.ca_path).get(f"{emu.url}/common/discovery/keys", timeout=10)
    assert v1.status_code == 200 and v1.json()["keys"][0]["kty"] == "RSA"


def test_cli_app_roles_and_remote_control(tmp_path: Any) -> None:
    from meetings_emulator import start_emulator_process

    with start_emulator_process(extra_args=["--no-app-roles"], ca_file=str(tmp_path / "ca.pem")) as emu:
        assert emu.info()["app_roles"] == []
        token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        assert "roles" not in claims(token)
        assert create(emu, token).status_code == 403
        assert emu.set_app_roles(["OnlineMeetings.ReadWrite.All"]) == ["OnlineMeetings.ReadWrite.All"]
        granted = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        assert create(emu, granted).status_code == 201
    with start_emulator_process(
        extra_args=["--app-role", "OnlineMeetings.Read.All", "--graph-resource", "https://graph.microsoft.us"],
        ca_file=str(tmp_path / "ca2.pem"),
    ) as emu:
        info = emu.info()
        assert (info["app_roles"], info["graph_resource"]) == (
            ["OnlineMeetings.Read.All"],
            "https://graph.microsoft.us",
        )
        token = make_app(emu).acquire_token_for_client(US_GOV_SCOPE)["access_token"]
        assert create(emu, token).status_code == 403  # right audience, read-only role


def test_control_refuses_bad_roles(emu: Any) -> None:
    response = make_session(emu.ca_path).post(f"{emu.url}/_emulator/app-roles", json={"roles": "all"}, timeout=10)
    assert response.status_code == 400
    assert "list of permission names" in response.json()["error"]
