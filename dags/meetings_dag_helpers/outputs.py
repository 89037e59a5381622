"""What the sample DAGs write: an invitation file and a CSV report of the meetings.

Files go under ``<output_dir>/<dag_id>/<run folder>/``. ``output_dir`` is the DAG's
param; when empty it is ``$AIRFLOW_HOME/meetings_output`` (or a folder in the system's
temp directory when ``AIRFLOW_HOME`` is unset), never the DAGs folder.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_provider_meetings.attendance_table import table_csv
from airflow_provider_meetings.graph.values import to_utc

REPORT_FILE = "meetings.csv"
INVITATION_FILE = "invitation.ics"
REPORT_COLUMNS = ("event_key", "status", "subject", "start", "end", "meeting_id", "join_url", "external_id")


def resolve_output_dir(value: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The base output folder: ``value``, else under ``AIRFLOW_HOME``, else a temp folder."""
    environ = os.environ if environ is None else environ
    if value and value.strip():
        return Path(value.strip()).expanduser()
    home = environ.get("AIRFLOW_HOME")
    if home:
        return Path(home).expanduser() / "meetings_output"
    return Path(tempfile.gettempdir()) / "airflow-meetings-output"


def run_folder(base: Path, dag_id: str, anchor: datetime) -> Path:
    """``<base>/<dag_id>/<anchor as UTC YYYYMMDDTHHMMSSZ>``: one folder per run, stable on re-runs."""
    return base / dag_id / f"{anchor.astimezone(timezone.utc):%Y%m%dT%H%M%S}Z"


def status_of(outcome: bool | str | None) -> str:
    """The report's status: the operator's ``status`` XCom as it is (``created``, ``updated``,
    ``unchanged``, ``cancelled``, ``not_found``...), or from its ``created`` XCom ``created``
    or ``existing`` (the words of :data:`airflow_provider_meetings.meetings.results.MeetingStatus`);
    ``unknown`` without either (e.g. an operator failure)."""
    if isinstance(outcome, str):
        return outcome
    if outcome is None:
        return "unknown"
    return "created" if outcome else "existing"


def report_row(event_key: str, meeting: Mapping[str, Any], outcome: bool | str | None) -> dict[str, str]:
    """One report line from the operator's meeting JSON and its ``status`` (or ``created``) XCom."""
    return {
        "event_key": event_key,
        "status": status_of(outcome),
        "subject": str(meeting.get("subject") or ""),
        "start": str(meeting.get("startDateTime") or ""),
        "end": str(meeting.get("endDateTime") or ""),
        "meeting_id": str(meeting.get("id") or ""),
        "join_url": str(meeting.get("joinWebUrl") or ""),
        "external_id": str(meeting.get("externalId") or ""),
    }


def report_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """The report as CSV text with the :data:`REPORT_COLUMNS` header."""
    return table_csv(rows, REPORT_COLUMNS)


def read_report(path: Path) -> list[dict[str, str]]:
    """Rows of a report written by :func:`report_csv`."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` atomically enough for a report (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="")
    partial.replace(path)
    return path


def _ics_time(value: str, name: str) -> str:
    # The provider's reading: Graph's seven fraction digits, and any offset turned into UTC.
    moment = to_utc(value, field_name=name)
    if moment is None:
        raise ValueError(f"the meeting has no {name}")
    return f"{moment:%Y%m%dT%H%M%S}Z"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str, width: int = 74) -> str:
    # RFC 5545 lines are at most 75 octets; longer ones continue on lines starting with a space.
    data = line.encode("utf-8")
    parts = []
    while len(data) > width:
        cut = width
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # do not split a UTF-8 sequence
            cut -= 1
        parts.append(data[:cut].decode("utf-8"))
        data = data[cut:]
        width = 73  # continuation lines spend one octet on the leading space
    parts.append(data.decode("utf-8"))
    return "\r\n ".join(parts)


def invitation_ics(meeting: Mapping[str, Any], *, stamp: datetime) -> str:
    """An iCalendar invitation (RFC 5545) for a Graph meeting; times are written in UTC."""
    join_url = str(meeting.get("joinWebUrl") or "")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//airflow-provider-meetings//sample DAG//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{meeting.get('id')}",
        f"DTSTAMP:{stamp.astimezone(timezone.utc):%Y%m%dT%H%M%S}Z",
        f"DTSTART:{_ics_time(str(meeting['startDateTime']), 'startDateTime')}",
        f"DTEND:{_ics_time(str(meeting['endDateTime']), 'endDateTime')}",
        f"SUMMARY:{_ics_text(str(meeting.get('subject') or 'Teams meeting'))}",
        "LOCATION:Microsoft Teams",
        f"URL:{join_url}",
        f"DESCRIPTION:{_ics_text('Join the Teams meeting: ' + join_url)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
