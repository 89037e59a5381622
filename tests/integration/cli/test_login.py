"""``airflow-provider-meetings login``: the installed console script, run as a user would, against
the emulator. The test plays the user: it reads the printed code and approves (or declines) it
through the emulator's control API, then redeems the printed refresh token with the hook."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SCRIPT = Path(sys.executable).with_name("airflow-provider-meetings")
CONN_ID = "meetings_login"
CODE_RE = re.compile(r"enter the code (\S+)")


@pytest.fixture
def emu(quick_device_codes: Any) -> Iterator[Any]:
    quick_device_codes.reset(tokens=True)
    yield quick_device_codes
    quick_device_codes.reset(tokens=True)


@dataclass
class Login:
    """A running ``login`` command: its process and the user code it printed."""

    process: subprocess.Popen[str]
    code: str
    stderr: list[str] = field(default_factory=list)

    def finish(self) -> tuple[int, str, str]:
        assert self.process.stdout is not None
        out = self.process.stdout.read()  # standard error is read by the reader thread
        self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return self.process.returncode, out, "".join(self.stderr)


def start_login(emu: Any, *args: str, conn_id: str = CONN_ID, env: dict[str, str] | None = None, **conn: Any) -> Login:
    """Start the console script and wait until it prints the code to enter.

    :param env: the command's whole environment (default: this one, with the connection as
        an ``AIRFLOW_CONN_`` variable)
    """
    assert SCRIPT.exists(), f"the console script is not installed next to {sys.executable}"
    environment = env if env is not None else {**os.environ, **emu.environment(conn_id, **conn)}
    process = subprocess.Popen(
        [str(SCRIPT), "login", "--conn-id", conn_id, *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    codes: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            match = CODE_RE.search(line)
            if match:
                codes.put(match.group(1))
        codes.put("")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = codes.get(timeout=60)
    login = Login(process, code, lines)
    login._reader = reader  # type: ignore[attr-defined]
    if not code:
        process.wait(timeout=10)
        pytest.fail(f"login printed no code (exit {process.returncode}):\n{''.join(lines)}")
    return login


def test_login_prints_a_public_refresh_token_that_the_hook_redeems(emu, make_hook):
    login = start_login(emu, "--json", password=None, default_user_id=None)
    assert [c["user_code"] for c in emu.device_codes()] == [login.code]
    emu.approve_device_code("adelev@contoso.example", user_code=login.code)
    status, out, err = login.finish()

    assert status == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    token = result["refresh_token"]
    assert token in emu.issued_refresh_tokens()
    assert result["user"] == "adelev@contoso.example" and result["connection_has_credential"] is None
    assert token not in err  # printed once, on standard output only
    assert "90 days" in err

    hook = make_hook(emu, password=None, refresh_token=token, default_user_id=None)
    assert hook.create_or_get_meeting("after-login").created
    assert emu.meetings()[0]["user_id"] == emu.user("adelev")["id"]


@pytest.mark.usefixtures("airflow_db")
def test_walkthrough_of_the_docs_from_login_to_the_first_meeting(emu, dags_folder, monkeypatch, tmp_path):
    """docs/connection.md, delegated mode: a connection without secret, login, the extra, the DAG."""
    import importlib.util
    import shutil
    from datetime import datetime, timezone

    conn_id = "msgraph_meetings_delegated"
    conn = {"password": None, "default_user_id": None, "token_cache_path": str(tmp_path / "cache.json")}
    login = start_login(emu, conn_id=conn_id, **conn)
    emu.approve_device_code("adelev@contoso.example", user_code=login.code)
    status, out, err = login.finish()
    assert status == 0, err
    [token] = [line for line in out.splitlines() if line.strip()]

    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", emu.connection_json(refresh_token=token, **conn))
    path = dags_folder / "my_first_delegated_meeting.py"
    shutil.copy(Path(__file__).with_name("delegated_first_meeting.py"), path)
    spec = importlib.util.spec_from_file_location("meetings_docs_delegated_first_meeting", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test(logical_date=datetime(2026, 11, 28, tzinfo=timezone.utc))

    assert [ti.state for ti in run.get_task_instances()] == ["success"]
    [meeting] = emu.meetings()
    assert meeting["external_id"] == "my_first_delegated_meeting-2026-11-28"
    assert meeting["user_id"] == emu.user("adelev")["id"]  # /me: the user who signed in
    assert meeting["meeting"]["subject"] == "Planning 2026-11-28"


@pytest.mark.usefixtures("airflow_db")
def test_login_reads_a_connection_that_only_the_metadata_database_has(emu):
    """Made with `airflow connections add` (or the UI), as the command's own error message recommends."""
    from cryptography.fernet import Fernet

    conn_id = "meetings_login_in_db"
    # Both processes must share a Fernet key (in unit-test mode Airflow makes one per process).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()
    env.pop("_AIRFLOW_PROCESS_CONTEXT", None)
    conn = json.dumps(emu.connection_dict(password=None, default_user_id=None))
    airflow = SCRIPT.with_name("airflow")
    added = subprocess.run(
        [str(airflow), "connections", "add", conn_id, "--conn-json", conn], capture_output=True, text=True, env=env
    )
    assert added.returncode == 0, added.stdout + added.stderr
    try:
        login = start_login(emu, "--json", conn_id=conn_id, env=env)
        emu.approve_device_code("adelev@contoso.example", user_code=login.code)
        status, out, err = login.finish()
    finally:
        subprocess.run([str(airflow), "connections", "delete", conn_id], capture_output=True, env=env)

    assert status == 0, err
    result = json.loads(out)  # standard output is the JSON alone
    assert result["conn_id"] == conn_id and result["refresh_token"] in emu.issued_refresh_tokens()
    assert result["connection_has_credential"] is None
    assert "cannot read connection" not in err


