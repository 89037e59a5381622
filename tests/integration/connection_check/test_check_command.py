"""``airflow-provider-meetings check`` as users run it: an installed console script, in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meetings_emulator.config import NOPOLICY_ID

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = BIN / "airflow-provider-meetings"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "airflow_provider_meetings.cli"]
    return subprocess.run([*argv, *args], capture_output=True, text=True, env=env, timeout=120)


#: The report's step lines when every check passes.
ALL_STEPS_OK = [
    "1. Connection fields: ok",
    "2. Access token from Entra ID: ok",
    "3. Permission in the token: ok",
    "4. Graph host and token audience: ok",
    "5. Organizer and application access policy: ok",
]


def step_lines(lines: list[str]) -> list[str]:
    """The numbered step lines of a report."""
    return [line for line in lines if line[:2] in {f"{n}." for n in range(1, 6)}]


def test_json_from_a_connection_in_the_metadata_database_with_test_connection_disabled(
    graph_emulator: Any, airflow_db: None
) -> None:
    from cryptography.fernet import Fernet

    graph_emulator.reset()
    # Both processes must share a Fernet key (in unit-test mode Airflow makes one per process).
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Disabled",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
    }
    conn = graph_emulator.connection_dict(default_user_id=NOPOLICY_ID)
    added = subprocess.run(
        [str(BIN / "airflow"), "connections", "add", "meetings_check_db", "--conn-json", json.dumps(conn)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert added.returncode == 0, added.stdout + added.stderr

    done = command("check", "--conn-id", "meetings_check_db", "--json", env=env)

    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)  # stdout is the report alone; logs went to stderr
    assert (report["conn_id"], report["ok"], report["failed_step"], report["problem"]) == (
        "meetings_check_db",
        False,
        "organizer",
        "no_access_policy",
    )
    assert [s["status"] for s in report["steps"]] == [
        "passed",
        "passed",
        "passed",
        "passed",
        "failed",
        "not run",
        "not run",
    ]
    assert report["steps"][4]["message"] == (
        f"Graph answered 403 Forbidden (No Application Access Policy found for this app) for organizer "
        f"{NOPOLICY_ID}: no application access policy lets app {graph_emulator.client_id} act for them."
    )
    for secret in (graph_emulator.client_secret, *graph_emulator.issued_tokens()):
        assert secret not in done.stdout + done.stderr


def test_text_report_and_exit_status_zero(graph_emulator: Any) -> None:
    graph_emulator.reset()
    env = {**os.environ, "AIRFLOW_CONN_MEETINGS_CHECK_ENV": graph_emulator.connection_json()}

    done = command("check", "--conn-id", "meetings_check_env", env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Checking connection 'meetings_check_env' (airflow-provider-meetings ")
    assert step_lines(lines) == ALL_STEPS_OK
    assert lines[-1] == "OK: the connection 'meetings_check_env' passed every check."
    assert graph_emulator.client_secret not in done.stdout + done.stderr


def test_help_lists_the_check_command() -> None:
    done = command("--help", env=dict(os.environ))

    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "check Check a msgraph_meetings connection step by step and name the first misconfiguration" in text


def _without_conn(conn_id: str) -> dict[str, str]:
    """This environment without any AIRFLOW_CONN_<ID> for ``conn_id``: --emulator must define it."""
    env = dict(os.environ)
    env.pop(f"AIRFLOW_CONN_{conn_id.upper()}", None)
    return env


def test_emulator_option_checks_the_built_in_emulator_with_no_connection_defined() -> None:
    done = command("check", "--emulator", env=_without_conn("msgraph_meetings_default"))

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Against the built-in emulator at https://127.0.0.1:")
    assert lines[1].startswith("Checking connection 'msgraph_meetings_default' (airflow-provider-meetings ")
    assert step_lines(lines) == ALL_STEPS_OK
    assert lines[-1] == "OK: the connection 'msgraph_meetings_default' passed every check."


def test_emulator_option_with_json_and_a_conn_id() -> None:
    from meetings_emulator.config import DEFAULT_CLIENT_SECRET, ORGANIZER_ID

    done = command("check", "--emulator", "--json", "--conn-id", "meetings_check_emu", env=_without_conn("x"))

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)  # stdout is the JSON alone
    assert (report["conn_id"], report["ok"], report["failed_step"], report["problem"]) == (
        "meetings_check_emu",
        True,
        None,
        None,
    )
    assert [(s["key"], s["status"]) for s in report["steps"]] == [
        ("settings", "passed"),
        ("token", "passed"),
        ("permission", "passed"),
        ("audience", "passed"),
        ("organizer", "passed"),
        ("artifacts", "skipped"),
        ("rate_budget", "skipped"),  # the emulator's connection paces each process alone
    ]
    assert ORGANIZER_ID in report["steps"][4]["message"]
    assert DEFAULT_CLIENT_SECRET not in done.stdout + done.stderr
