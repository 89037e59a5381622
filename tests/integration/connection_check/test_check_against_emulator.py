"""The connection check against the emulator: real MSAL, real HTTPS, one test per misconfiguration.

Each row is a misconfiguration a user meets in the first hour with a tenant; the check must
stop at the right step with the exact message, through ``test_connection()`` (Airflow's *Test*
button) and through the console command.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_meetings.cli import main
from meetings_emulator.certs import make_app_certificate
from meetings_emulator.config import NOPOLICY_ID

pytestmark = pytest.mark.integration

WRONG_SECRET = "wrong-secret-~check-Q7v-must-not-appear"
UNKNOWN_TENANT = "00000000-0000-0000-0000-00000000dead"
UNKNOWN_CLIENT = "11111111-2222-3333-4444-555555555555"
UNKNOWN_USER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c99"
TITLES = {
    "settings": (1, "Connection fields"),
    "token": (2, "Access token from Entra ID"),
    "permission": (3, "Permission in the token"),
    "audience": (4, "Graph host and token audience"),
    "organizer": (5, "Organizer and application access policy"),
    "artifacts": (6, "Permissions of meeting artifacts"),
    "rate_budget": (7, "Shared rate budget"),
}


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a firewall that drops)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def hold() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                try:
                    accepted.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=hold, daemon=True)
        thread.start()
        yield server.getsockname()[1]
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()


def run_command(conn_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The console command in this process, ``--json``: its exit status and parsed output."""
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")  # what the command sets; restored after
    capsys.readouterr()
    status = main(["check", "--conn-id", conn_id, "--json"])
    out = capsys.readouterr().out
    return {"status": status, "report": json.loads(out), "out": out}


def failed_step(report: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in report["steps"] if s["status"] == "failed"]
    assert [s["status"] for s in report["steps"] if s["step"] > step["step"]] == ["not run"] * (
        len(TITLES) - step["step"]
    )
    return step


