"""Attendance records as rows: one per attendee and join/leave interval, as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

from airflow_provider_meetings.attendance_table import (
    COLUMNS,
    attendance_rows,
    report_ids,
    rows_to_csv,
    rows_to_json,
    table_csv,
)

# Shaped like graph/api/attendancerecord-list's example, plus the hook's report fields.
ADA = {
    "reportId": "r1",
    "meetingStartDateTime": "2026-12-07T09:00:00Z",
    "meetingEndDateTime": "2026-12-07T10:00:00Z",
    "emailAddress": "ada@example.org",
    "totalAttendanceInSeconds": 3000,
    "role": "Attendee",
    "identity": {"id": "ada-id", "displayName": "Ada Lovelace", "tenantId": None},
    "attendanceIntervals": [
        {"joinDateTime": "2026-12-07T09:00:00Z", "leaveDateTime": "2026-12-07T09:30:00Z", "durationInSeconds": 1800},
        {"joinDateTime": "2026-12-07T09:40:00Z", "leaveDateTime": "2026-12-07T10:00:00Z", "durationInSeconds": 1200},
    ],
}
PHONE = {
    "reportId": "r1",
    "emailAddress": None,  # anonymous and phone participants have none
    "totalAttendanceInSeconds": 60.0,
    "role": "Attendee",
    "identity": {"id": None, "displayName": "+1 555 0100"},
    "attendanceIntervals": [],
}


def test_one_row_per_interval_and_one_for_a_record_without_intervals() -> None:
    rows = attendance_rows([ADA, PHONE])
    assert [(r["display_name"], r["interval_index"], r["interval_seconds"]) for r in rows] == [
        ("Ada Lovelace", 0, 1800),
        ("Ada Lovelace", 1, 1200),
        ("+1 555 0100", None, None),
    ]
    assert rows[0]["total_attendance_seconds"] == 3000 and rows[2]["total_attendance_seconds"] == 60
    assert rows[1] == {
        "report_id": "r1",
        "meeting_start": "2026-12-07T09:00:00Z",
        "meeting_end": "2026-12-07T10:00:00Z",
        "identity_id": "ada-id",
        "display_name": "Ada Lovelace",
        "email": "ada@example.org",
        "tenant_id": None,
        "role": "Attendee",
        "total_attendance_seconds": 3000,
        "interval_index": 1,
        "join": "2026-12-07T09:40:00Z",
        "leave": "2026-12-07T10:00:00Z",
        "interval_seconds": 1200,
    }
    assert list(rows[1]) == list(COLUMNS)


def test_csv_has_the_header_and_empty_cells_for_nulls() -> None:
    text = rows_to_csv(attendance_rows([ADA, PHONE])).decode("utf-8")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert [row["interval_seconds"] for row in parsed] == ["1800", "1200", ""]
    assert parsed[2]["email"] == ""


def test_json_keeps_types_unicode_and_the_reports() -> None:
    record = {**ADA, "identity": {**ADA["identity"], "displayName": "Zoë Ångström"}}
    data = rows_to_json(attendance_rows([record, PHONE]), meeting_id="MSo+/=", user_id=None)
    document = json.loads(data.decode("utf-8"))
    assert "Zoë Ångström".encode() in data
    assert (document["meeting_id"], document["user_id"], document["reports"]) == ("MSo+/=", None, ["r1"])
    assert document["rows"][2]["email"] is None and document["rows"][0]["interval_seconds"] == 1800


def test_no_records_is_a_header_only_csv() -> None:
    assert rows_to_csv(attendance_rows([])).decode() == ",".join(COLUMNS) + "\n"


def test_report_ids_are_the_listed_reports_and_those_of_the_rows() -> None:
    rows = attendance_rows([ADA, PHONE, {**PHONE, "reportId": "r0"}])
    assert report_ids(rows) == ["r0", "r1"]
    # A report without records (a session that ended with none) is named by the list only.
    listed = [{"id": "r1", "meetingStartDateTime": "2026-12-07T09:00:00Z"}, {"id": "r2"}]
    assert report_ids(rows, listed) == ["r0", "r1", "r2"]
    assert report_ids([], listed) == ["r1", "r2"]
    document = json.loads(rows_to_json(rows, meeting_id="m", user_id="u", reports=listed))
    assert document["reports"] == ["r0", "r1", "r2"]


def test_table_csv_writes_the_columns_in_order_and_leaves_other_keys_out() -> None:
    text = table_csv([{"b": 2, "a": None, "extra": "x"}, {"a": "x,y"}], ("a", "b"))
    assert text == 'a,b\n,2\n"x,y",\n'
    assert table_csv([], ("a",)) == "a\n"
