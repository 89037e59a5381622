"""Attendance reports and their records (meetingattendancereport-list, attendancerecord-list).

``GET .../attendanceReports`` lists the 50 most recent reports of a meeting, one per
session that ended (none while a session runs, none before the meeting took place);
``GET .../attendanceReports/{reportId}/attendanceRecords`` pages its records with
``@odata.nextLink``. Each record is returned as Graph sent it, plus ``reportId`` and the
report's ``meetingStartDateTime`` and ``meetingEndDateTime`` (a series or a restarted
meeting has several reports under one join URL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_meetings.artifacts.locate import ResolvedMeeting

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

__all__ = ["attendance_records", "attendance_reports"]

#: Report fields copied onto each of its records.
REPORT_FIELDS = ("meetingStartDateTime", "meetingEndDateTime")


def attendance_reports(client: GraphRestClient, meeting: ResolvedMeeting) -> list[dict[str, Any]]:
    """The meeting's attendance reports, oldest session first (``[]`` before the meeting).

    :param client: the Graph client
    :param meeting: the meeting
    """
    reports = [
        report
        for report in client.get_all(f"{meeting.path}/attendanceReports", what="GET attendanceReports")
        if isinstance(report, dict) and report.get("id")
    ]
    return sorted(reports, key=lambda report: str(report.get("meetingStartDateTime") or ""))


def attendance_records(
    client: GraphRestClient, meeting: ResolvedMeeting, reports: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every record of every report of the meeting, across pages; ``[]`` before the meeting.

    :param client: the Graph client
    :param meeting: the meeting
    :param reports: the meeting's reports as :func:`attendance_reports` listed them (default:
        listed here)
    :return: Graph's ``attendanceRecord`` objects with ``reportId``, ``meetingStartDateTime``
        and ``meetingEndDateTime`` added
    """
    records: list[dict[str, Any]] = []
    for report in attendance_reports(client, meeting) if reports is None else reports:
        report_id = str(report["id"])
        path = f"{meeting.path}/attendanceReports/{quote(report_id, safe='')}/attendanceRecords"
        extra = {"reportId": report_id, **{name: report.get(name) for name in REPORT_FIELDS}}
        for record in client.get_all(path, what="GET attendanceRecords"):
            if isinstance(record, dict):
                records.append({**record, **extra})
    return records
