"""The hook's Airflow-facing face without a network: settings, masking, early refusals.

Connections come from ``AIRFLOW_CONN_*`` variables (JSON form).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from import_cost_testlib import loaded_by

from airflow_provider_meetings.graph.errors import ConnectionConfigError
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

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


def test_an_extra_that_is_not_json_is_named(monkeypatch):
    # extra_dejson would log a traceback, return {} and the error would blame tenant_id.
    conn = {"conn_type": "msgraph_meetings", "login": CLIENT, "password": SECRET, "extra": '{"tenant_id": "x",}'}
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_UNIT", json.dumps(conn))
    hook = OnlineMeetingsHook(conn_id="meetings_unit")

    with pytest.raises(ConnectionConfigError, match="'extra': is not valid JSON"):
        _ = hook.settings
    ok, message = hook.test_connection()
    assert not ok and "not valid JSON" in message and "tenant_id" not in message


def test_secrets_are_masked_and_kept_out_of_repr(make_hook):
    from airflow.sdk._shared.secrets_masker import redact

    hook = make_hook(refresh_token=REFRESH, private_key_password=KEY_PASSWORD)
    settings = hook.settings

    for secret in (SECRET, REFRESH, KEY_PASSWORD):
        assert redact(f"x {secret} y") == "x *** y"
        assert secret not in repr(hook) and secret not in repr(settings)


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        pytest.param({}, {SECRET}, id="client secret"),
        pytest.param(
            {"password": None, "certificate_path": "/k.pem", "private_key_password": KEY_PASSWORD},
            {KEY_PASSWORD},
            id="certificate",
        ),
        pytest.param({"password": None, "federated_token_file": "/t"}, set(), id="federated"),
        pytest.param({"password": None, "refresh_token": REFRESH}, {REFRESH}, id="refresh token, public client"),
        pytest.param({"refresh_token": REFRESH}, {REFRESH, SECRET}, id="refresh token and secret"),
        pytest.param(
            {
                "password": None,
                "certificate_path": "/k.pem",
                "private_key_password": KEY_PASSWORD,
                "refresh_token": REFRESH,
            },
            {REFRESH, KEY_PASSWORD},
            id="refresh token and certificate",
        ),
    ],
)
def test_every_secret_of_the_connection_is_masked(make_hook, monkeypatch, credential, expected):
    masked: list[str] = []
    monkeypatch.setattr("airflow_provider_meetings.hooks.online_meetings._mask_secret", masked.append)
    password = credential.pop("password", SECRET)
    budget = {"rate_budget": "redis", "rate_budget_url": "redis://default:unit%2Fbudget-pw@redis:6379/2"}

    settings = make_hook(password=password, **credential, **budget).settings

    assert set(masked) == expected | {"unit%2Fbudget-pw", "unit/budget-pw"} == set(settings.secrets())


def test_china_cloud_is_refused_before_any_request(make_hook):
    hook = make_hook(cloud="china", default_user_id="adelev@contoso.example")

    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("x")
    assert caught.value.field == "cloud"
    assert hook._client is None  # no client, no token, no socket


def test_hook_module_imports_neither_msal_nor_requests():
    assert loaded_by(["airflow_provider_meetings.hooks.online_meetings"]) == []
