"""TLS verification is on unless switched off (and then warned about once per hook); the
emulator listens on loopback only unless told otherwise, and says which."""

from __future__ import annotations

import subprocess
import time
import warnings
from pathlib import Path

import pytest

from airflow_provider_meetings.graph.errors import ConnectionConfigError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@pytest.mark.parametrize(
    "ca_environment",
    [pytest.param(True, id="REQUESTS_CA_BUNDLE = system CAs"), pytest.param(False, id="no CA environment (certifi)")],
)
def test_tls_is_verified_by_default_and_failure_is_reported_at_once(
    make_hook, graph_emulator, monkeypatch, hook_logs, ca_environment
):
    if not ca_environment:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
    hook = make_hook(verify=None)  # no verify extra: the default
    assert hook.settings.verify is True

    started = time.monotonic()
    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("tls-default")
    elapsed = time.monotonic() - started

    assert caught.value.field == "verify"
    assert "is not trusted (CERTIFICATE_VERIFY_FAILED)" in str(caught.value)
    assert "set the extra verify to the path of the CA bundle" in str(caught.value)
    assert elapsed < 3 and "retry" not in hook_logs.text  # a certificate does not become trusted by waiting
    stats = graph_emulator.stats()
    assert (stats["token_requests"], stats["graph_requests"]) == (0, 0)


def test_bulk_with_an_untrusted_certificate_fails_every_item_at_once(make_hook, graph_emulator, hook_logs):
    hook = make_hook(verify=None)

    started = time.monotonic()
    results = hook.create_or_get_meetings([{"external_id": f"tls-bulk-{i}"} for i in range(45)])

    assert time.monotonic() - started < 3 and "retry" not in hook_logs.text
    assert all(isinstance(r.error, ConnectionConfigError) and r.error.field == "verify" for r in results)
    assert all(r.permanent for r in results)
    assert graph_emulator.stats()["graph_requests"] == 0


def test_verify_false_works_and_warns_once_per_hook(make_hook, graph_emulator, hook_logs):
    hooks = [make_hook(verify=False), make_hook(verify="false")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(3):
            for hook in hooks:
                assert hook.create_or_get_meeting(f"insecure-{hook.conn_id}-{n}").meeting_id
    warned = hook_logs.messages("warning")
    for hook in hooks:
        assert len([w for w in warned if f"Connection {hook.conn_id!r} has verify=false" in w]) == 1
    assert all("tokens can be intercepted" in w for w in warned)
    assert [w for w in caught if "Unverified HTTPS" in str(w.message)] == []


@pytest.mark.parametrize(
    ("host", "says", "address"),
    [
        pytest.param(None, "(loopback only)", "0100007F", id="default host"),
        pytest.param("0.0.0.0", "(bound to 0.0.0.0: REACHABLE FROM THE NETWORK)", "00000000", id="all interfaces"),
    ],
)
def test_emulator_cli_says_where_it_listens(tmp_path, host, says, address):
    from meetings_emulator import start_emulator_process

    output = tmp_path / "stdout.txt"
    with (
        output.open("w") as stdout,
        start_emulator_process(
            extra_args=["--host", host] if host else [], stdout=stdout, stderr=subprocess.DEVNULL
        ) as emu,
    ):
        port = int(emu.url.rsplit(":", 1)[1])
        listening = listening_addresses(port)
    first_line = output.read_text().splitlines()[0]
    assert first_line.startswith("Meetings emulator (Entra ID + Graph onlineMeetings) listening on https://127.0.0.1:")
    assert first_line.endswith(says)
    assert listening == {address}


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) with a socket listening on ``port``."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("needs /proc/net/tcp (Linux)")
    found = set()
    for line in table.read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        ip, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
            found.add(ip)
    return found
