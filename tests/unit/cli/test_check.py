"""``airflow-provider-meetings check --emulator`` without the emulator extra: says what to install."""

from __future__ import annotations

import importlib.util

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
