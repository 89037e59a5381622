"""Attendance records as a table: one row per attendee and per join/leave interval.

Graph's ``attendanceRecord`` (graph/api/resources/attendancerecord) holds the attendee's
``identity {id, displayName, tenantId}``, ``emailAddress`` (null for anonymous and phone
participants), ``role``, ``totalAttendanceInSeconds`` and ``attendanceIntervals
[{joinDateTime, leaveDateTime, durationInSeconds}]``; the hook adds the ``reportId`` and
the report's ``meetingStartDateTime``/``meetingEndDateTime`` (one report per session).
An attendee who joined three times is three rows; a record without intervals is one row
with empty interval columns, so that no attendee is lost.

Pure: no Airflow, no network.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The CSV header (and the keys of each JSON row), in order.
COLUMNS: tuple[str, ...] = (
    "report_id",
    "meeting_start",
    "meeting_end",
    "identity_id",
    "display_name",
    "email",
    "tenant_id",
    "role",
    "total_attendance_seconds",
    "interval_index",
    "join",
    "leave",
    "interval_seconds",
)


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def attendance_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per record and attendance interval (a record without intervals: one row)."""
    rows: list[dict[str, Any]] = []
    for record in records:
        identity = record.get("identity") or {}
        person = {
            "report_id": record.get("reportId"),
            "meeting_start": record.get("meetingStartDateTime"),
            "meeting_end": record.get("meetingEndDateTime"),
            "identity_id": identity.get("id"),
            "display_name": identity.get("displayName"),
            "email": record.get("emailAddress"),
            "tenant_id": identity.get("tenantId"),
            "role": record.get("role"),
            "total_attendance_seconds": _number(record.get("totalAttendanceInSeconds")),
        }
        intervals = list(record.get("attendanceIntervals") or []) or [None]
        for index, interval in enumerate(intervals):
            interval = interval or {}
            rows.append(
                {
                    **person,
                    "interval_index": index if interval else None,
                    "join": interval.get("joinDateTime"),
                    "leave": interval.get("leaveDateTime"),
                    "interval_seconds": _number(interval.get("durationInSeconds")),
                }
            )
    return rows


def table_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as CSV text: a header of ``columns``, then each row's values of those columns
    (``None`` or a missing key as an empty cell, other keys left out), ``\\n`` line ends.

    The one CSV writer of the attendance files and of the sample DAGs' reports.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if row.get(name) is None else row.get(name) for name in columns] for row in rows)
    return out.getvalue()


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The rows as UTF-8 CSV with the :data:`COLUMNS` header (``None`` as an empty cell)."""
    return table_csv(rows, COLUMNS).encode("utf-8")


def report_ids(rows: Iterable[Mapping[str, Any]], reports: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """The ids of the meeting's attendance reports, sorted: every report of ``reports``
    (Graph's ``meetingAttendanceReport`` objects: one per session that ended, a report
    without records too) and every report a row names.

    The count of attendance reports is ``len`` of this, as the artifacts status counts the
    reports Graph lists: a session whose report has no records still ended.
    """
    ids = {str(report["id"]) for report in reports if report.get("id")}
    ids |= {str(row["report_id"]) for row in rows if row.get("report_id")}
    return sorted(ids)


def rows_to_json(
    rows: Iterable[Mapping[str, Any]],
    *,
    meeting_id: str,
    user_id: str | None,
    reports: Iterable[Mapping[str, Any]] = (),
) -> bytes:
    """The rows as a UTF-8 JSON document ``{"meeting_id", "user_id", "reports", "rows"}``;
    ``reports`` is :func:`report_ids` of the rows and of ``reports``."""
    rows = [dict(row) for row in rows]
    document = {"meeting_id": meeting_id, "user_id": user_id, "reports": report_ids(rows, reports), "rows": rows}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
