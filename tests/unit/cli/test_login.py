"""``airflow-provider-meetings login`` on a token source answered from memory (the emulator runs it for real)."""

from __future__ import annotations

import json
import os
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
        self.expires_at = 0.0

    def start_device_flow(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes = list(scopes)
        return {
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://login.example/device",
            "expires_at": self.expires_at,
        }

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


@pytest.mark.parametrize(
    ("code_life", "timeout", "said"),
    [
        (60, None, "the code expired before anyone signed in"),
        (2, ["--timeout", "60"], "the code expired before anyone signed in"),
        (900, ["--timeout", "5"], "nobody signed in within --timeout 5 s"),
    ],
    ids=["code-expired", "code-expired-before-timeout", "timeout"],
)
def test_a_sign_in_nobody_made_says_which_limit_ended_it(
    source: FakeSource, capsys: pytest.CaptureFixture[str], code_life: float, timeout: Any, said: str
) -> None:
    # MSAL stops polling at expires_at and returns its last answer: still "authorization_pending".
    import time

    source.expires_at = time.time() + code_life
    source.result = {"error": "authorization_pending", "error_description": "AADSTS70016: Authorization is pending."}

    assert main(["login", "--conn-id", CONN_ID, *(timeout or [])]) == 1

    err = capsys.readouterr().err
    assert said in err and "AADSTS70016" not in err


def test_the_connection_is_read_as_a_server_process_does_and_the_context_restored(
    source: FakeSource, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The metadata database is one of Airflow's places only in a server context (as for ``check``)."""
    from airflow.sdk import BaseHook

    real = BaseHook.get_connection.__func__  # type: ignore[attr-defined]
    contexts: list[str | None] = []

    def get_connection(cls: Any, conn_id: str) -> Any:
        contexts.append(os.environ.get("_AIRFLOW_PROCESS_CONTEXT"))
        return real(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(get_connection))
    monkeypatch.delenv("_AIRFLOW_PROCESS_CONTEXT", raising=False)
    source.result = {"refresh_token": "the-refresh-token"}

    assert main(["login", "--conn-id", CONN_ID, "--json"]) == 0

    assert contexts == ["server"]
    assert "_AIRFLOW_PROCESS_CONTEXT" not in os.environ  # restored
    capsys.readouterr()


def test_what_airflow_writes_to_file_descriptor_1_does_not_reach_standard_output(
    source: FakeSource, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Airflow's loggers hold the standard output stream of before the command: only the token goes there."""
    import sys

    from airflow_provider_meetings.cli import login

    real = login.read_connection
    held = sys.stdout  # as a logging handler configured before the command holds it

    def noisy(conn_id: str) -> Any:
        held.write("an Airflow log line\n")
        held.flush()
        return real(conn_id)

    monkeypatch.setattr(login, "read_connection", noisy)
    source.result = {"refresh_token": "the-refresh-token"}

    assert main(["login", "--conn-id", CONN_ID]) == 0

    out, err = capfd.readouterr()
    assert out.strip() == "the-refresh-token"
    assert "an Airflow log line" in err


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(
            {"error": "invalid_client", "error_description": "AADSTS7000218: The request body must contain ..."},
            id="description",
        ),
        pytest.param({"error": "invalid_client", "error_description": "", "error_codes": [7000218]}, id="codes"),
    ],
)
def test_public_client_flows_off_is_read_from_entras_code(
    source: FakeSource, capsys: pytest.CaptureFixture[str], result: dict[str, Any]
) -> None:
    source.result = result

    assert main(["login", "--conn-id", CONN_ID]) == 1

    out, err = capsys.readouterr()
    assert out == "" and "Turn on 'Allow public client flows' in the app registration" in err
