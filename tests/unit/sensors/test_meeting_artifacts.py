"""The artifacts sensor and its trigger without a network: arguments, what a deferral
stores, the trigger's loop (with the Graph check stubbed: its hook call is tested
against the emulator in tests/integration), and how the sensor resumes."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred
from import_cost_testlib import HEAVY, loaded_by

from airflow_provider_meetings.artifact_args import meeting_reference
from airflow_provider_meetings.graph.errors import GraphAPIError, RetriesExhaustedError
from airflow_provider_meetings.operators.task_outcome import fail_permanent_errors
from airflow_provider_meetings.sensors.meeting_artifacts import TeamsMeetingArtifactsSensor
from airflow_provider_meetings.triggers.meeting_artifacts import ERROR, READY, TeamsMeetingArtifactsTrigger

CLASSPATH = "airflow_provider_meetings.triggers.meeting_artifacts.TeamsMeetingArtifactsTrigger"
STATUS = {"meeting_id": "MSo+/=", "ended": True, "attendance": 1, "transcript": 1, "recording": 0, "ready": True}


def test_importing_sensor_trigger_and_operator_loads_neither_msal_nor_requests() -> None:
    modules = [f"airflow_provider_meetings.{kind}.meeting_artifacts" for kind in ("sensors", "triggers", "operators")]
    assert loaded_by(modules, [*HEAVY, "airflow_provider_meetings.hooks.online_meetings"]) == []


def test_sensor_defaults_and_templated_fields() -> None:
    sensor = TeamsMeetingArtifactsSensor(task_id="wait", external_id="interview-1")
    assert (sensor.deferrable, sensor.poke_interval, sensor.timeout, sensor.artifacts) == (
        True,
        300.0,
        86400.0,
        ("attendance",),
    )
    assert set(sensor.template_fields) == {"meeting_id", "join_url", "external_id", "user_id", "not_before", "before"}
    assert sensor.template_ext == ()


def test_unknown_artifacts_fail_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="unknown artifact"):
        TeamsMeetingArtifactsSensor(task_id="wait", meeting_id="m", artifacts=["whiteboard"])


def test_trigger_kwargs_hold_identifiers_only_and_round_trip() -> None:
    trigger = TeamsMeetingArtifactsTrigger(
        conn_id="msgraph_meetings_default",
        reference={
            "join_url": " https://teams.microsoft.com/l/meetup-join/19%3ameeting",
            "user_id": "adele@contoso.example",
        },
        artifacts=["recording", "attendance"],
        poke_interval=30,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs == {
        "conn_id": "msgraph_meetings_default",
        "reference": {
            "join_url": "https://teams.microsoft.com/l/meetup-join/19%3ameeting",
            "user_id": "adele@contoso.example",
        },
        "artifacts": ["attendance", "recording"],
        "poke_interval": 30.0,
    }
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert TeamsMeetingArtifactsTrigger(**kwargs).serialize() == (classpath, kwargs)


class ScriptedTrigger(TeamsMeetingArtifactsTrigger):
    """The trigger with its Graph check replaced by a script of answers (each an exception or a status)."""

    def __init__(self, answers, **kwargs) -> None:
        super().__init__(conn_id="c", reference={"meeting_id": "m"}, poke_interval=0.01, **kwargs)
        self.answers = list(answers)
        self.threads: list[int] = []

    def _check(self):
        self.threads.append(threading.get_ident())
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def events(trigger: TeamsMeetingArtifactsTrigger) -> list[dict]:
    async def collect() -> tuple[list[dict], int]:
        return [event.payload async for event in trigger.run()], threading.get_ident()

    payloads, loop_thread = asyncio.run(collect())
    assert loop_thread not in trigger.threads  # every blocking check ran off the event loop
    return payloads


def test_trigger_polls_until_ready_and_fires_once() -> None:
    waiting = {**STATUS, "ended": False, "attendance": 0, "ready": False}
    trigger = ScriptedTrigger([waiting, waiting, STATUS])
    assert events(trigger) == [{"status": READY, "artifacts": STATUS}]
    assert len(trigger.threads) == 3


def test_trigger_retries_transient_errors_at_the_next_poke() -> None:
    outage = RetriesExhaustedError("GET attendanceReports", attempts=3, waited=1.0, last_error=ValueError("503"))
    trigger = ScriptedTrigger([outage, STATUS])
    assert events(trigger) == [{"status": READY, "artifacts": STATUS}]


def test_trigger_reports_a_permanent_error_without_retrying() -> None:
    denied = GraphAPIError(403, "Forbidden", "Missing role OnlineMeetingRecording.Read.All", request_id="r")
    trigger = ScriptedTrigger([denied, STATUS], artifacts=["recording"])
    (event,) = events(trigger)
    assert event["status"] == ERROR and event["error_type"] == "GraphAPIError"
    assert "OnlineMeetingRecording.Read.All" in event["message"]
    assert trigger.answers == [STATUS]  # not asked again


class StubbedSensor(TeamsMeetingArtifactsSensor):
    """The sensor with the hook's status check replaced by a fixed answer."""

    answer: dict | None = None

    def _status(self, reference):
        self.seen = reference
        return self.answer


