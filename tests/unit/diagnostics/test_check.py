"""The connection check's steps on settings, claims and a Graph stand-in (no network)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_meetings.diagnostics.check import (
    GRAPH_APP_ID,
    CheckRun,
    step_audience,
    step_organizer,
    step_permission,
    step_settings,
    step_token,
)
from airflow_provider_meetings.diagnostics.report import Failed
from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.errors import AuthenticationError, GraphAPIError, RetriesExhaustedError
from airflow_provider_meetings.graph.settings import parse_connection

SIGNED_IN = "6e8d2b1a-3c4f-4a5b-9d7e-1f2a3b4c5d6e"


@pytest.fixture
def run_with(make_settings):
    def make(claims: dict | None, *, graph=None, **extra: object) -> CheckRun:
        run = CheckRun(hook=None)  # type: ignore[arg-type]  # the steps here read settings and claims only
        run.settings = make_settings(**extra)
        run.claims = claims
        if graph is None:
            run.probe_sent = True  # no Graph request
        else:
            run.graph = graph
        return run

    return make


@pytest.mark.parametrize(
    ("claims", "delegated", "outcome"),
    [
        pytest.param({"roles": ["OnlineMeetings.ReadWrite.All"]}, False, "passed", id="app role"),
        pytest.param({"roles": ["onlinemeetings.readwrite.all"]}, False, "passed", id="case-insensitive"),
        pytest.param({}, False, "permission_missing", id="no roles claim"),
        pytest.param({"roles": ["OnlineMeetings.Read.All"]}, False, "permission_missing", id="read only"),
        pytest.param({"scp": "OnlineMeetings.ReadWrite"}, False, "permission_missing", id="delegated scope on app"),
        pytest.param({"scp": "User.Read OnlineMeetings.ReadWrite"}, True, "passed", id="delegated scope"),
        pytest.param({"scp": "User.Read"}, True, "scope_missing", id="delegated without scope"),
        pytest.param(None, False, "skipped", id="not a jwt"),
    ],
)
def test_permission_rule(run_with, claims, delegated, outcome):
    run = run_with(claims, **({"refresh_token": "a-refresh-token"} if delegated else {}))
    try:
        result = step_permission(run)
    except Failed as failure:
        assert failure.problem == outcome
        return
    assert ("skipped" if result.skipped else "passed") == outcome
    if outcome == "skipped":
        assert not run.roles_checked
        assert "not a JWT" in result.message


@pytest.mark.parametrize(
    ("extra", "aud", "problem"),
    [
        pytest.param({}, "https://graph.microsoft.com", None, id="global"),
        pytest.param({}, GRAPH_APP_ID, None, id="graph by app id"),
        pytest.param({"cloud": "usgov"}, "https://graph.microsoft.us", None, id="usgov"),
        pytest.param({"cloud": "usgov"}, "https://graph.microsoft.com", "token_audience", id="token of another cloud"),
        pytest.param({"cloud": "dod"}, None, None, id="token not readable"),
    ],
)
def test_audience_rule_without_graph(run_with, extra, aud, problem):
    run = run_with({"aud": aud} if aud else None, **extra)
    try:
        step_audience(run)
    except Failed as failure:
        assert failure.problem == problem
        return
    assert problem is None


def test_host_of_another_cloud_fails_before_any_request(run_with):
    run = run_with(None)
    run.settings = parse_connection(
        login="app", password="a-secret-value", host="https://dod-graph.microsoft.us", extra={"tenant_id": "t"}
    )
    with pytest.raises(Failed) as failed:
        step_audience(run)
    assert failed.value.problem == "cloud_mismatch"
    assert "set the extra cloud to 'dod'" in failed.value.fix


def test_delegated_probe_names_the_signed_in_user_from_the_token(run_with, fake_graph):
    graph = fake_graph(lambda path: HttpAnswer(200, {"Content-Type": "application/json"}, b'{"value": []}'))
    run = run_with({"oid": SIGNED_IN, "scp": "OnlineMeetings.ReadWrite"}, graph=graph, refresh_token="rt-value")

    outcome = step_organizer(run)

    assert not outcome.skipped
    assert outcome.message == (
        "Graph answered the signed-in user's meetings lookup; delegated tokens need no access policy."
    )
    (path,) = graph.paths
    assert f"%2522Oid%2522%253a%2522{SIGNED_IN}%2522" in path  # the token's oid, not an all-zero id


def test_delegated_probe_answered_404_is_skipped_not_failed(run_with, fake_graph):
    def handler(path: str) -> HttpAnswer:
        raise GraphAPIError(404, "NotFound", f"Organizer Id mismatch User Id: {SIGNED_IN}.")

    run = run_with({"oid": SIGNED_IN}, graph=fake_graph(handler), refresh_token="rt-value")

    outcome = step_organizer(run)

    assert outcome.skipped
    assert "could not confirm" in outcome.message


def test_secrets_the_checks_client_sees_are_scrubbed_and_masked():
    masked: list[str] = []
    run = CheckRun(hook=None, mask=masked.append)  # type: ignore[arg-type]

    run.keep_secret("an-access-token")

    assert run.secrets == masked == ["an-access-token"]


@pytest.mark.parametrize(
    ("claims", "delegated", "note"),
    [
        pytest.param(
            {"roles": ["OnlineMeetings.ReadWrite.All", "Calendars.ReadWrite"]},
            False,
            "Calendar events: the token also carries Calendars.ReadWrite (roles).",
            id="app with calendars",
        ),
        pytest.param(
            {"roles": ["OnlineMeetings.ReadWrite.All"]},
            False,
            "Calendar events: the token lacks the application permission Calendars.ReadWrite",
            id="app without calendars",
        ),
        pytest.param(
            {"scp": "OnlineMeetings.ReadWrite calendars.readwrite Calendars.ReadWrite.Shared"},
            True,
            "Calendar events: the token also carries Calendars.ReadWrite (scp).",
            id="delegated with shared",
        ),
        pytest.param(
            {"scp": "OnlineMeetings.ReadWrite Calendars.ReadWrite"},
            True,
            "also needs Calendars.ReadWrite.Shared and their delegation.",
            id="delegated without shared",
        ),
    ],
)
def test_permission_step_tells_about_calendar_events_without_failing(run_with, claims, delegated, note):
    run = run_with(claims, **({"refresh_token": "a-refresh-token"} if delegated else {}))
    result = step_permission(run)
    assert not result.skipped
    assert note in result.message


class _StoredConnection:
    """As ``airflow.sdk.Connection`` holds them: the extra as JSON text."""

    def __init__(self, password: str | None, extra: dict) -> None:
        self.password = password
        self.extra = json.dumps(extra)


class _Hook:
    """What step 1 reads of a hook: the stored connection and the settings parsed from it."""

    conn_id = "meetings_check"
    log = None

    def __init__(self, password: str | None, extra: dict) -> None:
        self.connection = _StoredConnection(password, extra)

    def get_connection(self, conn_id: str) -> _StoredConnection:
        return self.connection

    @property
    def settings(self):
        return parse_connection(
            login="8a2d4c6e-1b3f-4e5a-9c7d-2f4b6d8e0a13",
            password=self.connection.password,
            host=None,
            extra=self.connection.extra,
            environ={},
        )


BUDGET = {"rate_budget": "redis", "rate_budget_url": "redis://default:chk%40budget-pw@redis:6379/2"}


@pytest.mark.parametrize(
    ("password", "extra", "secrets"),
    [
        pytest.param("chk-secret", {}, {"chk-secret"}, id="client secret"),
        pytest.param(
            None,
            {"certificate_path": "/k.pem", "private_key_password": "chk-key-pw"},
            {"chk-key-pw"},
            id="certificate",
        ),
        pytest.param("chk-secret", {"refresh_token": "chk-refresh"}, {"chk-secret", "chk-refresh"}, id="refresh token"),
    ],
)
def test_step_1_scrubs_every_secret_of_the_connection(password, extra, secrets):
    hook = _Hook(password, {"tenant_id": "contoso.example", **extra, **BUDGET})
    run = CheckRun(hook=hook)  # type: ignore[arg-type]

    step_settings(run)

    assert {*secrets, "chk%40budget-pw", "chk@budget-pw"} <= set(run.secrets)


def test_step_1_scrubs_the_budget_password_of_a_connection_that_does_not_parse():
    hook = _Hook("chk-secret", {"tenant_id": "", **BUDGET})  # refused: no tenant
    run = CheckRun(hook=hook)  # type: ignore[arg-type]

    with pytest.raises(Failed, match="tenant_id"):
        step_settings(run)
    assert {"chk-secret", "chk%40budget-pw", "chk@budget-pw"} <= set(run.secrets)


@pytest.mark.parametrize(
    "proxies", [{"https": "http://bob:chk-proxy-pw@proxy:3128"}, '{"https": "http://bob:chk-proxy-pw@proxy:3128"}']
)
def test_step_1_scrubs_a_proxy_password_of_a_connection_that_does_not_parse(proxies):
    # the UI form stores proxies as JSON text; the hook's settings read both forms
    hook = _Hook("chk-secret", {"tenant_id": "", "proxies": proxies})
    run = CheckRun(hook=hook)  # type: ignore[arg-type]

    with pytest.raises(Failed, match="tenant_id"):
        step_settings(run)
    assert {"chk-secret", "chk-proxy-pw"} <= set(run.secrets)


@pytest.mark.parametrize(
    "raised",
    [
        pytest.param(AuthenticationError("invalid_client", "AADSTS7000215: bad secret", error_codes=[7000215])),
        pytest.param(
            RetriesExhaustedError(
                "token", 1, 0.0, AuthenticationError("invalid_client", "AADSTS7000215: bad", error_codes=[7000215])
            ),
            id="wrapped",
        ),
    ],
)
def test_step_2_names_the_failure_inside_a_retry_wrapper(make_settings, raised):
    class Tokens:
        def get(self):
            raise raised

    class Client:
        tokens = Tokens()

    run = CheckRun(hook=_Hook("chk-secret", {"tenant_id": "contoso.example"}))  # type: ignore[arg-type]
    run.settings = make_settings()
    run.graph = Client()  # type: ignore[assignment]

    with pytest.raises(Failed) as caught:
        step_token(run)
    assert caught.value.problem == "wrong_secret"
