"""The fetch operator without a network: its arguments, and what it stores and counts of a
meeting's attendance (the hook's client on a mock transport)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from mock_graph_testlib import CLIENT_ID, CLIENT_SECRET, TENANT_ID, app_settings, mock_client

from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.mock_transport import MockRequest, MockTransport, json_answer
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook
from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator


def test_defaults_and_templated_fields() -> None:
    task = FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", external_id="interview-1")
    assert task.artifacts == ("attendance", "transcript", "recording")
    assert set(task.template_fields) == {
        "destination",
        "meeting_id",
        "join_url",
        "external_id",
        "user_id",
        "not_before",
        "before",
    }
    assert task.template_ext == ()


def test_unknown_artifacts_fail_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"unknown artifact\(s\) \['chat'\]"):
        FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", meeting_id="m", artifacts=["chat"])


USER = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
MEETING = "MSo1/series+=:x"
# A series (one join URL): a session with two attendees, then one whose report has no records.
REPORTS = {
    "rep-1": {"meetingStartDateTime": "2026-12-07T09:00:00Z", "meetingEndDateTime": "2026-12-07T10:00:00Z"},
    "rep-2": {"meetingStartDateTime": "2026-12-14T09:00:00Z", "meetingEndDateTime": "2026-12-14T09:05:00Z"},
}
RECORDS = {
    "rep-1": [
        {"identity": {"id": "ada", "displayName": "Ada"}, "totalAttendanceInSeconds": 3000, "attendanceIntervals": []},
        {"identity": {"id": "bob", "displayName": "Bob"}, "totalAttendanceInSeconds": 60, "attendanceIntervals": []},
    ],
    "rep-2": [],
}


def attendance_graph(request: MockRequest) -> HttpAnswer:
    """Graph's attendanceReports and attendanceRecords of :data:`MEETING`, one page each."""
    parts = [unquote(part) for part in urlsplit(request.url).path.removeprefix("/v1.0/").split("/")]
    assert parts[:4] == ["users", USER, "onlineMeetings", MEETING] and parts[4] == "attendanceReports", parts
    if len(parts) == 5:
        return json_answer(200, {"value": [{"id": key, **report} for key, report in REPORTS.items()]})
    return json_answer(200, {"value": RECORDS[parts[5]]})


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> OnlineMeetingsHook:
    """A hook of an app-only connection whose client answers from :func:`attendance_graph`."""
    conn = {
        "conn_type": "msgraph_meetings",
        "login": CLIENT_ID,
        "password": CLIENT_SECRET,
        "extra": {"tenant_id": TENANT_ID, "default_user_id": USER},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_FETCH", json.dumps(conn))
    hook = OnlineMeetingsHook(conn_id="meetings_fetch")
    hook._client = mock_client(MockTransport(attendance_graph), app_settings(default_user_id=USER))
    return hook


def test_a_report_without_records_counts_as_the_sensor_counts_it(hook: OnlineMeetingsHook, tmp_path: Path) -> None:
    task = FetchTeamsMeetingArtifactsOperator(
        task_id="store", destination=str(tmp_path), meeting_id=MEETING, artifacts=["attendance"]
    )
    task.__dict__["hook"] = hook  # the cached hook property
    transport = hook._client.transport
    # What the sensor's poke reads, through the same client (the fetch closes the hook after).
    sensed = hook.meeting_artifacts_status(meeting_id=MEETING, artifacts=["attendance"])["attendance"]
    sent_before = len(transport.requests)
    result = task.execute({"outlet_events": None})  # type: ignore[typeddict-item]

    assert result["counts"] == {"attendance_records": 2, "attendance_rows": 2, "attendance_reports": 2}
    assert result["counts"]["attendance_reports"] == sensed == len(REPORTS)
    csv_path, json_path = (Path(path) for path in result["paths"]["attendance"])
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["reports"] == ["rep-1", "rep-2"]  # the session nobody's record names is listed too
    assert [row["report_id"] for row in document["rows"]] == ["rep-1", "rep-1"]
    assert csv_path.read_text(encoding="utf-8").count("\n") == 1 + 2
    fetched = transport.requests[sent_before:]
    listed = [r.url for r in fetched if r.url.split("?")[0].endswith("/attendanceReports")]
    assert len(listed) == 1  # the reports are listed once, for the count and for their records
