"""``airflow-provider-meetings check --emulator`` without the emulator extra: says what to install."""

from __future__ import annotations

import importlib.util
import os

import pytest

from airflow_provider_meetings.cli import check as check_command
from airflow_provider_meetings.cli import main


def test_emulator_option_without_trustme_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        check_command.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "trustme" else real_find_spec(name, *a),
    )
    monkeypatch.delenv("AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT", raising=False)

    assert main(["check", "--emulator"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert "pip install 'airflow-provider-meetings[emulator]'" in err
    assert "trustme" in err
    assert "AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT" not in check_command.os.environ


def test_the_check_reads_connections_as_a_server_process_and_restores_the_context(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    contexts: list[str | None] = []

    class Report:
        ok = True

        def to_json(self) -> dict:
            return {"ok": True}

    def check(conn_id: str, artifacts: object) -> Report:
        contexts.append(os.environ.get("_AIRFLOW_PROCESS_CONTEXT"))
        return Report()

    monkeypatch.setattr(check_command, "_check", check)
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "client")

    assert main(["check", "--json"]) == 0

    assert contexts == ["server"] and os.environ["_AIRFLOW_PROCESS_CONTEXT"] == "client"
    assert capsys.readouterr().out.strip() == '{\n  "ok": true\n}'
