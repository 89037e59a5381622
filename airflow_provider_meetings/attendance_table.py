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
from collections.abc import Iterable, Mapping
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


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The rows as UTF-8 CSV with the :data:`COLUMNS` header (``None`` as an empty cell)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if row.get(name) is None else row.get(name) for name in COLUMNS})
    return out.getvalue().encode("utf-8")


def rows_to_json(rows: Iterable[Mapping[str, Any]], *, meeting_id: str, user_id: str | None) -> bytes:
    """The rows as a UTF-8 JSON document ``{"meeting_id", "user_id", "reports", "rows"}``."""
    rows = [dict(row) for row in rows]
    reports = sorted({row["report_id"] for row in rows if row.get("report_id")})
    document = {"meeting_id": meeting_id, "user_id": user_id, "reports": reports, "rows": rows}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