# Each case: connection overrides, step that fails, problem, exact message ({url}, {port},
# {client}, {tenant} filled in), a fragment of the fix.
MISCONFIGURATIONS = [
    pytest.param(
        {"tenant_id": None},
        "settings",
        "invalid_field",
        "connection field 'tenant_id': is missing; set the extra to the directory (tenant) id of the app registration.",
        "correct tenant_id",
        id="tenant id missing",
    ),
    pytest.param(
        {"verify": "/nonexistent/corp-ca.pem"},
        "settings",
        "ca_bundle_missing",
        "The CA bundle '/nonexistent/corp-ca.pem' of the extra verify does not exist on this machine.",
        "PEM file",
        id="CA bundle missing",
    ),
    pytest.param(
        {"password": "***"},
        "settings",
        "masked_secret",
        "The connection to test has password set to '***', Airflow's mask for a secret, not the secret "
        "itself: Airflow's UI Test button posts the masked form, and Airflow 3.3 then tests those values "
        "instead of the stored ones (apache/airflow#73298). Nothing was sent to Entra ID.",
        "airflow connections test",
        id="secret masked by the UI",
    ),
    pytest.param(
        {"password": WRONG_SECRET},
        "token",
        "wrong_secret",
        "Entra ID refused the client secret of app {client} (AADSTS7000215: invalid client secret).",
        "Value, not its Secret ID",
        id="wrong secret",
    ),
    pytest.param(
        {"password": "emulator-expired-secret~not-for-production"},
        "token",
        "expired_secret",
        "The client secret of app {client} has expired (AADSTS7000222).",
        "New client secret",
        id="expired secret",
    ),
    pytest.param(
        {"tenant_id": UNKNOWN_TENANT},
        "token",
        "wrong_tenant",
        f"Entra ID at {{url}} does not know the tenant '{UNKNOWN_TENANT}' (AADSTS90002).",
        "Directory (tenant) ID",
        id="wrong tenant",
    ),
    pytest.param(
        {"login": UNKNOWN_CLIENT},
        "token",
        "unknown_client",
        f"Tenant {{tenant}} has no application with client id {UNKNOWN_CLIENT} (AADSTS700016).",
        "Application (client) ID",
        id="unknown client id",
    ),
    pytest.param(
        {"authority_host": "https://127.0.0.1:{closed}"},
        "token",
        "login_unreachable",
        "Could not connect to the Entra ID login host https://127.0.0.1:{closed} ([Errno 111] Connection refused).",
        "reaches https://127.0.0.1:{closed} over HTTPS",
        id="login host unreachable",
    ),
    pytest.param(
        {"authority_host": "https://127.0.0.1:{silent}", "timeout": 0.5},
        "token",
        "login_timeout",
        "The Entra ID login host https://127.0.0.1:{silent} did not answer within 0.5 s.",
        "drops packets",
        id="login host times out",
    ),
    pytest.param(
        {"verify": True},
        "token",
        "untrusted_certificate",
        "The TLS certificate of the Entra ID login host {url} is not trusted (CERTIFICATE_VERIFY_FAILED).",
        "path of its CA bundle",
        id="untrusted CA",
    ),
    pytest.param(
        {"proxies": {"https": "http://proxyuser:proxy-pass-Zk4@127.0.0.1:{closed}"}},
        "token",
        "proxy_unreachable",
        "Could not reach the proxy 127.0.0.1:{closed} (from the extra proxies) on the way to the Entra ID login "
        "host {url} ([Errno 111] Connection refused).",
        "Correct the extra proxies",
        id="proxy unreachable",
    ),
    pytest.param(
        {"host": "https://graph.microsoft.us"},
        "audience",
        "cloud_mismatch",
        "The connection's cloud is 'global', so tokens are for https://graph.microsoft.com, but host sends the "
        "requests to https://graph.microsoft.us, the Graph of the 'usgov' cloud, which refuses them (401 Invalid "
        "audience).",
        "set the extra cloud to 'usgov'",
        id="national cloud mix-up, static",
    ),
    pytest.param(
        {"cloud": "usgov"},
        "audience",
        "audience_refused",
        "Graph at {url} refused the token for https://graph.microsoft.us with 401 InvalidAuthenticationToken "
        "(Access token validation failure. Invalid audience): that Graph serves another cloud than 'usgov'.",
        "Set the extra cloud",
        id="national cloud mix-up, Graph answers 401",
    ),
    pytest.param(
        {"default_user_id": NOPOLICY_ID},
        "organizer",
        "no_access_policy",
        "Graph answered 403 Forbidden (No Application Access Policy found for this app) for organizer "
        f"{NOPOLICY_ID}: no application access policy lets app {{client}} act for them.",
        f'Grant-CsApplicationAccessPolicy -PolicyName Airflow-Meetings -Identity "{NOPOLICY_ID}"',
        id="no access policy",
    ),
    pytest.param(
        {"default_user_id": UNKNOWN_USER},
        "organizer",
        "organizer_not_found",
        f"Graph answered 404 NotFound (Resource '{UNKNOWN_USER}' does not exist or one of its queried "
        f"reference-property objects are not present) for organizer {UNKNOWN_USER}.",
        "Object ID",
        id="organizer not found",
    ),
    pytest.param(
        {"default_user_id": "nobody@contoso.example"},
        "organizer",
        "organizer_not_found",
        "Graph answered 404 Request_ResourceNotFound (Resource 'nobody@contoso.example' does not exist or one of "
        "its queried reference-property objects are not present) to GET /users/nobody@contoso.example: no user "
        "of the tenant has the user principal name nobody@contoso.example.",
        "Set default_user_id to the object id",
        id="organizer UPN unknown",
    ),
    pytest.param(
        {"host": "https://127.0.0.1:{closed}"},
        "organizer",
        "graph_unreachable",
        "Could not connect to Graph https://127.0.0.1:{closed} ([Errno 111] Connection refused).",
        "over HTTPS",
        id="Graph host unreachable",
    ),
]


def fill(text: str, emu: Any, ports: dict[str, int]) -> str:
    return text.format(url=emu.url, client=emu.client_id, tenant=emu.tenant_id, **ports)


def fill_overrides(overrides: dict[str, Any], ports: dict[str, int]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**ports)
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        return value

    return {k: one(v) for k, v in overrides.items()}


