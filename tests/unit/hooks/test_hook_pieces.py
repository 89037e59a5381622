"""Pure pieces of OnlineMeetingsHook: settings, session configuration, retry timing, results.

No network: connections come from ``AIRFLOW_CONN_*`` variables, and the HTTP session is a
real ``requests.Session`` whose transport adapter records what it would have sent.
"""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_meetings.exceptions import (
    ConnectionConfigError,
    graph_error_from_response,
)
from airflow_provider_meetings.hooks.online_meetings import (
    MSAL_REPLAY_SECONDS,
    MeetingResult,
    OnlineMeetingsHook,
    _is_expired_token,
    _pinned_session_class,
    _UserToken,
)
from airflow_provider_meetings.retry import RetryPolicy

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "99999999-8888-7777-6666-555555555555"
SECRET = "unit-secret-Vq3~do-not-log"
REFRESH = "unit-refresh-token-0.AXkA-do-not-log"
KEY_PASSWORD = "unit-key-password-do-not-log"


@pytest.fixture
def make_hook(monkeypatch: pytest.MonkeyPatch):
    def factory(password: str | None = SECRET, host: str | None = None, **extra: Any) -> OnlineMeetingsHook:
        extra.setdefault("tenant_id", TENANT)
        conn = {"conn_type": "msgraph_meetings", "login": CLIENT, "password": password, "host": host, "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_UNIT", json.dumps(conn))
        return OnlineMeetingsHook(conn_id="meetings_unit")

    return factory


# -- settings ---------------------------------------------------------------------------


def test_settings_are_read_once(make_hook, monkeypatch):
    hook = make_hook(default_user_id="adelev@contoso.example")
    first = hook.settings
    monkeypatch.delenv("AIRFLOW_CONN_MEETINGS_UNIT")

    assert hook.settings is first
    assert first.default_user_id == "adelev@contoso.example"


def test_unknown_extras_are_warned_about(make_hook, hook_logs):
    assert make_hook(tenant="typo-of-tenant_id", max_retry=3).settings.client_id

    (warning,) = hook_logs.messages("warning")
    assert "max_retry, tenant" in warning and "meetings_unit" in warning


def test_bad_connection_is_a_config_error_and_test_connection_says_so(make_hook):
    hook = make_hook(tenant_id="")

    with pytest.raises(ConnectionConfigError):
        _ = hook.settings
    ok, message = hook.test_connection()
    assert not ok and "tenant_id" in message


def test_secrets_are_masked_and_kept_out_of_repr(make_hook):
    from airflow.sdk._shared.secrets_masker import redact

    hook = make_hook(refresh_token=REFRESH, private_key_password=KEY_PASSWORD)
    settings = hook.settings

    for secret in (SECRET, REFRESH, KEY_PASSWORD):
        assert redact(f"x {secret} y") == "x *** y"
        assert secret not in repr(hook) and secret not in repr(settings)


def test_china_cloud_is_refused_before_any_request(make_hook):
    hook = make_hook(cloud="china", default_user_id="adelev@contoso.example")

    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("x")
    assert caught.value.field == "cloud"
    assert hook._session is None and hook._app is None


# -- the HTTP session ---------------------------------------------------------------------


