"""Steps 6 and 7 of the connection check against the emulator: the permissions of the meeting
artifacts a DAG fetches (when asked) and the shared rate budget's store.

Real MSAL and HTTPS against the emulator; the stores are the real ones (a folder, SQLite
through SQLAlchemy, a Redis URL on a port nothing answers).
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from airflow_provider_meetings.cli import main

pytestmark = pytest.mark.integration

REDIS_PASSWORD = "budget-pass-Zq9-must-not-appear"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_command(conn_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """The console command in this process, ``--json``: exit status, parsed report, raw output."""
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")
    capsys.readouterr()
    status = main(["check", "--conn-id", conn_id, "--json", *args])
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if captured.out.strip() else None), captured


def step(report: dict[str, Any], key: str) -> dict[str, Any]:
    (found,) = [s for s in report["steps"] if s["key"] == key]
    return found


# -- step 6: the artifacts' permissions ---------------------------------------------------------


def test_artifacts_asked_by_the_extra_name_each_missing_permission(make_hook, graph_emulator, capsys, monkeypatch):
    graph_emulator.set_app_roles(["OnlineMeetings.ReadWrite.All", "OnlineMeetingArtifact.Read.All"])
    hook = make_hook(check_artifacts="attendance, transcript, recording")

    ok, text = hook.test_connection()
    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch)

    failed = step(report, "artifacts")
    assert (status, report["failed_step"], failed["problem"]) == (1, "artifacts", "artifact_permission_missing")
    assert failed["message"] == (
        "The token (roles: OnlineMeetingArtifact.Read.All, OnlineMeetings.ReadWrite.All) lacks what the artifacts "
        "asked for need: transcript needs OnlineMeetingTranscript.Read.All; recording needs "
        "OnlineMeetingRecording.Read.All."
    )
    assert (
        "Application permissions > OnlineMeetingTranscript.Read.All, OnlineMeetingRecording.Read.All" in failed["fix"]
    )
    assert step(report, "rate_budget")["status"] == "not run"
    assert not ok and text.startswith("Check 6/7 (Permissions of meeting artifacts) failed: The token (roles:")


def test_the_command_option_overrides_the_extra(make_hook, graph_emulator, capsys, monkeypatch):
    graph_emulator.set_app_roles(["OnlineMeetings.ReadWrite.All", "OnlineMeetingArtifact.Read.All"])
    hook = make_hook(check_artifacts="recording")

    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch, "--artifacts", "attendance")

    assert status == 0, report
    assert step(report, "artifacts")["message"] == (
        "The token carries OnlineMeetingArtifact.Read.All (attendance) in roles. Naming a meeting by join_url or "
        "external_id also needs OnlineMeetings.Read.All, which the token lacks; meeting_id works without it. "
        "App-only artifact requests also need the organizer's application access policy (step 5)."
    )


def test_every_artifact_permission_granted_passes(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook()

    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch, "--artifacts", "transcript,recording")

    assert status == 0, report
    message = step(report, "artifacts")["message"]
    assert message.startswith(
        "The token carries OnlineMeetingTranscript.Read.All (transcript), OnlineMeetingRecording.Read.All "
        "(recording) in roles."
    )
    assert message.endswith("Transcripts and recordings exist only for meetings of calendar events.")


def test_a_delegated_token_is_checked_for_its_scopes(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None, check_artifacts=["attendance"])

    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch)

    assert status == 0, report
    assert step(report, "artifacts")["message"] == (
        "The token carries OnlineMeetingArtifact.Read.All (attendance) in scp. Naming a meeting by join_url or "
        "external_id also needs OnlineMeetings.Read, which the token lacks; meeting_id works without it."
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (
            "attendance, minutes",
            "unknown artifact(s) ['minutes']: choose from ['attendance', 'transcript', 'recording']",
        ),
        (["recordings"], "unknown artifact(s) ['recordings']"),
        (",", "artifacts must name at least one of"),
    ],
)
def test_a_bad_check_artifacts_extra_fails_the_fields_step(make_hook, graph_emulator, capsys, monkeypatch, value, said):
    hook = make_hook(check_artifacts=value)

    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch)

    failed = step(report, "settings")
    assert (status, failed["problem"]) == (1, "invalid_field"), report
    assert failed["message"].startswith("connection field 'check_artifacts': ") and said in failed["message"]
    assert graph_emulator.stats()["token_requests"] == 0  # before any network call


def test_a_bad_artifacts_option_is_refused_by_the_command(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook()

    status, report, captured = run_command(hook.conn_id, capsys, monkeypatch, "--artifacts", "video")

    assert (status, report) == (2, None)
    assert "--artifacts: unknown artifact(s) ['video']" in captured.err


# -- step 7: the shared rate budget's store ---------------------------------------------------


def test_the_file_budget_beside_the_token_cache_answers(make_hook, graph_emulator, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache" / "tokens.json"
    hook = make_hook(token_cache_path=str(cache), rate_budget="file")

    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch)

    budget = step(report, "rate_budget")
    assert status == 0 and budget["status"] == "passed", report
    assert budget["message"].startswith(f"The shared rate budget (files in {cache.parent}) answered")
    assert [p.name for p in cache.parent.iterdir() if p.name.startswith("rate-budget")], list(cache.parent.iterdir())


def test_a_budget_folder_that_cannot_be_made_fails_with_its_fix(make_hook, graph_emulator, tmp_path):
    # A regular file where the folder should be: refused to root too, unlike a read-only folder.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    hook = make_hook(token_cache_path=str(blocker / "tokens.json"), rate_budget="file")

    ok, text = hook.test_connection()

    assert not ok
    assert text.startswith(
        f"Check 7/7 (Shared rate budget) failed: The shared rate budget (file (shared by the processes of each "
        f"machine, in {blocker})) did not answer: "
    ), text
    assert (
        f"{blocker}/rate-budget-" in text
        and "File exists" in text
        and "Make the folder writable" in text
        and "rate_budget to 'off'" in text
    )


def test_an_unreachable_redis_fails_without_its_password(make_hook, graph_emulator, capsys, monkeypatch):
    url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{closed_port()}/2"
    hook = make_hook(rate_budget="redis", rate_budget_url=url)

    ok, text = hook.test_connection()
    status, report, captured = run_command(hook.conn_id, capsys, monkeypatch)

    failed = step(report, "rate_budget")
    assert (status, failed["problem"]) == (1, "rate_budget_unavailable"), report
    assert failed["message"].startswith("The shared rate budget (redis (redis://:***@127.0.0.1:")
    assert "Check rate_budget_url" in failed["fix"]
    assert not ok and text.startswith("Check 7/7 (Shared rate budget) failed:")
    for shown in (text, captured.out, captured.err):
        assert REDIS_PASSWORD not in shown


def test_the_database_budget_uses_airflows_metadata_database(make_hook, graph_emulator, tmp_path, monkeypatch):
    database = tmp_path / "airflow.db"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{database}")
    hook = make_hook(rate_budget="database")

    ok, text = hook.test_connection()

    assert ok, text
    assert f"7. The shared rate budget (table msgraph_meetings_rate_budget in sqlite:///{database}) answered" in text


def test_budget_off_is_skipped(make_hook, graph_emulator, capsys, monkeypatch):
    hook = make_hook(rate_budget="off")

    status, report, _ = run_command(hook.conn_id, capsys, monkeypatch)

    budget = step(report, "rate_budget")
    assert status == 0 and budget["status"] == "skipped"
    assert budget["message"] == "Not checked: rate_budget is 'off'; each process paces its own requests."


def test_the_probe_leaves_the_budget_as_the_hook_reads_it(make_hook, graph_emulator, tmp_path, capsys, monkeypatch):
    """After the check, bulk calls on the same budget work as before (the probe wrote nothing they misread)."""
    cache = tmp_path / "tokens.json"
    hook = make_hook(token_cache_path=str(cache), rate_budget="file")
    assert run_command(hook.conn_id, capsys, monkeypatch)[0] == 0

    results = hook.create_or_get_meetings(
        [{"external_id": f"budget-probe-{i}", "subject": "after the check"} for i in range(3)]
    )

    assert [r.outcome for r in results] == ["created"] * 3
