"""Helpers shared by the emulator's integration tests (real requests + MSAL over HTTPS)."""

from __future__ import annotations

import datetime
import ssl
import threading
import zoneinfo
from collections.abc import Callable
from typing import Any

from meetings_emulator.config import ORGANIZER_ID

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]
#: When the hook's interviews in the emulator's calendars start.
START = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))


def make_session(ca_path: str) -> Any:
    """A requests session that trusts only the emulator CA, ignoring REQUESTS_CA_BUNDLE/proxies."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = ca_path
    return session


def make_app(emu: Any, credential: Any = None, **kwargs: Any) -> Any:
    """A real MSAL confidential client against the emulator."""
    import msal

    kwargs.setdefault("http_client", make_session(emu.ca_path))
    return msal.ConfidentialClientApplication(
        kwargs.pop("client_id", emu.client_id),
        client_credential=emu.client_secret if credential is None else credential,
        authority=kwargs.pop("authority", f"{emu.url}/{emu.tenant_id}"),
        instance_discovery=False,
        **kwargs,
    )


def create_path(user: str) -> str:
    return f"/users/{user}/onlineMeetings/createOrGet"


def app_token(emu: Any) -> str:
    """An app-only access token, from a real MSAL confidential client."""
    return make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]


def create_or_get(emu: Any, token: str, external_id: str, user: str = "me") -> Any:
    """``POST createOrGet`` of ``external_id`` with ``token`` for ``user`` (``me``: the signed-in
    user, as a delegated token may), over a session of its own."""
    path = "/me/onlineMeetings/createOrGet" if user == "me" else create_path(user)
    return make_session(emu.ca_path).post(
        f"{emu.url}/v1.0{path}",
        json={"externalId": external_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def interview_fields(**fields: Any) -> dict[str, Any]:
    """The hook's arguments for an hour's interview from :data:`START` in the default
    organizer's calendar; ``fields`` replace or add arguments (``attendees``, most often)."""
    end = START + datetime.timedelta(hours=1)
    return {"subject": "Interview", "start": START, "end": end, "user_id": ORGANIZER_ID, **fields}


def side_by_side(call: Callable[[int], None], count: int) -> None:
    """Run ``call(0)`` to ``call(count - 1)`` each in a thread of its own, all at once; return
    when all are done."""
    threads = [threading.Thread(target=call, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def parse_graph_time(value: str) -> datetime.datetime:
    """Graph's 7-digit UTC form to an aware datetime (microseconds)."""
    assert value.endswith("Z") and len(value.split(".")[1]) == 8, value
    return datetime.datetime.strptime(value[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)


def make_certificate(common_name: str = "emulator-test-app") -> tuple[str, str, Any]:
    """(private key PEM, certificate PEM, certificate) for a fresh self-signed RSA cert."""
    from meetings_emulator.certs import make_app_certificate

    app = make_app_certificate(common_name, days=1)
    return app.key_pem(), app.cert_pem, app.cert


def post_token(emu: Any, form: dict[str, str], tenant: str | None = None) -> Any:
    session = make_session(emu.ca_path)
    return session.post(f"{emu.url}/{tenant or emu.tenant_id}/oauth2/v2.0/token", data=form, timeout=10)


def secret_form(emu: Any, scope: str = GRAPH_SCOPE[0]) -> dict[str, str]:
    """A client credentials grant for ``scope``, authenticated by the app's client secret."""
    return {
        "grant_type": "client_credentials",
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "scope": scope,
    }


def assert_entra_error(response: Any, status: int, error: str, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"].startswith(f"AADSTS{code}:")
    assert body["error_codes"] == [code]
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert body[key]
    return body


def claims(token: str) -> dict[str, Any]:
    """A JWT's claims, decoded without verifying, the way a client reads an access token."""
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


def make_public_app(emu: Any, **kwargs: Any) -> Any:
    """A real MSAL public client (no credential) against the emulator."""
    import msal

    return msal.PublicClientApplication(
        kwargs.pop("client_id", emu.client_id),
        authority=kwargs.pop("authority", f"{emu.url}/{emu.tenant_id}"),
        instance_discovery=False,
        http_client=make_session(emu.ca_path),
        **kwargs,
    )


def assert_graph_error(response: Any, status: int, code: str, message: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    inner = error["innerError"]
    assert inner["request-id"] == response.headers["request-id"]
    assert inner["client-request-id"] == response.headers["client-request-id"]
    assert inner["date"]
    return error


def sdk_graph_client(emu: Any, token: str) -> Any:
    """The official Graph SDK's client for the emulator (v1.0), with a fixed bearer token."""
    import httpx
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    host = emu.url.split("://", 1)[1]

    class MsalTokenProvider(AccessTokenProvider):
        async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
            return token

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return AllowedHostsValidator([host])

    http_client = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=emu.ca_path), trust_env=False)
    )
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(MsalTokenProvider()), client=http_client)
    adapter.base_url = f"{emu.url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)