def test_a_sensor_whose_artifacts_are_missing_defers_with_identifiers_only() -> None:
    sensor = StubbedSensor(
        task_id="wait",
        external_id="interview-1",
        user_id="adele",
        artifacts=["transcript"],
        poke_interval=45,
        timeout=600,
    )
    sensor.answer = {**STATUS, "transcript": 0, "ready": False}
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(seconds=600)
    assert deferred.value.trigger.serialize() == (
        CLASSPATH,
        {
            "conn_id": "msgraph_meetings_default",
            "reference": {"external_id": "interview-1", "user_id": "adele"},
            "artifacts": ["transcript"],
            "poke_interval": 45.0,
        },
    )


def test_not_before_reaches_the_trigger_as_text() -> None:
    import datetime as dt

    sensor = StubbedSensor(
        task_id="wait",
        join_url="https://teams.microsoft.com/l/x",
        not_before=dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc),
    )
    sensor.answer = {**STATUS, "ready": False}
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    assert sensor.seen["not_before"] == "2026-12-07T00:00:00+00:00"  # what the worker's check asked
    _, kwargs = deferred.value.trigger.serialize()
    assert kwargs["reference"]["not_before"] == "2026-12-07T00:00:00+00:00"
    assert json.loads(json.dumps(kwargs)) == kwargs  # the metadata database holds JSON


def test_a_sensor_whose_artifacts_are_there_does_not_defer() -> None:
    sensor = StubbedSensor(task_id="wait", meeting_id="m")
    sensor.answer = STATUS
    assert sensor.execute(context={}) == STATUS


def test_a_sensor_naming_no_meeting_fails_without_retries() -> None:
    sensor = StubbedSensor(task_id="wait")
    with pytest.raises(AirflowFailException, match="exactly one of meeting_id, join_url or external_id"):
        sensor.execute(context={})


def test_resuming_returns_the_status_or_fails_with_the_error() -> None:
    sensor = TeamsMeetingArtifactsSensor(task_id="wait", meeting_id="m")
    assert sensor.execute_complete({}, {"status": READY, "artifacts": STATUS}) == STATUS
    with pytest.raises(AirflowFailException, match="StandaloneMeetingError: needs a calendar event"):
        sensor.execute_complete(
            {}, {"status": ERROR, "error_type": "StandaloneMeetingError", "message": "needs a calendar event"}
        )


class DeniedSensor(TeamsMeetingArtifactsSensor):
    """The sensor whose status check meets a permanent error (a missing permission)."""

    def _status(self, reference):
        with fail_permanent_errors():
            raise GraphAPIError(403, "Forbidden", "Missing role OnlineMeetingArtifact.Read.All", request_id="r")


@pytest.mark.parametrize("skip", [None, "soft_fail", "never_fail"])
def test_a_permanent_error_is_treated_alike_in_every_mode(skip, capsys) -> None:
    # Airflow's sensors skip a failing poke or resume with soft_fail (or never_fail); the first
    # check of a deferrable sensor, the provider's own code, did not (it failed).
    expected = AirflowSkipException if skip else AirflowFailException
    flags = {skip: True} if skip else {}
    for deferrable in (False, True):
        sensor = DeniedSensor(task_id="wait", meeting_id="m", deferrable=deferrable, timeout=5, **flags)
        with pytest.raises(expected, match=skip or "OnlineMeetingArtifact.Read.All"):
            sensor.execute(context={})
    resumed = TeamsMeetingArtifactsSensor(task_id="wait", meeting_id="m", **flags)
    event = {"status": ERROR, "error_type": "GraphAPIError", "message": "403 Forbidden: Missing role"}
    with pytest.raises(expected):
        resumed.resume_execution("execute_complete", {"event": event}, {})
    if skip:  # the cause is in the task log (Airflow's logs go to stdout here), not only "skipped"
        log = capsys.readouterr().out
        assert log.count(f"Skipping ({skip}=True) after a permanent error") == 3
        assert "OnlineMeetingArtifact.Read.All" in log and "403 Forbidden: Missing role" in log


