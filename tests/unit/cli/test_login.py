"""``airflow-provider-meetings login`` on a token source answered from memory (the emulator runs it for real)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_meetings.auth.credentials import DeviceCode
from airflow_provider_meetings.auth.token_source import TokenSource
from airflow_provider_meetings.cli import main
from airflow_provider_meetings.graph.errors import AuthenticationError

CONN_ID = "meetings_login_unit"
CONNECTION = {"conn_type": "msgraph_meetings", "login": "client-id", "extra": {"tenant_id": "contoso.example"}}


class FakeSource:
    """The device flow of a token source, answered from memory; records what ``login`` asked."""

    def __init__(self, result: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.result = result
        self.error = error
        self.settings: Any = None
        self.scopes: list[str] = []
        self.closed = False

    def start_device_flow(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes = list(scopes)
        return {"user_code": "ABCD-EFGH", "verification_uri": "https://login.example/device", "expires_at": 0}

    def finish_device_flow(self, flow: dict[str, Any]) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return dict(self.result or {})

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> FakeSource:
    fake = FakeSource()
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(CONNECTION))

    def for_device_code(settings: Any, **_: Any) -> FakeSource:
        fake.settings = settings
        return fake

    monkeypatch.setattr(TokenSource, "for_device_code", for_device_code)
    return fake


def test_login_signs_in_through_the_token_source_and_prints_the_token_once(
    source: FakeSource, capsys: pytest.CaptureFixture[str]
) -> None:
    source.result = {"refresh_token": "the-refresh-token", "id_token_claims": {"preferred_username": "adele@x"}}

    assert main(["login", "--conn-id", CONN_ID, "--json"]) == 0

    out, err = capsys.readouterr()
    printed = json.loads(out)
    assert printed["refresh_token"] == "the-refresh-token" and printed["connection_has_credential"] is None
    assert "the-refresh-token" not in err and "enter the code ABCD-EFGH" in err
    assert source.scopes == ["https://graph.microsoft.com/OnlineMeetings.ReadWrite"] and source.closed
    assert source.settings.credential == DeviceCode()  # a connection without a credential is read for a sign-in


def test_a_token_endpoint_failure_is_a_clear_exit_without_a_token(
    source: FakeSource, capsys: pytest.CaptureFixture[str]
) -> None:
    source.error = AuthenticationError("service_error", "the token endpoint answered HTTP 503", permanent=False)

    assert main(["login", "--conn-id", CONN_ID]) == 1

    out, err = capsys.readouterr()
    assert out == "" and source.closed
    assert (
        "error: cannot reach Entra ID for connection settings https://login.microsoftonline.com/contoso.example" in err
    )
    assert "HTTP 503" in err
