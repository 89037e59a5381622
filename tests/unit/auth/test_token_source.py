"""Token-source rules that need no network: MSAL's replay window, advice on refused refresh tokens, the device flow."""

from __future__ import annotations

import logging

import pytest
import requests
from msal.exceptions import MsalServiceError

from airflow_provider_meetings.auth.credentials import DeviceCode
from airflow_provider_meetings.auth.token_source import (
    MSAL_DEFAULT_REPLAY,
    TokenSource,
    _TokenCall,
    delegated_hint,
    msal_replay_seconds,
)
from airflow_provider_meetings.graph import transport as transport_module
from airflow_provider_meetings.graph.errors import AuthenticationError, RetriesExhaustedError
from airflow_provider_meetings.graph.settings import parse_connection
from airflow_provider_meetings.graph.transport import Exchange


def exchange(status: int, retry_after: str | None = None, at: float = 100.0) -> Exchange:
    return Exchange("https://login.example/t/oauth2/v2.0/token", status, "application/json", retry_after, at)


@pytest.mark.parametrize(
    ("status", "retry_after", "seconds"),
    [
        pytest.param(200, None, 0.0, id="success: no replay"),
        pytest.param(400, None, 0.0, id="400: permanent here"),
        pytest.param(503, None, MSAL_DEFAULT_REPLAY, id="5xx without Retry-After: 5 s"),
        pytest.param(429, "7", 7.0, id="429 with seconds"),
        pytest.param(429, "2.128", MSAL_DEFAULT_REPLAY, id="decimal: MSAL's int() fails, 5 s"),
        pytest.param(503, "Wed, 21 Oct 2026 07:28:00 GMT", MSAL_DEFAULT_REPLAY, id="HTTP-date: 5 s"),
        pytest.param(429, "86400", 3600.0, id="capped at an hour"),
        pytest.param(200, "3", 3.0, id="any answer with Retry-After"),
    ],
)
def test_msal_replay_seconds_mirror_msal(status, retry_after, seconds):
    assert msal_replay_seconds(exchange(status, retry_after)) == seconds


def test_the_wait_floor_outlasts_the_replay_of_the_last_real_answer():
    now = [100.0]
    call = _TokenCall(lambda: now[0])
    call.saw([exchange(503, at=100.0)])
    assert 5.0 < call.floor(RuntimeError()) <= 5.2
    now[0] = 103.0
    call.saw([])  # MSAL replayed from memory: nothing new was sent
    assert 2.0 < call.floor(RuntimeError()) <= 2.2
    now[0] = 106.0
    assert call.floor(RuntimeError()) == 0.0


def delegated(password=None, **extra):
    extra = {"tenant_id": "contoso.example", "refresh_token": "0.AR-refresh", **extra}
    return parse_connection(login="client-id", password=password, host=None, extra=extra, environ={})


def refusal(code: str | None, error: str = "invalid_grant") -> AuthenticationError:
    return AuthenticationError(error, f"{code}: Entra's text" if code else "no code")


@pytest.mark.parametrize(
    ("settings", "error", "fragments"),
    [
        pytest.param(
            delegated(password="secret"),
            refusal("AADSTS700025", "invalid_client"),
            ["minted by a public client", "remove the client secret (password)", "with this confidential app"],
            id="public token with a secret",
        ),
        pytest.param(
            delegated(),
            refusal("AADSTS7000218", "invalid_client"),
            ["belongs to a confidential client", "client secret as the connection's password", "login --conn-id c1"],
            id="confidential token without a credential",
        ),
        pytest.param(
            delegated(),
            refusal("AADSTS700082"),
            ["refresh token expired", "90 days", "login --conn-id c1", "set token_cache_path"],
            id="expired, no cache",
        ),
        pytest.param(
            delegated(token_cache_path="/var/lib/airflow/cache.json"),
            refusal("AADSTS50173"),
            ["is no longer valid", "login --conn-id c1"],
            id="revoked, with cache",
        ),
        pytest.param(delegated(), refusal(None), ["is no longer valid"], id="invalid_grant without a code"),
        pytest.param(
            delegated(),
            AuthenticationError("invalid_grant", "The refresh token has expired.", error_codes=[700082]),
            ["refresh token expired", "login --conn-id c1"],
            id="expired, told by error_codes alone",
        ),
    ],
)
def test_advice_on_refused_refresh_tokens(settings, error, fragments):
    hint = delegated_hint(error, settings=settings, conn_id="c1")
    for fragment in fragments:
        assert fragment in hint
    assert hint in str(error.with_hint(hint))
    if error.aadsts_code not in ("AADSTS700025", "AADSTS7000218"):  # re-mint advice: keep the next one alive
        assert ("token_cache_path" in hint) is (settings.token_cache_path is None)


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        pytest.param(delegated(password="secret"), refusal("AADSTS7000218", "invalid_client"), id="7000218 sent one"),
        pytest.param(delegated(), refusal("AADSTS7000215", "invalid_client"), id="wrong secret"),
        pytest.param(delegated(), refusal(None, "temporarily_unavailable"), id="outage"),
    ],
)
def test_no_advice_for_other_refusals(settings, error):
    assert delegated_hint(error, settings=settings, conn_id="c1") is None


