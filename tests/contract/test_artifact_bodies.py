"""The emulator's artifact answers use only what the official SDK models define (v1.0).

attendance reports and records, transcripts and recordings as the emulator answers them,
each checked against ``msgraph-sdk``'s model (the oracle of ``graph_models.py``), so the
emulator cannot invent a property or a type a real client would not read.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meetings_emulator import run_emulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "emulator"))
from artifact_testlib import VTT, attendees, calendar_meeting, meeting_path, segment  # noqa: E402
from emulator_testlib import GRAPH_SCOPE, make_app, make_session  # noqa: E402

#: In the pages' examples but not in the SDK model: calltranscript-get and callrecording-get
#: show ``meetingOrganizer.user.tenantId`` on a teamworkUserIdentity (the SDK keeps it in
#: ``additional_data``). The emulator answers as the examples do.
DOCUMENTED_EXTRAS = ("meetingOrganizer.user.tenantId is not a property of teamworkUserIdentity in v1.0",)


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, Any]]:
    """One held session's artifact answers, by Graph type."""
    with run_emulator() as emu:
        session = make_session(emu.ca_path)
        token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]

        def graph(method: str, path: str, **kwargs: Any) -> Any:
            response = session.request(
                method, f"{emu.url}/v1.0{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
            )
            assert response.status_code < 300, response.text
            return response

        held = emu.hold_meeting(
            calendar_meeting(graph, emu.default_user_id), attendees=attendees(3), transcript=VTT, recording_size=10
        )
        path = meeting_path(emu.default_user_id, held["meetingId"])
        report = f"{path}/attendanceReports/{held['reportId']}"
        yield {
            "meetingAttendanceReport": [
                *graph("GET", f"{path}/attendanceReports").json()["value"],
                graph("GET", f"{report}?$expand=attendanceRecords").json(),
            ],
            "attendanceRecord": graph("GET", f"{report}/attendanceRecords").json()["value"],
            "callTranscript": [
                *graph("GET", f"{path}/transcripts").json()["value"],
                graph("GET", f"{path}/transcripts/{segment(held['transcriptId'])}").json(),
            ],
            "callRecording": [
                *graph("GET", f"{path}/recordings").json()["value"],
                graph("GET", f"{path}/recordings/{segment(held['recordingId'])}").json(),
            ],
        }


@pytest.mark.parametrize(
    "type_name", ["meetingAttendanceReport", "attendanceRecord", "callTranscript", "callRecording"]
)
def test_artifact_answers_conform_to_the_sdk_model(graph_contract, answers, type_name):
    bodies = answers[type_name]
    assert bodies
    for body in bodies:
        found = graph_contract.violations({k: v for k, v in body.items() if k != "@odata.context"}, type_name, "v1.0")
        assert [v for v in found if v not in DOCUMENTED_EXTRAS] == [], body


def test_the_oracle_would_catch_an_invented_property(graph_contract, answers):
    record = {**answers["attendanceRecord"][0], "minutesAttended": 3}
    assert graph_contract.violations(record, "attendanceRecord", "v1.0")
