"""The artifact sample DAGs through real Airflow (``airflow dags test``), real MSAL and
HTTPS, against the emulator: ``teams_interview_loop`` books the interviews as calendar
events, the emulator holds two of them (``hold_meeting``: attendees with join/leave
intervals, a transcript, a recording), ``teams_interview_artifacts`` stores what they
left and emits asset events with the paths, and ``teams_attendance_report`` turns those
events into minutes per person and no-shows."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from meetings_emulator.config import ALEX_ID, MEGAN_ID

pytestmark = pytest.mark.integration

LOOP_RUN = "2026-12-07T06:00:00+00:00"  # books the three interviews
ARTIFACTS_RUN = "2026-12-07T19:00:00+00:00"  # 20:00 Berlin: the two interviews of 12-07 have ended
REPORT_RUN = "2026-12-07T20:00:00+00:00"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Megan Bowen>Grüß Gott, Ada — welcome!</v>\n"
RECORDING_SIZE = 256 * 1024 + 7


def interval(join: str, leave: str) -> dict[str, str]:
    return {"join": f"2026-12-07T{join}:00Z", "leave": f"2026-12-07T{leave}:00Z"}


#: de-4711-tech (09:00-10:00Z): Ada (a guest: an id of another tenant, matched by address)
#: twice, Megan, a phone caller (no address); Alex (panel) and Lynne (optional) do not come.
ADA_INTERVIEW = [
    {"id": "5e1f0c2a-guest-ada", "displayName": "Ada Lovelace", "email": "ada@example.org", "role": "Attendee",
     "intervals": [interval("09:00", "09:30"), interval("09:35", "10:00")]},
    {"id": MEGAN_ID, "displayName": "Megan Bowen", "email": "meganb@contoso.example", "role": "Presenter",
     "intervals": [interval("09:00", "10:00")]},
    {"id": "pstn-4930-1234567", "displayName": "+49 30 1234567", "email": None, "role": "Attendee",
     "intervals": [interval("09:10", "09:12")]},
]  # fmt: skip
#: de-4712-tech (13:00-14:00Z): everyone invited came.
GRACE_INTERVIEW = [
    {"id": "7a2b9d4e-guest-grace", "displayName": "Grace Hopper", "email": "grace@example.org", "role": "Attendee",
     "intervals": [interval("13:00", "14:00")]},
    {"id": ALEX_ID, "displayName": "Alex Wilber", "email": "alexw@contoso.example", "role": "Presenter",
     "intervals": [interval("13:00", "13:45")]},
    {"id": MEGAN_ID, "displayName": "Megan Bowen", "email": "meganb@contoso.example", "role": "Presenter",
     "intervals": [interval("13:05", "14:00")]},
]  # fmt: skip


def join_url(emulator: Any, key: str) -> str:
    (event,) = [
        e["event"]
        for e in emulator.events()
        if e["state"] == "active"
        and any(p["value"] == f"teams_interview_loop-{key}" for p in e["event"]["singleValueExtendedProperties"])
    ]
    return event["onlineMeeting"]["joinUrl"]


def asset_event_extras(home: Path) -> list[dict[str, Any]]:
    """The ``extra`` of every event of the asset ``teams_interview_artifacts`` in the metadata database."""
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ? ORDER BY e.id",
            ("teams_interview_artifacts",),
        ).fetchall()
    return [json.loads(extra) if isinstance(extra, str) else extra for (extra,) in rows]


@pytest.fixture(scope="module")
def stored(sample_airflow: Any, graph_emulator: Any) -> dict[str, Any]:
    """The interviews booked and held, and ``teams_interview_artifacts`` run once."""
    sample_airflow.dags_test("teams_interview_loop", LOOP_RUN)
    held = {
        "de-4711-tech": graph_emulator.hold_meeting(
            join_url(graph_emulator, "de-4711-tech"),
            attendees=ADA_INTERVIEW,
            start="2026-12-07T09:00:00Z",
            end="2026-12-07T10:00:00Z",
            transcript=VTT,
            recording_size=RECORDING_SIZE,
        ),
        "de-4712-tech": graph_emulator.hold_meeting(
            join_url(graph_emulator, "de-4712-tech"),
            attendees=GRACE_INTERVIEW,
            start="2026-12-07T13:00:00Z",
            end="2026-12-07T14:00:00Z",
            transcript=VTT,
            recording_size=RECORDING_SIZE,
        ),
    }
    destination = sample_airflow.home / "interview-artifacts"
    sample_airflow.dags_test("teams_interview_artifacts", ARTIFACTS_RUN, destination=str(destination))
    return {"held": held, "destination": destination, "extras": asset_event_extras(sample_airflow.home)}


def test_each_held_interview_is_stored_with_its_artifacts(stored: dict[str, Any]) -> None:
    destination: Path = stored["destination"]
    assert sorted(p.name for p in destination.iterdir()) == ["de-4711-tech", "de-4712-tech"]  # not ml-0815 (12-08)
    for key, held in stored["held"].items():
        (folder,) = (destination / key).iterdir()
        names = sorted(p.name for p in folder.iterdir())
        assert names[:2] == ["attendance.csv", "attendance.json"]
        assert [n.rsplit("-", 1)[0] for n in names[2:]] == ["recording", "transcript"]
        assert not [n for n in names if n.startswith(".")]  # no temporary file left
        (vtt,) = folder.glob("transcript-*.vtt")
        assert vtt.read_bytes() == VTT.encode("utf-8")
        (mp4,) = folder.glob("recording-*.mp4")
        assert mp4.stat().st_size == RECORDING_SIZE
        assert hashlib.sha256(mp4.read_bytes()).hexdigest() == held["recordingSha256"]
    ada = list(csv.DictReader((destination / "de-4711-tech").glob("*/attendance.csv").__next__().open()))
    assert [(r["display_name"], r["interval_index"], r["interval_seconds"]) for r in ada] == [
        ("Ada Lovelace", "0", "1800"),
        ("Ada Lovelace", "1", "1500"),
        ("Megan Bowen", "0", "3600"),
        ("+49 30 1234567", "0", "120"),
    ]
    assert ada[3]["email"] == "" and ada[2]["identity_id"] == MEGAN_ID


def test_each_stored_interview_is_one_asset_event_with_its_paths(stored: dict[str, Any]) -> None:
    extras = stored["extras"]
    assert sorted(e["reference"]["external_id"] for e in extras) == [
        "teams_interview_loop-de-4711-tech",
        "teams_interview_loop-de-4712-tech",
    ]
    for extra in extras:
        assert extra["meeting_id"] in {h["meetingId"] for h in stored["held"].values()}
        assert extra["counts"] == {
            "attendance_records": 3,
            "attendance_rows": 4 if extra["reference"]["external_id"].endswith("4711-tech") else 3,
            "attendance_reports": 1,
            "transcripts": 1,
            "recordings": 1,
        }
        paths = [p for group in extra["paths"].values() for p in group]
        assert len(paths) == 4 and all(Path(p).is_file() for p in paths)


def test_the_report_has_minutes_per_person_and_the_no_shows(stored: dict[str, Any], sample_airflow: Any) -> None:
    sample_airflow.dags_test("teams_attendance_report", REPORT_RUN, artifact_events=stored["extras"])
    (report,) = (sample_airflow.output_dir / "teams_attendance_report").glob("*/attendance_minutes.csv")
    lines = {(r["external_id"].rsplit("-", 2)[-2], r["person"]): r for r in csv.DictReader(report.open())}
    summary = {key: (r["status"], r["minutes"], r["invited"]) for key, r in lines.items()}
    assert summary == {
        ("4711", "Ada Lovelace"): ("attended", "55.0", "required"),
        ("4711", "Megan Bowen"): ("attended", "60.0", "required"),
        ("4711", "alexw@contoso.example"): ("no_show", "0.0", "required"),
        ("4711", "lynner@contoso.example"): ("no_show", "0.0", "optional"),
        ("4711", "+49 30 1234567"): ("uninvited", "2.0", ""),
        ("4712", "Grace Hopper"): ("attended", "60.0", "required"),
        ("4712", "Alex Wilber"): ("attended", "45.0", "required"),
        ("4712", "Megan Bowen"): ("attended", "55.0", "required"),
    }
    assert lines[("4711", "Megan Bowen")]["identity_id"] == MEGAN_ID
