"""Delegated mode as Entra does it: device code flow, public vs confidential refresh tokens, rotation, expiry.

Real MSAL (PublicClientApplication / ConfidentialClientApplication) over HTTPS; the test
plays the user by approving the device code through the control endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_testlib import (
    GRAPH_SCOPE,
    assert_entra_error,
    claims,
    create_or_get,
    make_app,
    make_public_app,
    make_session,
    post_token,
)

pytestmark = pytest.mark.integration

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def demu(quick_device_codes: Any) -> Iterator[Any]:
    quick_device_codes.reset(tokens=True, users=True)
    yield quick_device_codes
    quick_device_codes.reset(tokens=True, users=True)


def approve_later(
    emu: Any, user_code: str, user: str = "adelev@contoso.example", delay: float = 1.5
) -> threading.Thread:
    """Play the user in another thread: approve the code after the device has polled a while."""

    def approve() -> None:
        time.sleep(delay)
        emu.approve_device_code(user, user_code=user_code)

    thread = threading.Thread(target=approve, daemon=True)
    thread.start()
    return thread


def me_create(emu: Any, token: str, external_id: str = "delegated") -> Any:
    return create_or_get(emu, token, external_id)


def test_device_flow_through_msal_public_client(demu: Any) -> None:
    app = make_public_app(demu)
    flow = app.initiate_device_flow(scopes=GRAPH_SCOPE)
    assert {"device_code", "user_code", "verification_uri", "expires_in", "interval", "message"} <= set(flow), flow
    assert flow["interval"] == 1 and flow["expires_in"] == 900
    assert flow["user_code"] in flow["message"] and flow["verification_uri"] in flow["message"]
    assert demu.device_codes()[0]["state"] == "pending"
    thread = approve_later(demu, flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    thread.join()
    assert "access_token" in result, result
    assert {"refresh_token", "id_token", "scope"} <= set(result)
    assert result["id_token_claims"]["oid"] == demu.default_user_id
    decoded = claims(result["access_token"])
    assert (decoded["appidacr"], decoded["idtyp"], decoded["upn"]) == ("0", "user", "adelev@contoso.example")
    assert decoded["scp"] == (
        "Calendars.ReadWrite OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All "
        "OnlineMeetingTranscript.Read.All OnlineMeetings.ReadWrite User.Read"
    )
    assert me_create(demu, result["access_token"]).status_code == 201
    [account] = app.get_accounts()  # MSAL built its account from id_token + client_info
    assert account["username"] == "adelev@contoso.example"
    assert app.acquire_token_silent(GRAPH_SCOPE, account=account)["access_token"] == result["access_token"]
    assert demu.stats()["token_requests"] >= 2  # at least one authorization_pending before the approval
    assert demu.device_codes() == []  # redeemed codes are gone


def test_public_refresh_token_is_redeemed_without_a_credential_and_rotates(demu: Any) -> None:
    app = make_public_app(demu)
    first = app.acquire_token_by_refresh_token(demu.public_refresh_token, GRAPH_SCOPE)
    assert "access_token" in first, first
    assert first["refresh_token"] != demu.public_refresh_token
    assert claims(first["access_token"])["appidacr"] == "0"
    second = make_public_app(demu).acquire_token_by_refresh_token(first["refresh_token"], GRAPH_SCOPE)
    assert second["refresh_token"] not in (first["refresh_token"], demu.public_refresh_token)
    # "The Microsoft identity platform doesn't revoke old refresh tokens when used to fetch new access tokens."
    again = make_public_app(demu).acquire_token_by_refresh_token(first["refresh_token"], GRAPH_SCOPE)
    assert "access_token" in again, again
    assert set(demu.issued_refresh_tokens()) >= {first["refresh_token"], second["refresh_token"]}


def test_public_refresh_token_with_a_secret_is_refused(demu: Any) -> None:
    result = make_app(demu).acquire_token_by_refresh_token(demu.public_refresh_token, GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700025]
    assert result["error_description"].startswith(
        "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented."
    )


def test_public_refresh_token_with_a_certificate_is_refused(demu: Any) -> None:
    from emulator_testlib import make_certificate

    key_pem, cert_pem, _ = make_certificate()
    demu.add_certificate(cert_pem)
    credential = {"private_key": key_pem, "public_certificate": cert_pem}
    result = make_app(demu, credential).acquire_token_by_refresh_token(demu.public_refresh_token, GRAPH_SCOPE)
    assert result["error_codes"] == [700025]


def test_confidential_refresh_token_without_a_credential_is_refused(demu: Any) -> None:
    result = make_public_app(demu).acquire_token_by_refresh_token(demu.refresh_token, GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000218]
    confidential = make_app(demu).acquire_token_by_refresh_token(demu.refresh_token, GRAPH_SCOPE)
    assert claims(confidential["access_token"])["appidacr"] == "1"
    assert make_public_app(demu).acquire_token_by_refresh_token(confidential["refresh_token"], GRAPH_SCOPE)[
        "error_codes"
    ] == [7000218]  # a rotated token keeps its binding


def test_expired_refresh_tokens(demu: Any) -> None:
    rotated = make_public_app(demu).acquire_token_by_refresh_token(demu.public_refresh_token, GRAPH_SCOPE)
    assert demu.expire_refresh_tokens() >= 3
    for token in (demu.public_refresh_token, rotated["refresh_token"]):
        result = make_public_app(demu).acquire_token_by_refresh_token(token, GRAPH_SCOPE)
        assert result["error"] == "invalid_grant"
        assert result["error_codes"] == [700082]
        assert "The refresh token has expired due to inactivity." in result["error_description"]
    demu.reset()  # seeded refresh tokens are valid again
    assert "access_token" in make_public_app(demu).acquire_token_by_refresh_token(
        demu.public_refresh_token, GRAPH_SCOPE
    )


def test_refresh_token_lifetime_is_configurable() -> None:
    from meetings_emulator import run_emulator

    with run_emulator(refresh_token_lifetime=1) as emu:
        fresh = make_public_app(emu).acquire_token_by_refresh_token(emu.public_refresh_token, GRAPH_SCOPE)
        assert "access_token" in fresh, fresh
        time.sleep(1.2)
        late = make_public_app(emu).acquire_token_by_refresh_token(fresh["refresh_token"], GRAPH_SCOPE)
        assert late["error_codes"] == [700082]


def test_declined_device_code(demu: Any) -> None:
    app = make_public_app(demu)
    flow = app.initiate_device_flow(scopes=GRAPH_SCOPE)
    demu.decline_device_code()  # the only pending code
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_declined"


def device_code_form(emu: Any, device_code: str, **extra: str) -> dict[str, str]:
    return {"grant_type": DEVICE_CODE_GRANT, "client_id": emu.client_id, "device_code": device_code, **extra}


def start_device_code(
    emu: Any, scope: str = "https://graph.microsoft.com/.default offline_access openid profile"
) -> Any:
    session = make_session(emu.ca_path)
    form = {"client_id": emu.client_id, "scope": scope}
    return session.post(f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/devicecode", data=form, timeout=10)


def test_device_code_polling_errors(demu: Any) -> None:
    code = start_device_code(demu).json()
    assert_entra_error(
        post_token(demu, device_code_form(demu, code["device_code"])), 400, "authorization_pending", 70016
    )
    assert_entra_error(post_token(demu, device_code_form(demu, "no-such-code")), 400, "bad_verification_code", 70018)
    demu.approve_device_code("meganb@contoso.example", user_code=code["user_code"])
    answer = post_token(demu, device_code_form(demu, code["device_code"]))
    assert answer.status_code == 200
    assert claims(answer.json()["access_token"])["upn"] == "meganb@contoso.example"
    replay = post_token(demu, device_code_form(demu, code["device_code"]))
    assert_entra_error(replay, 400, "bad_verification_code", 70018)


def test_expired_device_code() -> None:
    from meetings_emulator import run_emulator

    with run_emulator(device_code_lifetime=1) as emu:
        code = start_device_code(emu).json()
        assert code["expires_in"] == 1
        time.sleep(1.2)
        assert_entra_error(post_token(emu, device_code_form(emu, code["device_code"])), 400, "expired_token", 70019)
        with pytest.raises(ValueError, match="expired"):
            emu.approve_device_code("adelev@contoso.example", user_code=code["user_code"])


def test_device_code_without_offline_access_gets_no_refresh_token(demu: Any) -> None:
    code = start_device_code(demu, scope="https://graph.microsoft.com/.default").json()
    demu.approve_device_code("adelev@contoso.example")
    body = post_token(demu, device_code_form(demu, code["device_code"])).json()
    assert "access_token" in body and "refresh_token" not in body and "id_token" not in body


def test_device_code_request_errors(demu: Any) -> None:
    session = make_session(demu.ca_path)
    url = f"{demu.url}/{demu.tenant_id}/oauth2/v2.0/devicecode"
    assert_entra_error(session.post(url, data={"scope": "openid"}, timeout=10), 400, "invalid_request", 900144)
    unknown = {"client_id": "00000000-0000-0000-0000-000000000001", "scope": "openid"}
    assert_entra_error(session.post(url, data=unknown, timeout=10), 400, "unauthorized_client", 700016)
    wrong_resource = {"client_id": demu.client_id, "scope": "https://example.org/.default"}
    assert_entra_error(session.post(url, data=wrong_resource, timeout=10), 400, "invalid_resource", 500011)
    other_tenant = session.post(
        f"{demu.url}/nosuchtenant.example/oauth2/v2.0/devicecode", data={"client_id": demu.client_id}, timeout=10
    )
    assert_entra_error(other_tenant, 400, "invalid_request", 90002)


def test_public_client_flows_off_needs_a_credential(demu: Any) -> None:
    demu.set_public_client_flows(False)
    app = make_public_app(demu)
    flow = app.initiate_device_flow(scopes=GRAPH_SCOPE)  # the device code itself is still issued
    demu.approve_device_code("adelev@contoso.example", user_code=flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000218]
    # A confidential client may still use the device code grant, with its secret; its refresh
    # token is then bound to the credential.
    code = start_device_code(demu).json()
    demu.approve_device_code("adelev@contoso.example")
    body = post_token(demu, device_code_form(demu, code["device_code"], client_secret=demu.client_secret)).json()
    assert claims(body["access_token"])["appidacr"] == "1"
    assert make_public_app(demu).acquire_token_by_refresh_token(body["refresh_token"], GRAPH_SCOPE)["error_codes"] == [
        7000218
    ]
    assert "access_token" in make_app(demu).acquire_token_by_refresh_token(body["refresh_token"], GRAPH_SCOPE)
    demu.reset()
    assert demu.info()["allow_public_client"] is True


def test_approval_needs_a_known_user_and_a_pending_code(demu: Any) -> None:
    session = make_session(demu.ca_path)
    approve = f"{demu.url}/_emulator/device-codes/approve"
    assert session.post(approve, json={"user": "adelev@contoso.example"}, timeout=10).status_code == 400  # none pending
    start_device_code(demu)
    assert session.post(approve, json={"user": "nobody@contoso.example"}, timeout=10).status_code == 404
    assert session.post(approve, json={}, timeout=10).status_code == 400
    page = session.get(f"{demu.url}/devicelogin", timeout=10)
    assert page.status_code == 200 and "/_emulator/device-codes/approve" in page.text


def test_cli_public_client_settings_and_remote_device_flow(tmp_path: Any) -> None:
    from meetings_emulator import start_emulator_process

    args = ["--no-public-client-flows", "--device-code-interval", "1", "--refresh-token-lifetime", "60"]
    with start_emulator_process(extra_args=args, ca_file=str(tmp_path / "ca.pem")) as emu:
        assert emu.info()["allow_public_client"] is False
        app = make_public_app(emu)
        flow = app.initiate_device_flow(scopes=GRAPH_SCOPE)
        emu.approve_device_code("adelev@contoso.example", user_code=flow["user_code"])
        assert app.acquire_token_by_device_flow(flow)["error_codes"] == [7000218]
        emu.set_public_client_flows(True)
        flow = app.initiate_device_flow(scopes=GRAPH_SCOPE)
        thread = approve_later(emu, flow["user_code"], delay=0.5)
        result = app.acquire_token_by_device_flow(flow)
        thread.join()
        assert "access_token" in result, result
        assert result["refresh_token"] in emu.issued_refresh_tokens()
        # The redeemed code is gone; the first one, refused for want of a credential, is still approved.
        assert [c["state"] for c in emu.device_codes()] == ["approved"]
