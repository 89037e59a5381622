"""The artifact sample DAGs in real DAG runs (``dag.test()``, in this process: no
``airflow`` subprocess to start), real MSAL and HTTPS, against the emulator:
``teams_interview_loop`` books the interviews as calendar events, the emulator holds two of them (``hold_meeting``: attendees with join/leave
intervals, a transcript, a recording), ``teams_interview_artifacts`` stores what they
left and emits asset events with the paths, and ``teams_attendance_report`` turns those
events into minutes per person and no-shows."""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import load_dag, task_instances

from meetings_emulator.config import ALEX_ID, MEGAN_ID

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
SCHEDULE = str(DAGS_DIR / "data" / "interviews.csv")
LOOP_RUN = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)  # books the three interviews
ARTIFACTS_RUN = datetime(2026, 12, 7, 19, 0, tzinfo=timezone.utc)  # 20:00 Berlin: 12-07's two have ended
REPORT_RUN = datetime(2026, 12, 7, 20, 0, tzinfo=timezone.utc)
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


#: The interviews of 2026-12-07 that took place: who came, from and to when (UTC).
HELD = {"de-4711-tech": (ADA_INTERVIEW, "09:00", "10:00"), "de-4712-tech": (GRACE_INTERVIEW, "13:00", "14:00")}


def join_url(emulator: Any, key: str) -> str:
    (event,) = [
        e["event"]
        for e in emulator.events()
        if e["state"] == "active"
        and any(p["value"] == f"teams_interview_loop-{key}" for p in e["event"]["singleValueExtendedProperties"])
    ]
    return event["onlineMeeting"]["joinUrl"]


def asset_event_extras(since: int) -> list[dict[str, Any]]:
    """The ``extra`` of the events of the asset ``teams_interview_artifacts`` after the event id ``since``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "teams_interview_artifacts", AssetEvent.id > since)
            .order_by(AssetEvent.id)
        )
        return [dict(event.extra) for event in session.scalars(query)]


def last_asset_event_id() -> int:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(select(func.max(AssetEvent.id))) or 0


def sample_dag(dags_folder: Path, dag_id: str) -> Any:
    """A sample DAG of ``dags/``, copied into the session's DAGs folder (``dag.test()`` needs it there)."""
    return load_dag(dags_folder, dag_id, (DAGS_DIR / f"{dag_id}.py").read_text(encoding="utf-8"))


def succeeded(dag_run: Any) -> dict[str, Any]:
    tis = task_instances(dag_run)
    failed = {ti.task_id: ti.state for ti in tis.values() if ti.state not in ("success", "skipped")}
    assert dag_run.state == "success" and not failed, failed
    return tis


@pytest.fixture(scope="module")
def conn(graph_emulator: Any) -> Any:
    """The emulator as ``msgraph_meetings_default`` (the sample DAGs' connection) for the module."""
    patch = pytest.MonkeyPatch()
    graph_emulator.reset()
    patch.setenv("AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT", graph_emulator.connection_json())
    yield graph_emulator
    patch.undo()
    graph_emulator.clear_faults()


@pytest.fixture(scope="module")
def stored(
    conn: Any, graph_emulator: Any, dags_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The interviews booked and held, and ``teams_interview_artifacts`` run once."""
    succeeded(
        sample_dag(dags_folder, "teams_interview_loop").test(
            logical_date=LOOP_RUN, run_conf={"schedule_file": SCHEDULE}
        )
    )
    held = {
        key: graph_emulator.hold_meeting(
            join_url(graph_emulator, key),
            attendees=attendees,
            start=f"2026-12-07T{start}:00Z",
            end=f"2026-12-07T{end}:00Z",
            transcript=VTT,
            recording_size=RECORDING_SIZE,
        )
        for key, (attendees, start, end) in HELD.items()
    }
    destination = tmp_path_factory.mktemp("interview-artifacts")
    since = last_asset_event_id()
    dag = sample_dag(dags_folder, "teams_interview_artifacts")
    succeeded(
        dag.test(logical_date=ARTIFACTS_RUN, run_conf={"schedule_file": SCHEDULE, "destination": str(destination)})
    )
    return {"held": held, "destination": destination, "extras": asset_event_extras(since)}


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


def test_the_report_has_minutes_per_person_and_the_no_shows(
    stored: dict[str, Any], dags_folder: Path, tmp_path: Path
) -> None:
    dag = sample_dag(dags_folder, "teams_attendance_report")
    conf = {"schedule_file": SCHEDULE, "artifact_events": stored["extras"], "output_dir": str(tmp_path)}
    succeeded(dag.test(logical_date=REPORT_RUN, run_conf=conf))
    (report,) = (tmp_path / "teams_attendance_report").glob("*/attendance_minutes.csv")
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


def test_one_meetings_attendance_on_demand(conn: Any, graph_emulator: Any, dags_folder: Path, tmp_path: Path) -> None:
    url = join_url(graph_emulator, "ml-0815-final")  # booked by the loop DAG above, not held yet
    held = graph_emulator.hold_meeting(url, attendees=GRACE_INTERVIEW[1:])
    dag = sample_dag(dags_folder, "example_meeting_artifacts")

    tis = succeeded(dag.test(run_conf={"join_url": url, "destination": str(tmp_path)}))

    assert set(tis) == {"destination", "wait_for_artifacts", "store_artifacts"}
    (folder,) = tmp_path.iterdir()
    rows = list(csv.DictReader((folder / "attendance.csv").open(encoding="utf-8")))
    assert {r["identity_id"] for r in rows} == {ALEX_ID, MEGAN_ID}
    assert {r["report_id"] for r in rows} == {held["reportId"]}