def test_login_without_json_prints_the_token_and_what_to_do_with_it(emu):
    login = start_login(emu, password=None)
    emu.approve_device_code("adelev@contoso.example", user_code=login.code)
    status, out, err = login.finish()

    assert status == 0, err
    [token] = [line for line in out.splitlines() if line.strip()]
    assert token in emu.issued_refresh_tokens()
    assert f"Set this as the refresh_token extra of connection '{CONN_ID}'" in err
    assert "Refresh token (delegated)" in err and f"login --conn-id {CONN_ID}" in err


def test_login_warns_when_the_connection_has_a_secret(emu):
    login = start_login(emu, "--json")  # the emulator's connection carries the client secret
    emu.approve_device_code("adelev@contoso.example", user_code=login.code)
    status, out, err = login.finish()

    assert status == 0, err
    assert json.loads(out.strip().splitlines()[-1])["connection_has_credential"] == "secret"
    assert "AADSTS700025" in err and "remove the password" in err
    assert emu.client_secret not in out + err


def test_declined_sign_in_exits_non_zero_with_a_clear_message(emu):
    login = start_login(emu, password=None)
    emu.decline_device_code(login.code)
    status, out, err = login.finish()

    assert status == 1 and out == ""
    assert "error: the sign-in was declined. Run the command again" in err
    assert emu.issued_refresh_tokens() == []


def test_code_expiry_exits_non_zero_with_a_clear_message():
    from meetings_emulator import run_emulator

    with run_emulator(device_code_interval=1, device_code_lifetime=2) as short:
        login = start_login(short, password=None)
        status, out, err = login.finish()

    assert status == 1 and out == ""
    assert "error: the code expired before anyone signed in" in err


def test_timeout_exits_non_zero_with_a_clear_message(emu):
    login = start_login(emu, "--timeout", "2", password=None)
    status, out, err = login.finish()

    assert status == 1 and out == ""
    assert "error: nobody signed in within --timeout 2 s" in err


def test_public_client_flows_off_says_what_to_turn_on(emu):
    emu.set_public_client_flows(False)
    login = start_login(emu, password=None)
    emu.approve_device_code("adelev@contoso.example", user_code=login.code)
    status, out, err = login.finish()

    assert status == 1 and out == ""
    assert "AADSTS7000218" in err and "Allow public client flows" in err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({}, f"cannot read connection '{CONN_ID}'", id="no such connection"),
        pytest.param(
            {f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps({"conn_type": "msgraph_meetings", "login": "app"})},
            "tenant_id",
            id="no tenant",
        ),
    ],
)
def test_unusable_connection_exits_2_before_any_request(emu, env, message):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(f"AIRFLOW_CONN_{CONN_ID.upper()}")}
    done = subprocess.run(
        [str(SCRIPT), "login", "--conn-id", CONN_ID],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr
    assert emu.stats()["token_requests"] == 0