class RecordingAdapter:
    """A transport adapter that answers 200 and remembers the arguments requests gave it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        import requests

        self.calls.append(kwargs)
        response = requests.Response()
        response.status_code = 200
        response.request = request
        response.url = request.url
        response._content = b"{}"
        return response

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("verify", "env", "expected_verify"),
    [
        pytest.param(
            "/etc/ca/emulator.pem",
            {"REQUESTS_CA_BUNDLE": "/wrong.pem"},
            "/etc/ca/emulator.pem",
            id="path beats REQUESTS_CA_BUNDLE",
        ),
        pytest.param(
            "/etc/ca/emulator.pem",
            {"CURL_CA_BUNDLE": "/wrong.pem"},
            "/etc/ca/emulator.pem",
            id="path beats CURL_CA_BUNDLE",
        ),
        pytest.param(False, {"REQUESTS_CA_BUNDLE": "/wrong.pem"}, False, id="false beats REQUESTS_CA_BUNDLE"),
        pytest.param(True, {"REQUESTS_CA_BUNDLE": "/corp.pem"}, "/corp.pem", id="true lets the environment choose"),
    ],
)
def test_session_pins_verify_per_request(monkeypatch, verify, env, expected_verify):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = _pinned_session_class()(verify=verify, proxies={"https": "http://proxy.local:3128"}, timeout=7.5)
    adapter = RecordingAdapter()
    session.mount("https://", adapter)

    # MSAL calls post() with its own (ignored) timeout; Graph calls request().
    session.post("https://login.example/token", data={"a": "b"}, timeout=None)
    session.request("POST", "https://graph.example/v1.0/x", json={}, verify=True, timeout=99)

    for call in adapter.calls:
        assert call["verify"] == expected_verify
        assert call["timeout"] == 7.5
        assert call["proxies"]["https"] == "http://proxy.local:3128"


def test_session_records_the_last_throttling_answer():
    session = _pinned_session_class()(verify=True, proxies=None, timeout=1)

    class Throttling(RecordingAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            response = super().send(request, **kwargs)
            response.status_code = 429
            response.headers["Retry-After"] = "3"
            return response

    session.mount("https://", Throttling())
    session.get("https://login.example/x")
    assert (session.last_error_status, session.last_retry_after) == (429, 3.0)


# -- retry timing around MSAL's replay cache --------------------------------------------------


def hook_with_session(**session_state: Any) -> OnlineMeetingsHook:
    hook = OnlineMeetingsHook(conn_id="unused")
    hook._session = SimpleNamespace(**session_state)  # only the two recorded fields are read
    return hook


@pytest.mark.parametrize(
    ("replayed", "retry_after", "expected"),
    [
        pytest.param(False, None, (0.5, 1.0), id="network error: plain backoff"),
        pytest.param(True, None, (MSAL_REPLAY_SECONDS, MSAL_REPLAY_SECONDS + 1), id="5xx: outlast MSAL's replay"),
        pytest.param(True, 2.0, (2.0, 2.5), id="Retry-After: outlast it"),
    ],
)
def test_token_wait(replayed, retry_after, expected):
    hook = hook_with_session(last_error_status=503, last_retry_after=retry_after)
    wait = hook._token_wait(RetryPolicy(backoff_base=1.0), 0, 0.0, replayed)

    assert expected[0] <= wait <= expected[1]


def test_token_wait_gives_up_when_the_replay_floor_exceeds_the_bound():
    hook = hook_with_session(last_error_status=503, last_retry_after=None)

    assert hook._token_wait(RetryPolicy(max_total_wait=3.0), 0, 0.0, True) is None


# -- small pure helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expired"),
    [
        pytest.param(401, "InvalidAuthenticationToken", True, id="expired token"),
        pytest.param(401, "Unauthorized", False, id="other 401"),
        pytest.param(403, "InvalidAuthenticationToken", False, id="403"),
    ],
)
def test_is_expired_token(status, code, expired):
    error = graph_error_from_response(status, {}, {"error": {"code": code, "message": "m"}})
    assert _is_expired_token(error) is expired


@pytest.mark.parametrize(
    ("expires_in", "fresh"),
    [
        pytest.param(3600, True, id="an hour left"),
        pytest.param(301, True, id="just over 5 min"),
        pytest.param(299, False, id="under 5 min"),
    ],
)
def test_user_token_freshness(expires_in, fresh):
    token = _UserToken("eyJ0eXAi.access-token", expires_at=1000.0 + expires_in)
    assert token.fresh(1000.0) is fresh
    assert "access-token" not in repr(token)


def test_meeting_result_is_frozen_and_json_friendly():
    result = MeetingResult(meeting={"id": "m1", "joinWebUrl": "https://teams.example/j"}, created=True)

    assert (result.meeting_id, result.join_url) == ("m1", "https://teams.example/j")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.created = False  # type: ignore[misc]
    json.dumps(dataclasses.asdict(result))