@pytest.mark.parametrize(("overrides", "key", "problem", "message", "fix"), MISCONFIGURATIONS)
def test_each_misconfiguration_is_named_by_test_connection_and_the_command(
    make_hook, graph_emulator, silent_port, capsys, monkeypatch, overrides, key, problem, message, fix
):
    ports = {"closed": closed_port(), "silent": silent_port}
    hook = make_hook(**fill_overrides(overrides, ports))
    number, title = TITLES[key]

    ok, text = hook.test_connection()
    result = run_command(hook.conn_id, capsys, monkeypatch)

    step = failed_step(result["report"])
    expected = fill(message, graph_emulator, ports)
    assert (step["key"], step["problem"], step["message"]) == (key, problem, expected)
    assert fill(fix, graph_emulator, ports) in step["fix"]
    assert not ok
    assert text == f"Check {number}/7 ({title}) failed: {expected} Fix: {step['fix']}"
    assert result["status"] == 1
    assert (result["report"]["ok"], result["report"]["problem"], result["report"]["failed_step"]) == (
        False,
        problem,
        key,
    )
    assert graph_emulator.meetings() == []
    for secret in (WRONG_SECRET, graph_emulator.client_secret, "proxy-pass-Zk4", *graph_emulator.issued_tokens()):
        assert secret not in text and secret not in result["out"]


def test_a_correct_connection_passes_every_step_and_creates_nothing(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook()

    ok, text = hook.test_connection()
    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert ok and result["status"] == 0 and result["report"]["ok"]
    assert [s["status"] for s in result["report"]["steps"]] == ["passed"] * 5 + ["skipped"] * 2
    messages = [s["message"] for s in result["report"]["steps"]]
    assert messages[1:5] == [
        f"Entra ID at {graph_emulator.url} issued an app-only access token (valid for 60 min).",
        "The app token carries the application permission OnlineMeetings.ReadWrite.All (roles). Calendar events: "
        "the token also carries Calendars.ReadWrite (roles).",
        f"Tokens for https://graph.microsoft.com go to {graph_emulator.url} (host override); Graph there accepted "
        "the token.",
        f"Organizer {graph_emulator.default_user_id} exists and an application access policy lets the app act for "
        "them (a read-only meetings lookup answered 200; nothing was created). Calendar events: the organizer's "
        "calendar offers Teams meetings (teamsForBusiness).",
    ]
    assert messages[5].startswith("Not asked. To check the permissions of meeting artifacts, name the ones")
    assert messages[6] == "Not checked: rate_budget is 'off'; each process paces its own requests."
    assert text.startswith("All 7 checks passed. 1. Client id ")
    stats = graph_emulator.stats()
    # One meetings lookup and one calendar read per check, nothing else.
    assert stats["by_route"] == {"listMeetings": {"200": 2}, "getCalendar": {"200": 2}}
    assert graph_emulator.meetings() == []


def test_no_default_user_skips_the_organizer_step(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook(default_user_id=None)

    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert result["status"] == 0
    organizer = result["report"]["steps"][4]
    assert organizer["status"] == "skipped"
    assert organizer["message"].startswith("No default_user_id: tasks name their organizer (user_id)")
    assert graph_emulator.stats()["graph_requests"] == 0


def test_an_organizer_given_by_upn_is_looked_up_as_the_hook_does(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook(default_user_id="adelev@contoso.example")

    step = run_command(hook.conn_id, capsys, monkeypatch)["report"]["steps"][4]

    assert step["status"] == "passed"
    assert step["message"] == (
        f"Organizer adelev@contoso.example (object id {graph_emulator.default_user_id}) exists and an application "
        "access policy lets the app act for them (a read-only meetings lookup answered 200; nothing was created). "
        "Calendar events: the organizer's calendar offers Teams meetings (teamsForBusiness)."
    )
    assert graph_emulator.stats()["by_route"] == {
        "getUser": {"200": 1},
        "listMeetings": {"200": 1},
        "getCalendar": {"200": 1},
    }


def test_an_organizer_given_by_upn_needs_user_read_all(make_hook, graph_emulator, capsys, monkeypatch):
    graph_emulator.set_app_roles(["OnlineMeetings.ReadWrite.All"])
    hook = make_hook(default_user_id="adelev@contoso.example")

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["key"], step["problem"]) == ("organizer", "organizer_lookup_denied")
    assert step["message"].startswith("Graph answered 403 Authorization_RequestDenied (Insufficient privileges")
    assert step["message"].endswith(
        "to GET /users/adelev@contoso.example: organizer adelev@contoso.example is a user principal name, and the "
        "app may not look up its object id (User.Read.All missing)."
    )


def test_a_delegated_organizer_given_by_upn_needs_user_readbasic_all(make_hook, graph_emulator, capsys, monkeypatch):
    # The seeded delegated scopes hold User.Read (own user only); another user needs the
    # delegated User.ReadBasic.All (https://learn.microsoft.com/graph/api/user-get#permissions).
    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id="alexw@contoso.example")

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["key"], step["problem"]) == ("organizer", "organizer_lookup_denied")
    assert step["message"].endswith("app may not look up its object id (User.ReadBasic.All missing).")
    assert step["fix"].startswith("Grant the delegated permission User.ReadBasic.All and consent to it")


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        pytest.param(
            [],
            "The app token carries no application permission (no roles claim); createOrGet needs "
            "OnlineMeetings.ReadWrite.All.",
            id="admin consent missing",
        ),
        pytest.param(
            ["OnlineMeetings.Read.All", "User.Read.All"],
            "The app token's application permissions are OnlineMeetings.Read.All, User.Read.All; createOrGet "
            "needs OnlineMeetings.ReadWrite.All.",
            id="read permission only",
        ),
    ],
)
def test_missing_application_permission(make_hook, graph_emulator, capsys, monkeypatch, roles, message):
    graph_emulator.set_app_roles(roles)
    hook = make_hook()

    ok, text = hook.test_connection()
    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["key"], step["problem"], step["message"]) == ("permission", "permission_missing", message)
    assert "Grant admin consent" in step["fix"]
    assert not ok and text.startswith(f"Check 3/7 (Permission in the token) failed: {message} Fix: ")
    assert graph_emulator.stats()["graph_requests"] == 0


