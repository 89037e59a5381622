"""Start-up paths: persistence, CLI, subprocess helper, control client, binding, pytest fixtures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from emulator_testlib import GRAPH_SCOPE, app_token, create_or_get, create_path, make_app, make_session, side_by_side

from meetings_emulator import EmulatorClient, run_emulator, start_emulator_process
from meetings_emulator.config import ORGANIZER_ID

pytestmark = pytest.mark.integration


def create(emu: Any, external_id: str) -> Any:
    return create_or_get(emu, app_token(emu), external_id, ORGANIZER_ID)


def emulator_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "meetings_emulator", *args]


@contextmanager
def cli_on_port_0(ready: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """The emulator's command on a free port: its process and its ready file once written (it
    must start within 30 s); killed at the end unless it has stopped."""
    process = subprocess.Popen(
        emulator_cli("--port", "0", "--ready-file", str(ready), *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield process, json.loads(ready.read_text())
    finally:
        if process.poll() is None:
            process.kill()


def test_state_file_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with run_emulator(state_file=str(state)) as emu:
        first = create(emu, "persist")
        emu.revoke_policy("alexw@contoso.example")
        assert first.status_code == 201
    assert json.loads(state.read_text())["meetings"][0]["external_id"] == "persist"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with run_emulator(state_file=str(state)) as emu:
        again = create(emu, "persist")
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert emu.user("alexw")["hasPolicy"] is False


def test_cli_ready_file_call_and_sigterm(tmp_path: Path) -> None:
    ca_file = tmp_path / "it's here" / "ca.pem"  # a quote in the path: the printed line must still paste
    options = ("--ca-file", str(ca_file), "--token-lifetime", "600")
    with cli_on_port_0(tmp_path / "ready.json", *options) as (process, info):
        assert info["ca_path"] == str(ca_file)
        conn = info["connection"]
        assert conn["conn_type"] == "msgraph_meetings" and conn["host"] == info["url"]
        assert conn["extra"]["verify"] == info["ca_path"] and conn["extra"]["default_user_id"] == ORGANIZER_ID
        client = EmulatorClient(info["url"], info["ca_path"])
        response = create(client, "cli")
        assert response.status_code == 201
        assert client.stats()["by_route"]["createOrGet"] == {"201": 1}
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "loopback only" in out
    [export] = [line for line in out.splitlines() if line.startswith("export AIRFLOW_CONN_")]
    pasted = subprocess.run(  # the line as a user pastes it into bash
        ["bash", "-c", export + '\nprintf %s "$AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert pasted.stdout == info["connection_json"]
    assert "nopolicy@contoso.example" in out
    assert info["connection"]["password"] not in err  # secrets only on stdout, on purpose


def test_process_helper_and_remote_control(tmp_path: Path) -> None:
    with start_emulator_process(latency_ms=0, rate_limit=100, extra_args=["--rate-limit-retry-after", "0.5"]) as emu:
        assert emu.health()
        emu.set_latency(10)
        emu.script({"status": 429, "retry_after": "3"})
        assert emu.pending_faults()[0]["retry_after"] == "3"
        assert create(emu, "remote").status_code == 429
        assert create(emu, "remote").status_code == 201
        emu.revoke_policy("adelev@contoso.example")
        assert create(emu, "remote").status_code == 403
        emu.grant_policy(ORGANIZER_ID)
        assert [m["external_id"] for m in emu.meetings()] == ["remote"]
        assert emu.expire_tokens() >= 1
        emu.reset()
        assert emu.meetings() == [] and emu.stats()["latency_ms"] == 0.0
        assert emu.stats()["rate_limit_retry_after"] == 0.5  # from the command line
        emu.set_rate_limit(1, retry_after=2.128)
        assert create(emu, "decimal").status_code == 201
        throttled = create(emu, "decimal")
        assert throttled.headers["Retry-After"] == "2.128"
        # the "Sample response" of https://learn.microsoft.com/graph/throttling
        assert throttled.json()["error"]["code"] == "TooManyRequests"
        assert throttled.json()["error"]["message"] == "Please retry again later."
        process = emu.process
    assert process.returncode == 0


def test_control_endpoint_rejects_bad_input(emu: Any) -> None:
    from meetings_emulator.control_client import EmulatorError

    client = EmulatorClient(emu.url, emu.ca_path)
    with pytest.raises(EmulatorError) as unknown_user:
        client.grant_policy("nobody@contoso.example")
    assert unknown_user.value.status == 404
    with pytest.raises(EmulatorError) as bad_fault:
        client.script("explode")
    assert bad_fault.value.status == 400
    with pytest.raises(EmulatorError, match="retry_after") as bad_retry_after:
        client.set_rate_limit(1, retry_after="soon")
    assert bad_retry_after.value.status == 400
    response = make_session(emu.ca_path).get(f"{emu.url}/_emulator/nothing-here")
    assert response.status_code == 404


def test_binds_loopback_by_default(emu: Any) -> None:
    assert emu.url.startswith("https://127.0.0.1:")
    assert emu._server.server_address[0] == "127.0.0.1"
    hostname = socket.gethostname()
    try:
        external = {a[4][0] for a in socket.getaddrinfo(hostname, None, socket.AF_INET)} - {"127.0.0.1", "127.0.1.1"}
    except socket.gaierror:
        external = set()
    for address in external:
        with pytest.raises(OSError):
            socket.create_connection((address, emu.port), timeout=1).close()


def test_plain_http_is_refused(emu: Any) -> None:
    import requests

    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:{emu.port}/_emulator/health", timeout=5)
    assert make_session(emu.ca_path).get(f"{emu.url}/_emulator/health").json() == {"status": "ok"}


def test_meetings_conn_id_fixture(meetings_conn_id: str, graph_emulator: Any) -> None:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
    from meetings_emulator.pytest_plugin import DEFAULT_CONN_ID

    assert meetings_conn_id == "msgraph_meetings_test"
    assert DEFAULT_CONN_ID == OnlineMeetingsHook.default_conn_name  # what DAGs use without conn_id
    for variable in ("AIRFLOW_CONN_MSGRAPH_MEETINGS_TEST", "AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT"):
        conn = json.loads(os.environ[variable])
        assert conn["host"] == graph_emulator.url and conn["login"] == graph_emulator.client_id
    assert graph_emulator.meetings() == []


def test_connection_forms_parse_in_airflow(emu: Any) -> None:
    pytest.importorskip("airflow")
    from airflow.sdk import Connection

    from_json = Connection.from_json(emu.connection_json(), conn_id="x")
    assert from_json.host == emu.url and from_json.password == emu.client_secret
    assert from_json.extra_dejson["tenant_id"] == emu.tenant_id
    # the URI form splits the port off the host, as Airflow always does
    from_uri = Connection.from_uri(emu.connection_uri(), conn_id="y")
    assert f"{from_uri.host}:{from_uri.port}" == emu.url
    assert from_uri.login == emu.client_id and from_uri.password == emu.client_secret
    assert from_uri.extra_dejson == from_json.extra_dejson


def test_throughput_with_latency_in_a_subprocess() -> None:
    with start_emulator_process(latency_ms=100) as emu:
        token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        url = f"{emu.url}/v1.0{create_path(emu.default_user_id)}"
        codes: list[int] = []

        def worker(w: int) -> None:
            session = make_session(emu.ca_path)
            for i in range(10):
                codes.append(
                    session.post(
                        url, json={"externalId": f"{w}-{i}"}, headers={"Authorization": f"Bearer {token}"}, timeout=10
                    ).status_code
                )

        start = time.monotonic()
        side_by_side(worker, 25)
        elapsed = time.monotonic() - start
        assert codes == [201] * 250
        assert 250 / elapsed > 100, f"{250 / elapsed:.0f} requests/s"
        assert emu.stats()["connections"] <= 30  # keep-alive: about one connection per worker


def test_cli_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            emulator_cli("--port", str(port), "--ca-file", str(tmp_path / "ca.pem")),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("meetings-emulator: error: ") and f"port {port} " in line, line
    assert "already in use" in line and "--port 0" in line, line


def test_cli_port_0_prints_the_port_it_listens_on(tmp_path: Path) -> None:
    with cli_on_port_0(tmp_path / "ready.json", "--ca-file", str(tmp_path / "ca.pem")) as (process, info):
        port = int(info["url"].rsplit(":", 1)[1])
        assert port != 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it listens there
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert f"listening on https://127.0.0.1:{port} " in out


def test_cli_version() -> None:
    from airflow_provider_meetings import __version__

    done = subprocess.run(emulator_cli("--version"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"meetings-emulator {__version__}"