# -- MSAL 1.31 raised requests.HTTPError for a 5xx of the token endpoint -------------------


class _OldMsalApp:
    """An MSAL application that answers like MSAL 1.31 on a 5xx: requests.HTTPError.

    (Pure logic: real MSAL >= 1.35 raises MsalServiceError, which the emulator tests cover.)
    """

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def acquire_token_for_client(self, scopes):
        self.calls += 1
        if self.calls > self.failures:
            return {"access_token": "a-token", "expires_in": 3600}
        # MSAL's http_client recorded the answer before MSAL raised (transport.MsalHttpClient).
        transport_module._EXCHANGES.get().append(exchange(503, "0"))
        response = requests.Response()
        response.status_code = 503
        raise requests.HTTPError("503 Server Error: Service Unavailable", response=response)


def old_msal_source(failures: int, **extra) -> tuple[TokenSource, _OldMsalApp, list[float]]:
    settings = parse_connection(
        login="client-id",
        password="a-secret",
        host=None,
        extra={"tenant_id": "contoso.example", "max_retries": 2, **extra},
        environ={},
    )
    slept: list[float] = []
    source = TokenSource(
        settings, transport=None, mask=lambda _: None, log=logging.getLogger("test"), sleep=slept.append
    )
    app = source._app = _OldMsalApp(failures)
    return source, app, slept


def test_a_requests_http_error_from_msal_is_a_transient_token_failure_and_retried():
    source, app, slept = old_msal_source(failures=1)
    assert source.get() == "a-token"
    assert app.calls == 2 and len(slept) == 1


def test_a_requests_http_error_from_msal_that_persists_exhausts_the_retries():
    source, app, _ = old_msal_source(failures=10)
    with pytest.raises(RetriesExhaustedError) as caught:
        source.get()
    assert not caught.value.permanent
    error = caught.value.last_error
    assert isinstance(error, AuthenticationError) and error.error == "service_error" and not error.permanent
    assert "the token endpoint answered HTTP 503" in str(error)
    assert app.calls == 3


# -- the credential decides the flow; the device code sign-in of ``login`` ------------------------


class _DeviceFlowApp:
    """An MSAL public client application's device flow, answered from memory."""

    def __init__(self, result: dict | None = None, fail: bool = False) -> None:
        self.result = result or {"access_token": "an-access-token", "refresh_token": "a-refresh-token"}
        self.fail = fail
        self.flows: list[dict] = []

    def initiate_device_flow(self, scopes):
        return {"user_code": "ABCD-EFGH", "verification_uri": "https://login.example/device", "scopes": scopes}

    def acquire_token_by_device_flow(self, flow):
        self.flows.append(flow)
        if self.fail:
            raise MsalServiceError(error="server_error", error_description="HTTP 503")
        return dict(self.result)


def device_source(settings=None, **app) -> tuple[TokenSource, _DeviceFlowApp, list[str]]:
    masked: list[str] = []
    settings = settings or parse_connection(
        login="client-id",
        password="a-secret",
        host=None,
        extra={"tenant_id": "contoso.example", "token_cache_path": "/var/lib/airflow/cache.json"},
        environ={},
    )
    source = TokenSource.for_device_code(settings, mask=masked.append, log=logging.getLogger("test"))
    fake = source._app = _DeviceFlowApp(**app)
    return source, fake, masked


def test_a_device_code_source_is_a_public_client_that_keeps_its_tokens_in_memory():
    source, _, _ = device_source()
    # The connection's secret is not presented (the token is a public client's), and the
    # tasks' cache file is not touched (login may run as another user).
    assert source.settings.credential == DeviceCode() and source.settings.public_client
    assert source.settings.token_cache_path is None
    assert source.settings.client_id == "client-id" and source.settings.tenant_id == "contoso.example"