def test_soft_fail_skips_when_the_deferral_timed_out() -> None:
    from airflow.sdk.exceptions import TaskDeferralTimeout

    sensor = TeamsMeetingArtifactsSensor(task_id="wait", meeting_id="m", soft_fail=True)
    with pytest.raises(AirflowSkipException):
        sensor.resume_execution("__fail__", {"error": TaskDeferralTimeout("timed out")}, {})


def test_trigger_waits_out_the_pause_graph_asked_for(monkeypatch) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)
    throttled = RetriesExhaustedError("GET transcripts", 1, 0.0, ValueError("429"), asked_wait=120.0)
    waiting = {**STATUS, "ready": False}
    trigger = ScriptedTrigger([throttled, waiting, STATUS])
    assert events(trigger) == [{"status": READY, "artifacts": STATUS}]
    assert slept == [120.0, 0.01]  # Graph's Retry-After on the loop, then the poke interval


def test_poke_treats_a_transient_error_as_not_yet_and_a_permanent_one_as_final(monkeypatch) -> None:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    answers: list[object] = [
        RetriesExhaustedError("GET attendanceReports", 3, 1.0, ValueError("503")),
        STATUS,
        GraphAPIError(403, "Forbidden", "Missing role OnlineMeetingArtifact.Read.All", request_id="r"),
    ]

    def status(self, **kwargs):
        assert kwargs == {"meeting_id": "m", "artifacts": ("attendance",)}
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(OnlineMeetingsHook, "meeting_artifacts_status", status)
    sensor = TeamsMeetingArtifactsSensor(task_id="wait", meeting_id="m", deferrable=False)
    assert not sensor.poke({})  # an outage: checked again at the next poke
    done = sensor.poke({})
    assert done and done.xcom_value == STATUS
    with pytest.raises(AirflowFailException, match="OnlineMeetingArtifact.Read.All"):
        sensor.poke({})


#: The window docs/artifacts.md gives a weekly DAG that runs at each session's start.
DOCUMENTED_NOT_BEFORE = "{{ (dag_run.data_interval_end or dag_run.run_after) - macros.timedelta(minutes=30) }}"
DOCUMENTED_BEFORE = "{{ ((dag_run.data_interval_end or dag_run.run_after).astimezone(dag.timezone) + macros.timedelta(days=7)) - macros.timedelta(minutes=30) }}"
UTC = timezone.utc
PARIS_WINTER, PARIS_SUMMER = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("data_interval_end", "window"),
    [
        (
            datetime(2026, 12, 7, 8, tzinfo=UTC),
            (datetime(2026, 12, 7, 7, 30, tzinfo=UTC), datetime(2026, 12, 14, 7, 30, tzinfo=UTC)),
        ),
        # A run started from the API or CLI without a logical date, and an asset-triggered run:
        (None, (datetime(2026, 12, 7, 8, 30, tzinfo=UTC), datetime(2026, 12, 14, 8, 30, tzinfo=UTC))),
        # Paris moves to summer time on 2027-03-28: the next Monday 09:00 is 167 h later.
        (
            datetime(2027, 3, 22, 8, tzinfo=UTC),
            (datetime(2027, 3, 22, 8, 30, tzinfo=PARIS_WINTER), datetime(2027, 3, 29, 8, 30, tzinfo=PARIS_SUMMER)),
        ),
    ],
    ids=["with a data interval", "without", "across daylight saving time"],
)
def test_the_documented_window_renders_with_and_without_a_data_interval(data_interval_end, window) -> None:
    # A run without a logical date has no ``data_interval_end`` in its context at all, and a
    # DAG renders with StrictUndefined: the templates read the run's attribute instead. The
    # week is added in the DAG's zone (its start_date's), as the series keeps its local time.
    from types import SimpleNamespace

    import pendulum
    from airflow.sdk import DAG
    from airflow.sdk.execution_time import macros

    with DAG("series", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris")) as dag:
        sensor = TeamsMeetingArtifactsSensor(
            task_id="wait", join_url="https://t/x", not_before=DOCUMENTED_NOT_BEFORE, before=DOCUMENTED_BEFORE
        )
    run = SimpleNamespace(data_interval_end=data_interval_end, run_after=datetime(2026, 12, 7, 9, tzinfo=UTC))
    context = {"dag_run": run, "dag": dag, "macros": macros}
    rendered = {key: sensor.render_template(getattr(sensor, key), context) for key in ("not_before", "before")}
    reference = meeting_reference(join_url="https://t/x", **rendered)
    assert (datetime.fromisoformat(reference["not_before"]), datetime.fromisoformat(reference["before"])) == window
    docs = (Path(__file__).resolve().parents[3] / "docs" / "artifacts.md").read_text(encoding="utf-8")
    assert DOCUMENTED_NOT_BEFORE in docs and DOCUMENTED_BEFORE in docs
