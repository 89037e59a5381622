"""Both sample DAGs through real Airflow (``airflow dags test``), real MSAL and HTTPS,
against the emulator: what they book, that re-running books nothing more, and that the
events DAG keeps meetings in step with an edited events file (moved, cancelled events)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from meetings_dag_helpers.outputs import read_report

# whole sample DAGs and the docs' commands: make test-slow (part of make e2e in CI), not make test
pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ALEX = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
MEGAN = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c03"

WEEKLY = "teams_weekly_office_hour"
WEEKLY_DATE = "2026-12-07T07:00:00+00:00"  # Monday 08:00 Europe/Paris, the cron tick
WEEKLY_FRIDAY = "2026-12-04T09:00:00+00:00"  # the Friday before, 10:00 Europe/Paris
EVENTS = "teams_meetings_from_events"
EVENTS_DATE = "2026-12-07T05:00:00+00:00"  # 06:00 Europe/Paris
NEXT_DAY = "2026-12-08T05:00:00+00:00"

#: What dags/data/events.csv must become for the 2026-12-07 run:
#: key -> (organizer object id, subject, start UTC, end UTC, attendee UPNs)
EXPECTED_EVENTS = {
    "course-ml101-2026-12-07": (
        ADELE,
        "ML 101 lecture: gradient descent",
        "2026-12-07T08:00:00",
        "2026-12-07T09:30:00",
        ["alexw@contoso.example", "meganb@contoso.example"],
    ),
    "interview-4711": (
        ALEX,
        "Interview: senior data engineer, candidate 4711",
        "2026-12-07T10:00:00",
        "2026-12-07T10:45:00",
        ["meganb@contoso.example"],
    ),
    # No end in the file: the default 30 minutes.
    "ticket-INC-1042": (
        MEGAN,
        "Incident review INC-1042",
        "2026-12-07T14:00:00",
        "2026-12-07T14:30:00",
        ["alexw@contoso.example", "adelev@contoso.example"],
    ),
}


def utc(graph_time: str) -> str:
    """Graph's ``2026-12-07T08:00:00.0000000Z`` as ``2026-12-07T08:00:00``."""
    parsed = datetime.fromisoformat(graph_time.rstrip("Z")[:26]).replace(tzinfo=timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def stored(emulator: Any, dag_id: str) -> dict[str, dict[str, Any]]:
    """The emulator's meetings of one DAG, by external id."""
    return {m["external_id"]: m for m in emulator.meetings() if m["external_id"].startswith(dag_id + "-")}


def create_or_get_statuses(emulator: Any) -> dict[str, int]:
    return emulator.stats()["by_route"].get("createOrGet", {})


def route(emulator: Any, name: str) -> dict[str, int]:
    return emulator.stats()["by_route"].get(name, {})


def attendee_upns(meeting: dict[str, Any]) -> list[str]:
    return [a.get("upn") for a in meeting["participants"].get("attendees", [])]


def report(sample_airflow: Any, dag_id: str, folder: str) -> list[dict[str, str]]:
    return read_report(sample_airflow.output_dir / dag_id / folder / "meetings.csv")


@pytest.fixture(scope="module")
def first_runs(sample_airflow: Any, graph_emulator: Any) -> Any:
    sample_airflow.dags_test(WEEKLY, WEEKLY_DATE)
    sample_airflow.dags_test(EVENTS, EVENTS_DATE)
    return sample_airflow


def test_weekly_dag_books_one_meeting_for_the_run(first_runs: Any, graph_emulator: Any) -> None:
    meetings = stored(graph_emulator, WEEKLY)
    # A manual run (airflow dags test) books the next session at or after its logical date;
    # the external id is the session's date.
    assert list(meetings) == [f"{WEEKLY}-2026-12-07"]
    (entry,) = meetings.values()
    meeting = entry["meeting"]
    assert entry["user_id"] == ADELE
    assert meeting["subject"] == "Data team office hour (2026-12-07)"
    # Monday 08:00 Paris (07:00 UTC) + 360 min offset, 60 min long
    assert (utc(meeting["startDateTime"]), utc(meeting["endDateTime"])) == (
        "2026-12-07T13:00:00",
        "2026-12-07T14:00:00",
    )
    assert attendee_upns(meeting) == ["alexw@contoso.example", "meganb@contoso.example"]

    (row,) = report(first_runs, WEEKLY, "20261207T070000Z")
    assert row["status"] == "created"
    assert row["join_url"] == meeting["joinWebUrl"]
    invitation = (first_runs.output_dir / WEEKLY / "20261207T070000Z" / "invitation.ics").read_text()
    assert "DTSTART:20261207T130000Z" in invitation


def test_events_dag_books_one_meeting_per_event_of_the_day(first_runs: Any, graph_emulator: Any) -> None:
    meetings = stored(graph_emulator, EVENTS)
    assert set(meetings) == {f"{EVENTS}-{key}" for key in EXPECTED_EVENTS}
    for key, (organizer, subject, start, end, attendees) in EXPECTED_EVENTS.items():
        entry = meetings[f"{EVENTS}-{key}"]
        meeting = entry["meeting"]
        assert entry["user_id"] == organizer, key
        assert meeting["subject"] == subject
        assert (utc(meeting["startDateTime"]), utc(meeting["endDateTime"])) == (start, end), key
        assert attendee_upns(meeting) == attendees, key

    rows = report(first_runs, EVENTS, "20261207T050000Z")
    assert {row["event_key"]: row["status"] for row in rows} == {key: "created" for key in EXPECTED_EVENTS}
    assert {row["join_url"] for row in rows} == {m["meeting"]["joinWebUrl"] for m in meetings.values()}


def test_rerunning_the_same_logical_dates_books_nothing(first_runs: Any, graph_emulator: Any) -> None:
    """``airflow dags test`` on an existing logical date clears its task instances and
    runs them again: every createOrGet answers 200 with the meeting of the first run."""
    before = {m["external_id"]: m["meeting"]["id"] for m in graph_emulator.meetings()}
    statuses = create_or_get_statuses(graph_emulator)
    created_before, reused_before = statuses.get("201", 0), statuses.get("200", 0)

    first_runs.dags_test(WEEKLY, WEEKLY_DATE)
    first_runs.dags_test(EVENTS, EVENTS_DATE)

    after = {m["external_id"]: m["meeting"]["id"] for m in graph_emulator.meetings()}
    assert after == before
    statuses = create_or_get_statuses(graph_emulator)
    assert statuses.get("201", 0) == created_before
    assert statuses.get("200", 0) == reused_before + 1 + len(EXPECTED_EVENTS)
    assert route(graph_emulator, "updateMeeting") == {}  # the events DAG syncs: nothing changed, nothing sent
    assert report(first_runs, WEEKLY, "20261207T070000Z")[0]["status"] == "existing"
    assert {row["status"] for row in report(first_runs, EVENTS, "20261207T050000Z")} == {"unchanged"}


def test_rerunning_one_cleared_task_books_nothing(first_runs: Any, graph_emulator: Any) -> None:
    """One task instance of the existing run again (``airflow tasks test``): 200, same meeting."""
    count = len(graph_emulator.meetings())
    reused_before = create_or_get_statuses(graph_emulator).get("200", 0)
    result = first_runs.airflow("tasks", "test", WEEKLY, "create_or_get_office_hour", WEEKLY_DATE)
    assert "Reused existing Teams meeting" in result.stdout + result.stderr
    assert len(graph_emulator.meetings()) == count
    assert create_or_get_statuses(graph_emulator).get("200", 0) == reused_before + 1


def test_manual_weekly_run_before_the_session_gets_the_same_meeting(first_runs: Any, graph_emulator: Any) -> None:
    """Triggered on the Friday before, the weekly DAG books Monday's session, not a past
    one nor a second meeting: the external id is the session's date."""
    before = stored(graph_emulator, WEEKLY)
    reused_before = create_or_get_statuses(graph_emulator).get("200", 0)
    first_runs.dags_test(WEEKLY, WEEKLY_FRIDAY)
    assert stored(graph_emulator, WEEKLY) == before
    assert create_or_get_statuses(graph_emulator).get("200", 0) == reused_before + 1
    (row,) = report(first_runs, WEEKLY, "20261204T090000Z")
    assert (row["status"], row["event_key"]) == ("existing", "office-hour-2026-12-07")


def test_next_days_run_books_only_the_new_event(first_runs: Any, graph_emulator: Any) -> None:
    before = set(stored(graph_emulator, EVENTS))
    first_runs.dags_test(EVENTS, NEXT_DAY)
    assert set(stored(graph_emulator, EVENTS)) - before == {f"{EVENTS}-course-ml101-2026-12-08"}
    (row,) = report(first_runs, EVENTS, "20261208T050000Z")
    assert (row["event_key"], row["status"]) == ("course-ml101-2026-12-08", "created")


def test_a_moved_event_moves_its_meeting_and_a_cancelled_one_loses_it(
    first_runs: Any, graph_emulator: Any, edited_sample_data: Any
) -> None:
    """The demo's edit: one event an hour later, one cancelled. A second run changes nothing more."""
    edited = edited_sample_data(
        "events.csv",
        {
            "2026-12-07T09:00:00+01:00,2026-12-07T10:30:00+01:00": "2026-12-07T10:00:00+01:00,2026-12-07T11:30:00+01:00",
            "meganb@contoso.example,\nticket": "meganb@contoso.example,cancelled\nticket",
        },
    )
    assert edited.read_text().count("cancelled") == 1 and "T11:30:00+01:00" in edited.read_text()
    before = stored(graph_emulator, EVENTS)
    patched, deleted = (
        route(graph_emulator, "updateMeeting").get("200", 0),
        route(graph_emulator, "deleteMeeting").get("204", 0),
    )

    first_runs.dags_test(EVENTS, EVENTS_DATE, events_file=str(edited))

    rows = {row["event_key"]: row for row in report(first_runs, EVENTS, "20261207T050000Z")}
    assert {key: row["status"] for key, row in rows.items()} == {
        "course-ml101-2026-12-07": "updated",
        "interview-4711": "cancelled",
        "ticket-INC-1042": "unchanged",
    }
    after = stored(graph_emulator, EVENTS)
    assert set(before) - set(after) == {f"{EVENTS}-interview-4711"}
    moved = after[f"{EVENTS}-course-ml101-2026-12-07"]["meeting"]
    assert moved["id"] == before[f"{EVENTS}-course-ml101-2026-12-07"]["meeting"]["id"]
    assert moved["joinWebUrl"] == rows["course-ml101-2026-12-07"]["join_url"]
    assert (utc(moved["startDateTime"]), utc(moved["endDateTime"])) == ("2026-12-07T09:00:00", "2026-12-07T10:30:00")
    assert route(graph_emulator, "updateMeeting").get("200", 0) == patched + 1
    assert route(graph_emulator, "deleteMeeting").get("204", 0) == deleted + 1

    first_runs.dags_test(EVENTS, EVENTS_DATE, events_file=str(edited))  # the same file again

    rows = {row["event_key"]: row for row in report(first_runs, EVENTS, "20261207T050000Z")}
    assert {key: row["status"] for key, row in rows.items()} == {
        "course-ml101-2026-12-07": "unchanged",
        "interview-4711": "not_found",  # found no meeting; the one createOrGet made is deleted at once
        "ticket-INC-1042": "unchanged",
    }
    assert stored(graph_emulator, EVENTS) == after
    assert route(graph_emulator, "updateMeeting").get("200", 0) == patched + 1


def test_a_day_without_events_writes_an_empty_report(first_runs: Any, graph_emulator: Any) -> None:
    """Zero mapped instances: the mapped task is skipped, the report still runs (none_failed)."""
    count = len(graph_emulator.meetings())
    first_runs.dags_test(EVENTS, "2026-12-20T05:00:00+00:00")
    assert len(graph_emulator.meetings()) == count
    assert report(first_runs, EVENTS, "20261220T050000Z") == []
