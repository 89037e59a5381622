"""The artifacts sensor and the fetch operator in real DAG runs (``dag.test()``) against
the emulator: the sensor defers while the meeting has not ended (``dag.test()`` runs its
trigger in line, the hook call in a thread) and resumes when the emulator holds it; the
operator stores the artifacts through an ``ObjectStoragePath`` URL and emits the asset
event with the paths; ``soft_fail`` skips when nothing was recorded; a standalone
meeting's transcript fails at once, naming the cause."""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import load_dag, task_instances, xcom

from meetings_emulator.config import MEGAN_ID

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

LOGICAL_DATE = datetime.datetime(2026, 11, 30, tzinfo=datetime.timezone.utc)
START = datetime.datetime(2030, 4, 2, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n<v Megan Bowen>Bonjour à tous — 你好</v>\n"
RECORDING_SIZE = 1024 * 1024 + 321
ATTENDEES = [
    {
        "id": MEGAN_ID,
        "displayName": "Megan Bowen",
        "email": "meganb@contoso.example",
        "role": "Organizer",
        "intervals": [
            {"join": "2030-04-02T08:00:00Z", "leave": "2030-04-02T08:20:00Z"},
            {"join": "2030-04-02T08:25:00Z", "leave": "2030-04-02T09:00:00Z"},
        ],
    },
    {
        "id": "pstn-33-1-23456789",
        "displayName": "+33 1 23 45 67 89",
        "email": None,
        "role": "Attendee",
        "intervals": [{"join": "2030-04-02T08:05:00Z", "leave": "2030-04-02T08:06:00Z"}],
    },
]

DAG = """
from airflow.sdk import DAG, Asset

from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator
from airflow_provider_meetings.sensors.meeting_artifacts import TeamsMeetingArtifactsSensor

with DAG(dag_id="{dag_id}", schedule=None, catchup=False, params={{"join_url": "", "destination": ""}}) as dag:
    wait = TeamsMeetingArtifactsSensor(
        task_id="wait",
        conn_id="{conn_id}",
        join_url="{{{{ params.join_url }}}}",
        not_before="{not_before}",
        before="{before}",
        artifacts={artifacts!r},
        poke_interval=1,
        timeout={timeout},
        soft_fail={soft_fail},
        deferrable={deferrable},
        mode="{mode}",
        retries=0,
    )
    wait >> FetchTeamsMeetingArtifactsOperator(
        task_id="fetch",
        conn_id="{conn_id}",
        meeting_id="{{{{ ti.xcom_pull(task_ids='wait')['meeting_id'] }}}}",
        destination="{{{{ params.destination }}}}",
        not_before="{not_before}",
        before="{before}",
        artifacts={artifacts!r},
        outlets=[Asset("{dag_id}_artifacts")],
    )
"""


#: The window docs/artifacts.md gives a weekly DAG that runs at each session's start.
SERIES_NOT_BEFORE = "{{ (dag_run.data_interval_end or dag_run.run_after) - macros.timedelta(minutes=30) }}"
SERIES_BEFORE = "{{ ((dag_run.data_interval_end or dag_run.run_after).astimezone(dag.timezone) + macros.timedelta(days=7)) - macros.timedelta(minutes=30) }}"


def artifacts_dag(dags_folder: Path, conn_id: str, dag_id: str, **options: Any) -> Any:
    settings = {"artifacts": ("attendance", "transcript", "recording"), "timeout": 60, "soft_fail": False}
    settings["deferrable"] = True
    settings["mode"] = "poke"
    settings["not_before"] = settings["before"] = ""  # empty: every session counts
    settings.update(options)
    return load_dag(dags_folder, dag_id, DAG.format(dag_id=dag_id, conn_id=conn_id, **settings))


def event_join_url(conn_id: str, key: str) -> str:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    with OnlineMeetingsHook(conn_id=conn_id) as hook:
        end = START + datetime.timedelta(hours=1)
        return hook.create_or_get_event(key, subject="Clinic", start=START, end=end).join_url


def attendance_checks(graph_emulator: Any) -> int:
    """The attendance-report lookups the emulator answered 200: each is one check of the sensor."""
    return int(graph_emulator.stats()["by_route"].get("listAttendanceReports", {}).get("200", 0))


@contextlib.contextmanager
def after_checks(graph_emulator: Any, count: int, action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` in a thread once the sensor has checked ``count`` times (not if the block ends first)."""
    stop = threading.Event()

    def wait_then_act() -> None:
        while not stop.is_set() and attendance_checks(graph_emulator) < count:
            time.sleep(0.1)
        if not stop.is_set():
            action()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def asset_extras(name: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetModel.name == name)
        return [dict(event.extra) for event in session.scalars(query)]


def test_the_sensor_defers_until_the_meeting_ended_and_the_operator_stores_it(
    dags_folder, graph_emulator, meetings_conn_id, tmp_path
) -> None:
    dag = artifacts_dag(dags_folder, meetings_conn_id, "artifacts_deferred")
    join_url = event_join_url(meetings_conn_id, "clinic-deferred")
    held: dict[str, Any] = {}

    def hold() -> None:
        held.update(
            graph_emulator.hold_meeting(join_url, attendees=ATTENDEES, transcript=VTT, recording_size=RECORDING_SIZE)
        )

    # The worker's check, then one in the trigger: the sensor deferred; now the meeting ends.
    with after_checks(graph_emulator, 2, hold):
        destination = f"file://{tmp_path}/store"  # an ObjectStoragePath destination
        run = dag.test(logical_date=LOGICAL_DATE, run_conf={"join_url": join_url, "destination": destination})
    tis = task_instances(run)

    assert {ti.task_id: ti.state for ti in tis.values()} == {"wait": "success", "fetch": "success"}
    assert held, "the meeting was never held: the sensor did not defer and check again"
    assert tis["wait"].try_number == 1  # resumed, not retried
    assert (
        attendance_checks(graph_emulator) >= 3
    )  # the worker's check, the trigger's before the meeting ended, the one that saw it
    status = xcom(tis["wait"])
    assert status | {"ready": True} == {
        "meeting_id": held["meetingId"],
        "ended": True,
        "attendance": 1,
        "transcript": 1,
        "recording": 1,
        "ready": True,
    }

    result = xcom(tis["fetch"])
    assert result["meeting_id"] == held["meetingId"]
    assert result["counts"] == {
        "attendance_records": 2,
        "attendance_rows": 3,
        "attendance_reports": 1,
        "transcripts": 1,
        "recordings": 1,
    }
    files = [Path(p.removeprefix("file://")) for group in result["paths"].values() for p in group]
    assert [f.name.split("-")[0].split(".")[0] for f in files] == [
        "attendance",
        "attendance",
        "transcript",
        "recording",
    ]
    assert all(f.is_file() and f.is_relative_to(tmp_path / "store") for f in files)
    assert {Path(p.removeprefix("file://")): size for p, size in result["sizes"].items()} == {
        f: f.stat().st_size for f in files
    }
    assert result["sizes"][result["paths"]["recordings"][0]] == RECORDING_SIZE
    assert files[2].read_bytes() == VTT.encode("utf-8")
    assert hashlib.sha256(files[3].read_bytes()).hexdigest() == held["recordingSha256"]
    rows = list(csv.DictReader(files[0].open(encoding="utf-8")))
    assert [(r["display_name"], r["interval_seconds"]) for r in rows] == [
        ("Megan Bowen", "1200"),
        ("Megan Bowen", "2100"),
        ("+33 1 23 45 67 89", "60"),
    ]
    assert not [p for p in (tmp_path / "store").rglob(".*")]  # no temporary file left

    (extra,) = asset_extras("artifacts_deferred_artifacts")
    assert extra["paths"] == result["paths"] and extra["reference"] == {"meeting_id": held["meetingId"]}
    assert "token" not in str(extra).lower()


def test_a_run_of_a_series_sees_its_own_session_only(dags_folder, graph_emulator, meetings_conn_id, tmp_path) -> None:
    """A weekly clinic run late, as a backfill runs it: the sessions of the week before and of
    the week after left their reports and files under the same join URL. With ``not_before``
    and ``before`` as docs/artifacts.md writes them, the sensor defers until this run's
    session ended, and the operator fetches that session's artifacts only."""
    dag = artifacts_dag(
        dags_folder,
        meetings_conn_id,
        "artifacts_series",
        not_before=SERIES_NOT_BEFORE,
        before=SERIES_BEFORE,
        artifacts=("attendance", "transcript"),
    )
    join_url = event_join_url(meetings_conn_id, "clinic-series")
    earlier = graph_emulator.hold_meeting(
        join_url, attendees=ATTENDEES, start="2026-11-23T09:00:00Z", end="2026-11-23T10:00:00Z", transcript=VTT
    )
    later = graph_emulator.hold_meeting(
        join_url, attendees=ATTENDEES, start="2026-12-07T09:00:00Z", end="2026-12-07T10:00:00Z", transcript=VTT
    )
    held: dict[str, Any] = {}

    def hold_this_week() -> None:
        held.update(
            graph_emulator.hold_meeting(
                join_url,
                attendees=ATTENDEES[:1],
                start="2026-11-30T09:00:00Z",
                end="2026-11-30T10:00:00Z",
                transcript=VTT,
            )
        )

    with after_checks(graph_emulator, 2, hold_this_week):
        run = dag.test(logical_date=LOGICAL_DATE, run_conf={"join_url": join_url, "destination": str(tmp_path)})
    tis = task_instances(run)

    assert {ti.task_id: ti.state for ti in tis.values()} == {"wait": "success", "fetch": "success"}
    assert held, "the sensor was ready on last week's session"
    assert attendance_checks(graph_emulator) >= 3
    assert xcom(tis["wait"])["attendance"] == 1 and xcom(tis["wait"])["transcript"] == 1
    result = xcom(tis["fetch"])
    assert result["counts"] == {
        "attendance_records": 1,
        "attendance_rows": 2,
        "attendance_reports": 1,
        "transcripts": 1,
    }
    rendered = datetime.datetime.fromisoformat(result["reference"]["not_before"])
    assert rendered == LOGICAL_DATE - datetime.timedelta(minutes=30)
    closed = datetime.datetime.fromisoformat(result["reference"]["before"])
    assert closed == LOGICAL_DATE + datetime.timedelta(days=7, minutes=-30)
    report = Path(result["paths"]["attendance"][1]).read_text(encoding="utf-8")
    assert held["reportId"] in report and earlier["reportId"] not in report and later["reportId"] not in report


def test_in_reschedule_mode_the_sensor_frees_its_slot_between_pokes(
    dags_folder, graph_emulator, meetings_conn_id, tmp_path
) -> None:
    """``deferrable=False, mode="reschedule"``: each poke that finds nothing ends the try as
    up-for-reschedule (a task_reschedule row, the worker slot freed); the poke after the meeting
    ended succeeds in the same try."""
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    dag = artifacts_dag(
        dags_folder,
        meetings_conn_id,
        "artifacts_rescheduled",
        deferrable=False,
        mode="reschedule",
        artifacts=("attendance",),
    )
    join_url = event_join_url(meetings_conn_id, "clinic-rescheduled")
    graph_emulator.hold_meeting(join_url, attendees=ATTENDEES, ended=False)  # in progress: no report yet
    with after_checks(graph_emulator, 2, lambda: graph_emulator.end_meeting(join_url)):
        run = dag.test(logical_date=LOGICAL_DATE, run_conf={"join_url": join_url, "destination": str(tmp_path)})
    tis = task_instances(run)

    assert {ti.task_id: ti.state for ti in tis.values()} == {"wait": "success", "fetch": "success"}
    assert tis["wait"].try_number == 1  # rescheduled, never retried
    assert attendance_checks(graph_emulator) >= 3
    with create_session() as session:
        rescheduled = session.scalar(
            select(func.count()).select_from(TaskReschedule).where(TaskReschedule.ti_id == tis["wait"].id)
        )
    assert rescheduled >= 2, "the sensor poked in its slot instead of rescheduling"
    assert xcom(tis["wait"])["attendance"] == 1
    assert xcom(tis["fetch"])["counts"]["attendance_rows"] == 3


def test_soft_fail_skips_when_nothing_was_recorded(dags_folder, graph_emulator, meetings_conn_id, tmp_path) -> None:
    dag = artifacts_dag(dags_folder, meetings_conn_id, "artifacts_nothing", deferrable=False, timeout=2, soft_fail=True)
    join_url = event_join_url(meetings_conn_id, "clinic-nothing")
    graph_emulator.hold_meeting(join_url, attendees=ATTENDEES, ended=False)  # in progress: no report yet

    tis = task_instances(
        dag.test(logical_date=LOGICAL_DATE, run_conf={"join_url": join_url, "destination": str(tmp_path)})
    )

    assert {ti.task_id: ti.state for ti in tis.values()} == {"wait": "skipped", "fetch": "skipped"}
    assert graph_emulator.stats()["by_route"]["listAttendanceReports"]["200"] >= 2  # poked more than once
    assert list(tmp_path.iterdir()) == []


def test_a_standalone_meetings_transcript_fails_at_once_saying_why(
    dags_folder, graph_emulator, meetings_conn_id, tmp_path, capfd
) -> None:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    dag = artifacts_dag(dags_folder, meetings_conn_id, "artifacts_standalone", artifacts=("transcript",))
    with OnlineMeetingsHook(conn_id=meetings_conn_id) as hook:
        join_url = hook.create_or_get_meeting("clinic-standalone", subject="Clinic").meeting["joinWebUrl"]
    graph_emulator.hold_meeting(join_url, attendees=ATTENDEES)

    tis = task_instances(
        dag.test(logical_date=LOGICAL_DATE, run_conf={"join_url": join_url, "destination": str(tmp_path)})
    )

    assert tis["wait"].state == "failed" and tis["wait"].try_number == 1
    output = capfd.readouterr()
    assert "AirflowFailException: StandaloneMeetingError" in output.out + output.err  # no retries
    assert "calendar event" in output.out + output.err
    assert tis["fetch"].state == "upstream_failed"
