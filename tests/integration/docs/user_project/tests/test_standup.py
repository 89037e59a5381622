import subprocess
import sys
from datetime import datetime, timezone

from standup import dag

MONDAY = datetime(2030, 1, 7, 9, tzinfo=timezone.utc)


def test_standup_meeting_is_created_once(meetings_airflow_db, meetings_conn_id, graph_emulator):
    graph_emulator.script({"status": 429, "retry_after": "1"})  # Graph throttles once

    first = dag.test(logical_date=MONDAY)
    again = dag.test(logical_date=MONDAY)  # a re-run gets the same meeting

    assert first.state == again.state == "success"
    [stored] = graph_emulator.meetings()
    assert stored["external_id"] == "standup-2030-01-07"
    assert stored["meeting"]["participants"]["attendees"][0]["upn"] == "alexw@contoso.example"
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"429": 1, "201": 1, "200": 1}


def test_standup_with_the_airflow_cli(meetings_airflow_db, meetings_conn_id, graph_emulator):
    command = [sys.executable, "-m", "airflow", "dags", "test", "standup", "2030-01-08T09:00:00+00:00"]
    done = subprocess.run(command, capture_output=True, text=True)  # same home, database and emulator

    assert done.returncode == 0, done.stdout + done.stderr
    [stored] = graph_emulator.meetings()
    assert stored["external_id"] == "standup-2030-01-08"