def test_certificate_not_registered(make_hook, tmp_path, capsys, monkeypatch):
    # A certificate of its own: the session's `certificate_files` one stays registered on the
    # session's emulator (reset() keeps certificates) once another test has registered it.
    app = make_app_certificate()
    key_pem = app.key_pem()
    path = str(tmp_path / "unregistered.pem")
    Path(path).write_text(key_pem + app.cert_pem)
    hook = make_hook(password=None, certificate_path=path)

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["problem"], step["message"]) == (
        "certificate_not_registered",
        f"Entra ID does not accept the certificate of {path} for app {hook.settings.client_id} (AADSTS700027): "
        "it is not registered on the app, or the key does not belong to it.",
    )
    assert key_pem.splitlines()[1] not in json.dumps(step)


def test_a_registered_certificate_passes(make_hook, graph_emulator, certificate_files, capsys, monkeypatch):
    graph_emulator.add_certificate(certificate_files["cert_pem"])
    hook = make_hook(password=None, certificate_path=certificate_files["paths"]["plain"])

    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert result["status"] == 0, result["out"]
    assert "app-only with a certificate" in result["report"]["steps"][0]["message"]


def test_delegated_connection_checks_the_scope_and_the_signed_in_user(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None)

    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert result["status"] == 0, result["out"]
    steps = result["report"]["steps"]
    assert steps[2]["message"] == (
        "The delegated token carries the permission OnlineMeetings.ReadWrite (scp). Calendar events: the token "
        "also carries Calendars.ReadWrite (scp); writing to another user's calendar (user_id=) also needs "
        "Calendars.ReadWrite.Shared and their delegation."
    )
    assert steps[4]["message"] == (
        "Graph answered the signed-in user's meetings lookup; delegated tokens need no access policy. Calendar "
        "events: the organizer's calendar offers Teams meetings (teamsForBusiness)."
    )
    # The probe's join URL names the signed-in user (the token's oid) as its organizer: Graph,
    # and the emulator, answer 404 for a join URL of another organizer (docs/emulator.md).
    assert graph_emulator.stats()["by_route"] == {"listMeetings": {"200": 1}, "getCalendar": {"200": 1}}
    for secret in (graph_emulator.refresh_token, *graph_emulator.issued_refresh_tokens()):
        assert secret not in result["out"]


def test_delegated_lookup_answered_404_is_not_confirmed_rather_than_failed(
    make_hook, graph_emulator, capsys, monkeypatch
):
    graph_emulator.script(404, match="GET .*/me/onlineMeetings")
    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None)

    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert result["status"] == 0, result["out"]
    organizer = result["report"]["steps"][4]
    assert organizer["status"] == "skipped"
    assert "to the signed-in user's read-only meetings lookup (organizer " in organizer["message"]
    assert "could not confirm" in organizer["message"]


