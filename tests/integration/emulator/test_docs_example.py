"""The "Testing your own DAG" example of docs/emulator.md, run as written (the docs quote it)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


# [START emulator_docs_example]
import subprocess
import sys
from pathlib import Path

DAGS_FOLDER = Path(__file__).parent / "example_dags"


def airflow(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_standup_meeting_is_created_once(graph_emulator, tmp_path, monkeypatch):
    graph_emulator.reset()
    graph_emulator.script({"status": 429, "retry_after": "1"})  # Graph throttles once
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    monkeypatch.setenv("AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT", graph_emulator.connection_json())

    airflow("db", "migrate")
    airflow("dags", "test", "standup", "2030-01-07T09:00:00+00:00")
    airflow("dags", "test", "standup", "2030-01-07T09:00:00+00:00")  # a re-run gets the same meeting

    [stored] = graph_emulator.meetings()
    assert stored["external_id"] == "standup-2030-01-07"
    assert stored["meeting"]["participants"]["attendees"][0]["upn"] == "alexw@contoso.example"
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"429": 1, "201": 1, "200": 1}


# [END emulator_docs_example]