def test_the_device_flow_returns_msal_s_flow_and_result_and_masks_the_tokens():
    source, app, masked = device_source()
    flow = source.start_device_flow(["https://graph.microsoft.com/OnlineMeetings.ReadWrite"])
    assert flow["user_code"] == "ABCD-EFGH"
    assert flow["scopes"] == ["https://graph.microsoft.com/OnlineMeetings.ReadWrite"]
    result = source.finish_device_flow(flow)
    assert result["refresh_token"] == "a-refresh-token" and app.flows == [flow]
    assert masked == ["an-access-token", "a-refresh-token"]


def test_a_failing_token_endpoint_during_the_device_flow_is_an_authentication_error():
    source, _, _ = device_source(fail=True)
    with pytest.raises(AuthenticationError) as caught:
        source.finish_device_flow({"user_code": "ABCD-EFGH"})
    assert caught.value.error == "service_error" and not caught.value.permanent


def test_only_a_device_code_source_runs_the_device_flow_and_it_has_no_silent_token():
    app_only = parse_connection(
        login="client-id", password="a-secret", host=None, extra={"tenant_id": "contoso.example"}, environ={}
    )
    source = TokenSource(app_only, mask=lambda _: None, log=logging.getLogger("test"))
    with pytest.raises(AuthenticationError, match="TokenSource.for_device_code"):
        source.start_device_flow(["scope"])
    device, _, _ = device_source()
    with pytest.raises(AuthenticationError, match="finish_device_flow"):
        device.get()


def test_a_token_source_closes_its_own_transport_only():
    settings = parse_connection(
        login="client-id", password="a-secret", host=None, extra={"tenant_id": "contoso.example"}, environ={}
    )
    closed: list[str] = []

    class Given:
        def close(self):
            closed.append("given")

    with TokenSource(settings, Given(), mask=lambda _: None, log=logging.getLogger("test")):
        pass
    assert closed == []
    with TokenSource(settings, mask=lambda _: None, log=logging.getLogger("test")) as source:
        own = source.transport
        assert isinstance(own, transport_module.Transport) and own.timeout == settings.timeout
    assert source._transport is None


class _AppWithoutNetwork:
    """An MSAL app whose ``remove_tokens_for_client`` would ask Entra's instance discovery."""

    def __init__(self, cache) -> None:
        self.token_cache = cache

    def remove_tokens_for_client(self) -> None:
        raise MsalServiceError(error="service_error", error_description="GET .../common/discovery/instance: 503")


def test_invalidating_an_app_token_sends_nothing_and_keeps_other_clients_tokens():
    # After a Graph 401 the app-only token is dropped; MSAL's remove_tokens_for_client asks
    # Entra for the authority's aliases first, outside the retry core, and raised MSAL's error.
    import msal

    settings = parse_connection(
        login="client-id", password="secret", host=None, extra={"tenant_id": "contoso.example"}, environ={}
    )
    cache = msal.SerializableTokenCache()
    for client, realm in (
        ("client-id", "contoso.example"),
        ("client-id", "other.example"),
        ("another", "contoso.example"),
    ):
        cache.add(
            {
                "client_id": client,
                "scope": ["https://graph.microsoft.com/.default"],
                "token_endpoint": f"https://login.microsoftonline.com/{realm}/oauth2/v2.0/token",
                "response": {"access_token": f"at-{client}-{realm}", "expires_in": 3600, "token_type": "Bearer"},
                "grant_type": "client_credentials",
            }
        )
    source = TokenSource(settings, mask=lambda _: None, log=logging.getLogger("test"))
    source._app = _AppWithoutNetwork(cache)

    source.invalidate()

    left = [t["secret"] for t in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)]
    assert left == ["at-another-contoso.example"]


@pytest.mark.parametrize(
    ("status", "permanent", "content_type"),
    [(429, False, "application/json"), (429, False, "text/html"), (408, False, "")]
    + [(400, True, "application/json"), (404, True, "application/json")],
)
def test_a_throttled_discovery_is_asked_again_a_refused_one_is_not(status, permanent, content_type):
    # MSAL raises ValueError for any 4xx of the authority's metadata (msal/authority.py), and
    # reads none of its body: a throttled answer is retried whatever its content type.
    from airflow_provider_meetings.auth.token_source import _explain_discovery_error

    answer = Exchange("https://login.example/t/v2.0/.well-known/openid-configuration", status, content_type, "2", 1.0)
    error = _explain_discovery_error(ValueError(f"Unable to get authority configuration ({status})"), [answer])
    assert isinstance(error, AuthenticationError) and error.permanent is permanent
    if not permanent:
        assert (error.status, error.retry_after) == (status, 2.0)
    else:
        assert error.error == "invalid_authority" and "tenant_id" in str(error)
