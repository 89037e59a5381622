"""Fidelity check: the official Microsoft Graph Python SDK reads the emulator's meeting artifacts.

The SDK builds the paths itself (its URL templates percent-encode each id: the base64
transcript and recording ids with ``/``, ``+`` and ``=`` travel as one segment) and
deserialises the answers into its models.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from artifact_testlib import VTT, attendees, calendar_meeting
from emulator_testlib import GRAPH_SCOPE, make_app, sdk_graph_client

pytestmark = pytest.mark.integration


def test_sdk_reads_attendance_transcripts_and_recordings(emu: Any, graph: Any) -> None:
    pytest.importorskip("msgraph")
    emu.set_page_size(2)
    held = emu.hold_meeting(
        calendar_meeting(graph, emu.default_user_id), attendees=attendees(3), transcript=VTT, recording_size=200_000
    )
    token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    meeting = (
        sdk_graph_client(emu, token)
        .users.by_user_id(emu.default_user_id)
        .online_meetings.by_online_meeting_id(held["meetingId"])
    )

    async def run() -> tuple[Any, ...]:
        reports = await meeting.attendance_reports.get()
        report = meeting.attendance_reports.by_meeting_attendance_report_id(held["reportId"])
        first = await report.attendance_records.get()
        transcripts = await meeting.transcripts.get()
        vtt = await meeting.transcripts.by_call_transcript_id(held["transcriptId"]).content.get()
        recordings = await meeting.recordings.get()
        mp4 = await meeting.recordings.by_call_recording_id(held["recordingId"]).content.get()
        return reports, first, transcripts, vtt, recordings, mp4

    reports, first, transcripts, vtt, recordings, mp4 = asyncio.run(run())
    [report] = reports.value
    assert report.id == held["reportId"] and report.total_participant_count == 3
    assert len(first.value) == 2 and first.odata_next_link  # paged
    record = first.value[1]
    assert record.total_attendance_in_seconds == 29 * 60 + 330 and record.role == "Attendee"
    assert record.attendance_intervals[1].duration_in_seconds == 330
    assert record.identity.display_name == "Person 1"
    assert transcripts.value[0].id == held["transcriptId"]
    assert transcripts.value[0].meeting_organizer.user.id == emu.default_user_id
    assert vtt == VTT.encode("utf-8")
    assert recordings.value[0].id == held["recordingId"]
    assert hashlib.sha256(mp4).hexdigest() == held["recordingSha256"]
