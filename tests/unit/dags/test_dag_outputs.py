"""What the sample DAGs write: output folder, CSV report, iCalendar invitation."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from meetings_dag_helpers.outputs import (
    REPORT_COLUMNS,
    invitation_ics,
    read_report,
    report_csv,
    report_row,
    resolve_output_dir,
    run_folder,
    status_of,
    write_text,
)

UTC = timezone.utc
MEETING = {
    "id": "MSo" + "x" * 150,
    "subject": "Office hour; week 50, \\ desk",
    "startDateTime": "2026-12-07T13:00:00.0000000Z",
    "endDateTime": "2026-12-07T14:00:00.0000000Z",
    "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + "A" * 120 + "%40thread.v2/0",
    "externalId": "dag-20261207T070000Z",
}


@pytest.mark.parametrize(
    ("value", "environ", "expected"),
    [
        pytest.param("/srv/out", {"AIRFLOW_HOME": "/opt/airflow"}, Path("/srv/out"), id="param-wins"),
        pytest.param("", {"AIRFLOW_HOME": "/opt/airflow"}, Path("/opt/airflow/meetings_output"), id="airflow-home"),
        pytest.param(None, {}, Path(tempfile.gettempdir()) / "airflow-meetings-output", id="temp"),
    ],
)
def test_resolve_output_dir(value: str | None, environ: dict, expected: Path) -> None:
    assert resolve_output_dir(value, environ) == expected


def test_run_folder_is_stable_per_run() -> None:
    anchor = datetime(2026, 12, 7, 8, tzinfo=timezone.utc)
    assert run_folder(Path("/o"), "dag", anchor) == Path("/o/dag/20261207T080000Z")


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (True, "created"),
        (False, "existing"),
        (None, "unknown"),
        ("updated", "updated"),  # the operators' status XCom, as it is
        ("cancelled", "cancelled"),
    ],
)
def test_status_of(outcome: bool | str | None, status: str) -> None:
    assert status_of(outcome) == status


def test_report_round_trip(tmp_path: Path) -> None:
    rows = [report_row("office-hour", MEETING, True), report_row("k2", {}, False)]
    path = write_text(tmp_path / "a" / "meetings.csv", report_csv(rows))
    assert read_report(path) == rows
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert rows[0]["join_url"] == MEETING["joinWebUrl"]
    assert not list(tmp_path.glob("a/*.partial"))


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_invitation_ics() -> None:
    text = invitation_ics(MEETING, stamp=datetime(2026, 11, 28, 4, 30, tzinfo=UTC))
    assert text.endswith("\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert "DTSTART:20261207T130000Z" in lines
    assert "DTEND:20261207T140000Z" in lines
    assert "DTSTAMP:20261128T043000Z" in lines
    assert f"URL:{MEETING['joinWebUrl']}" in lines
    assert f"UID:{MEETING['id']}" in lines
    assert "SUMMARY:Office hour\\; week 50\\, \\\\ desk" in lines


def test_invitation_folding_keeps_utf8_whole() -> None:
    text = invitation_ics({**MEETING, "subject": "é" * 100}, stamp=datetime(2026, 1, 1, tzinfo=UTC))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "SUMMARY:" + "é" * 100 in unfold(text)


@pytest.mark.parametrize(
    ("start", "end", "dtstart", "dtend"),
    [
        pytest.param(
            "2026-11-28T10:00:00+01:00",
            "2026-11-28T11:30:00+01:00",
            "20261128T090000Z",
            "20261128T103000Z",
            id="offset",
        ),
        pytest.param(
            "2026-07-01T08:00:00-04:00",
            "2026-07-01T23:30:00-04:00",
            "20260701T120000Z",
            "20260702T033000Z",
            id="next-day",
        ),
        pytest.param(
            "2026-11-28T09:00:00.1234567z", "2026-11-28T10:00:00Z", "20261128T090000Z", "20261128T100000Z", id="z"
        ),
    ],
)
def test_invitation_times_are_the_instants_in_utc(start: str, end: str, dtstart: str, dtend: str) -> None:
    lines = unfold(invitation_ics({**MEETING, "startDateTime": start, "endDateTime": end}, stamp=datetime.now(UTC)))
    assert [line for line in lines if line.startswith(("DTSTART:", "DTEND:"))] == [
        f"DTSTART:{dtstart}",
        f"DTEND:{dtend}",
    ]


def test_report_csv_leaves_none_empty() -> None:
    row = {**report_row("k", MEETING, "updated"), "subject": None}
    assert report_csv([row]).splitlines()[1].startswith("k,updated,,2026-12-07T13:00:00.0000000Z,")
