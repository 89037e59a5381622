"""Minutes per person and no-shows of ``teams_attendance_report`` (pure helpers)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from meetings_dag_helpers.attendance import (
    ATTENDED,
    NO_SHOW,
    REPORT_COLUMNS,
    UNINVITED,
    Invitee,
    attendance_json_path,
    attendees,
    match,
    read_attendance_json,
    report_csv,
)

from airflow_provider_meetings.attendance_table import attendance_rows


def record(report: str, seconds: int, *, id: str | None, email: str | None, name: str, intervals: int = 1) -> dict:
    each = seconds // intervals
    return {
        "reportId": report,
        "emailAddress": email,
        "totalAttendanceInSeconds": seconds,
        "role": "Attendee",
        "identity": {"id": id, "displayName": name},
        "attendanceIntervals": [{"durationInSeconds": each} for _ in range(intervals)],
    }


ROWS = attendance_rows(
    [
        record("r1", 1800, id="megan-id", email="meganb@contoso.example", name="Megan Bowen", intervals=2),
        record("r2", 600, id="megan-id", email=None, name="Megan Bowen"),  # a second session, no address
        record("r1", 3000, id=None, email="ada@example.org", name="Ada Lovelace"),  # a guest: no Entra id
        record("r1", 120, id=None, email=None, name="+1 555 0100"),  # a phone participant
    ]
)


def test_a_person_is_one_line_over_intervals_and_sessions() -> None:
    people = {p.key: p for p in attendees(ROWS)}
    assert set(people) == {"id:megan-id", "email:ada@example.org", "name:+1 555 0100"}
    megan = people["id:megan-id"]
    assert (megan.seconds, megan.email) == (2400, "meganb@contoso.example")  # each record's total once


def test_invitees_attended_or_no_show_and_strangers_uninvited() -> None:
    invitees = [
        Invitee(email="ada@example.org", name="Ada Lovelace"),
        Invitee(email="MEGANB@contoso.example"),  # address case differs
        Invitee(email="lynner@contoso.example", kind="optional"),
    ]
    lines = match(invitees, attendees(ROWS))
    assert [(line["person"], line["status"], line["minutes"], line["invited"]) for line in lines] == [
        ("Ada Lovelace", ATTENDED, 50.0, "required"),
        ("Megan Bowen", ATTENDED, 40.0, "required"),
        ("lynner@contoso.example", NO_SHOW, 0.0, "optional"),
        ("+1 555 0100", UNINVITED, 2.0, ""),
    ]


def test_the_entra_id_wins_over_the_address() -> None:
    # Megan invited by id with an alias address: still matched, by her id.
    lines = match([Invitee(email="megan.alias@contoso.example", id="megan-id")], attendees(ROWS))
    assert (lines[0]["status"], lines[0]["minutes"], lines[0]["identity_id"]) == (ATTENDED, 40.0, "megan-id")


def test_one_attendee_answers_for_one_invitee() -> None:
    lines = match([Invitee(email="ada@example.org"), Invitee(email="ada@example.org")], attendees(ROWS))
    assert [line["status"] for line in lines[:2]] == [ATTENDED, NO_SHOW]


def test_report_csv_and_the_asset_extra() -> None:
    text = report_csv([{"external_id": "x", "person": "Ada", "status": ATTENDED, "minutes": 50.0, "email": None}])
    assert list(csv.DictReader(io.StringIO(text))) == [
        dict.fromkeys(REPORT_COLUMNS, "") | {"external_id": "x", "person": "Ada", "status": ATTENDED, "minutes": "50.0"}
    ]
    extra = {"paths": {"attendance": ["/a/attendance.csv", "/a/attendance.json"], "recordings": ["/a/r.mp4"]}}
    assert attendance_json_path(extra) == "/a/attendance.json"
    assert attendance_json_path({"paths": {"recordings": ["/a/r.mp4"]}}) is None


def test_attendance_json_must_hold_rows() -> None:
    assert read_attendance_json(json.dumps({"meeting_id": "m", "rows": []}))["rows"] == []
    with pytest.raises(ValueError, match="no 'rows' list"):
        read_attendance_json("[]")
