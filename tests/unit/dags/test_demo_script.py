"""The pure parts of ``scripts/demo.py`` (the whole demo runs in tests/integration/dags)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

DEMO = Path(__file__).resolve().parents[3] / "scripts" / "demo.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("meetings_demo_script", DEMO)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def row(key: str, status: str, url: str = "https://teams.example/join") -> tuple[str, dict[str, str]]:
    return "dag", {"event_key": key, "status": status, "join_url": url}


def test_airflow_env_isolates_the_demo(demo: ModuleType, tmp_path: Path) -> None:
    base = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://prod", "NO_PROXY": "corp.example", "PATH": "/bin"}
    env = demo.airflow_env(base, demo_dir=tmp_path, connection_json="{}")
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(demo.REPO / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT"] == "{}"
    assert env["NO_PROXY"] == "corp.example,127.0.0.1,localhost"
    assert env["PATH"] == "/bin"


def test_format_table_and_summary(demo: ModuleType) -> None:
    first = [
        row("office-hour-2026-12-07", "created", "https://teams.example/" + "x" * 200),
        row("k", "existing"),
        row("gone", "created", "https://teams.example/gone"),
    ]
    edited = [row("k", "updated", "https://teams.example/moved"), row("gone", "cancelled", ""), row("new", "created")]
    lines = demo.format_table(first, edited).splitlines()
    assert lines[0].split() == ["event", "run", "1", "edited", "join", "URL"]
    assert lines[1].split()[:3] == ["office-hour-2026-12-07", "created", "-"]
    assert lines[1].endswith("...") and len(lines[1].split()[3]) == demo.URL_WIDTH
    assert lines[2].split() == ["k", "existing", "updated", "https://teams.example/moved"]
    assert lines[3].split() == ["gone", "created", "cancelled", "https://teams.example/gone"]  # the URL it had
    assert lines[4].split() == ["new", "-", "created", "https://teams.example/join"]
    assert demo.summary(first) == "2 created, 1 existing"
    assert demo.summary(edited) == "1 updated, 1 cancelled, 1 created"


def test_edit_events_moves_one_event_and_cancels_another(demo: ModuleType, tmp_path: Path) -> None:
    from meetings_dag_helpers.events import parse_events

    original = {e.key: e for e in parse_events(demo.EVENTS_FILE.read_text(), suffix=".csv")}
    edited_text = demo.edit_events(demo.EVENTS_FILE.read_text())
    edited = {e.key: e for e in parse_events(edited_text, suffix=".csv")}

    assert set(edited) == set(original)
    moved, was = edited[demo.MOVED_EVENT], original[demo.MOVED_EVENT]
    assert (moved.start - was.start, moved.end - was.end) == (timedelta(hours=1), timedelta(hours=1))
    assert [key for key, e in edited.items() if e.cancelled] == [demo.CANCELLED_EVENT]
    unchanged = set(original) - {demo.MOVED_EVENT, demo.CANCELLED_EVENT}
    assert all(edited[key] == original[key] for key in unchanged)
    with pytest.raises(demo.DemoError):
        demo.edit_events("event_key,title,start,end,organizer,attendees,status\n")


def test_demo_dates_match_the_sample_events(demo: ModuleType) -> None:
    """The demo's fixed logical dates must select events from dags/data/events.csv."""
    from meetings_dag_helpers.events import read_events_file
    from meetings_dag_helpers.window import starting_in

    (events_dag,) = [d for d in demo.DEMO_DAGS if d.dag_id == "teams_meetings_from_events"]
    start = datetime.fromisoformat(events_dag.logical_date)
    events = read_events_file(demo.REPO / "dags" / "data" / "events.csv")
    assert len(starting_in(events, start, start + timedelta(hours=24))) == 3


def stored_event(key: str, event_id: str, change_key: str, state: str = "active", **fields: object) -> dict:
    """A calendar event as ``GET /_emulator/events`` lists it."""
    event = {
        "id": event_id,
        "changeKey": change_key,
        "subject": f"Interview {key}",
        "start": {"dateTime": "2026-12-07T10:00:00.0000000", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-12-07T11:00:00.0000000", "timeZone": "Europe/Berlin"},
        "organizer": {"emailAddress": {"address": "adelev@contoso.example"}},
        "attendees": [
            {"type": "required", "emailAddress": {"address": "ada@example.org"}},
            {"type": "required", "emailAddress": {"address": "alexw@contoso.example"}},
            {"type": "optional", "emailAddress": {"address": "lynner@contoso.example"}},
        ],
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/" + "x" * 100},
        "singleValueExtendedProperties": [{"id": "String {guid} Name ExternalId", "value": key}],
        **fields,
    }
    return {"event": event, "state": state}


def test_interview_events_say_what_the_run_did(demo: ModuleType) -> None:
    later = {"start": {"dateTime": "2026-12-08T09:30:00.0000000", "timeZone": "Europe/Berlin"}}
    stored = [
        stored_event("teams_interview_loop-ml-0815", "e3", "k3", **later),
        stored_event("teams_interview_loop-de-4711", "e1", "k1"),
        stored_event("teams_interview_loop-de-4712", "e2", "k2-new"),
        stored_event("teams_interview_loop-gone", "e4", "k4", state="cancelled"),
        stored_event("teams_interview_loop-deleted", "e5", "k5", state="deleted"),
        stored_event("other-dag-1", "e6", "k6"),
    ]
    rows = demo.interview_events(stored, before={"e1": "k1", "e2": "k2", "e4": "k4"})
    assert [(r["key"], r["status"]) for r in rows] == [
        ("de-4711", "unchanged"),
        ("de-4712", "updated"),
        ("gone", "cancelled"),
        ("ml-0815", "created"),
    ]
    assert rows[0]["attendees"] == [
        ("ada@example.org", "required"),
        ("alexw@contoso.example", "required"),
        ("lynner@contoso.example", "optional"),
    ]
    text = demo.format_events(rows[:1]).splitlines()
    assert text[0].split() == [
        "de-4711",
        "unchanged",
        "2026-12-07",
        "10:00-11:00",
        "Europe/Berlin",
        "Interview",
        "teams_interview_loop-de-4711",
    ]
    assert text[1].split() == [
        "invitations",
        "from",
        "adelev@contoso.example",
        "to",
        "required:",
        "ada@example.org,",
        "alexw@contoso.example;",
        "optional:",
        "lynner@contoso.example",
    ]
    assert text[2].strip().startswith("Teams link: https://teams.microsoft.com/") and text[2].endswith("...")
    assert demo.format_events([]) == "  (none)"