def test_the_probe_is_not_retried(make_hook, graph_emulator, capsys, monkeypatch):
    graph_emulator.script(503, match="GET .*/onlineMeetings", times=3)
    hook = make_hook(max_retries=6)

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["key"], step["problem"]) == ("organizer", "graph_unavailable")
    assert graph_emulator.stats()["by_route"]["listMeetings"] == {"503": 1}


def test_delegated_connection_naming_another_organizer(make_hook, graph_emulator, capsys, monkeypatch):
    alex = graph_emulator.user("alexw")["id"]
    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=alex)

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert step["problem"] == "delegated_other_user"
    assert step["message"] == (
        f"Graph answered 403 Forbidden (Insufficient privileges to complete the operation) for organizer {alex}: "
        "a delegated token acts only as the user who signed in."
    )


def test_connection_that_does_not_exist(capsys, monkeypatch):
    result = run_command("meetings_check_nowhere", capsys, monkeypatch)

    step = failed_step(result["report"])
    assert (step["key"], step["problem"]) == ("settings", "connection_not_found")
    assert step["message"] == (
        "Connection 'meetings_check_nowhere' is not defined (looked in AIRFLOW_CONN_* variables, the secrets "
        "backends and the metadata database)."
    )


# -- an emulator that stands for US Gov Graph and consents fewer delegated permissions ----------


@pytest.fixture(scope="module")
def usgov_emulator() -> Iterator[Any]:
    from meetings_emulator import run_emulator

    with run_emulator(graph_resource="https://graph.microsoft.us", delegated_scopes=("User.Read",)) as emulator:
        yield emulator


def test_global_connection_to_us_gov_graph_is_refused_for_its_audience(usgov_emulator, make_hook, capsys, monkeypatch):
    hook = make_hook(usgov_emulator)

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["key"], step["problem"]) == ("audience", "audience_refused")
    assert step["message"] == (
        f"Graph at {usgov_emulator.url} refused the token for https://graph.microsoft.com with 401 "
        "InvalidAuthenticationToken (Access token validation failure. Invalid audience): that Graph serves "
        "another cloud than 'global'."
    )
    assert make_hook(usgov_emulator, cloud="usgov").test_connection()[0]


def test_delegated_token_without_the_meetings_scope(usgov_emulator, make_hook, capsys, monkeypatch):
    hook = make_hook(usgov_emulator, cloud="usgov", refresh_token=usgov_emulator.refresh_token, default_user_id=None)

    step = failed_step(run_command(hook.conn_id, capsys, monkeypatch)["report"])

    assert (step["key"], step["problem"], step["message"]) == (
        "permission",
        "scope_missing",
        "The delegated token's scopes are User.Read; createOrGet needs OnlineMeetings.ReadWrite.",
    )


def test_an_app_without_calendars_readwrite_passes_with_a_note(make_hook, graph_emulator, capsys, monkeypatch):
    """createOrGet alone does not need Calendars.ReadWrite: the check says so and still passes."""
    graph_emulator.set_app_roles(["OnlineMeetings.ReadWrite.All"])
    hook = make_hook()

    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert result["status"] == 0 and result["report"]["ok"], result["out"]
    message = result["report"]["steps"][2]["message"]
    assert "the token lacks the application permission Calendars.ReadWrite" in message
    assert "createOrGet alone does not" in message
    assert "getCalendar" not in graph_emulator.stats()["by_route"]  # not asked without the permission


def test_a_calendar_without_teams_passes_with_a_warning(make_hook, graph_emulator, capsys, monkeypatch):
    graph_emulator.set_online_meeting_providers(graph_emulator.default_user_id, ["skypeForConsumer"])
    hook = make_hook()

    result = run_command(hook.conn_id, capsys, monkeypatch)

    assert result["status"] == 0 and result["report"]["ok"], result["out"]
    assert result["report"]["steps"][4]["message"].endswith(
        "Warning: the organizer's calendar does not offer teamsForBusiness (allowedOnlineMeetingProviders: "
        "skypeForConsumer): calendar events there would get no Teams link (MissingJoinUrlError). The mailbox "
        "needs a work account with a Teams licence; createOrGet meetings are not affected."
    )
