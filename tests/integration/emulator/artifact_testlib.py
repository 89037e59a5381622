"""Helpers of the artifact tests: a meeting behind a calendar event, attendees, paths."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

VTT = (
    "WEBVTT\n\n"
    "00:00:00.000 --> 00:00:04.200\n<v Zoë Åkesson>Grüße aus Zürich — 会議を始めます.</v>\n\n"
    "00:00:04.200 --> 00:00:09.000\n<v Ola Nordmann>Takk! 🎉 Let's begin.</v>\n"
)


def segment(value: str) -> str:
    """One path segment: ``/``, ``+`` and ``=`` percent-encoded."""
    return quote(value, safe="")


def attendees(n: int, day: str = "2026-12-01") -> list[dict[str, Any]]:
    """``n`` attendees with one or two intervals each (the first is the organizer)."""
    people = []
    for i in range(n):
        intervals = [{"join": f"{day}T10:0{i % 10}:00Z", "leave": f"{day}T10:30:00Z"}]
        if i % 2:
            intervals.append({"join": f"{day}T10:40:00Z", "leave": f"{day}T10:45:30Z"})
        people.append(
            {
                "id": f"00000000-0000-0000-0000-{i:012d}",
                "displayName": f"Person {i}",
                "email": None if i == n - 1 else f"person{i}@contoso.example",
                "role": "Organizer" if i == 0 else "Attendee",
                "intervals": intervals,
            }
        )
    return people


def calendar_meeting(graph: Any, user_id: str, subject: str = "Lecture") -> str:
    """Book a calendar event with a Teams meeting; its join URL."""
    body = {
        "subject": subject,
        "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "UTC"},
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
    }
    response = graph("POST", f"/users/{user_id}/events", json=body)
    assert response.status_code == 201, response.text
    return response.json()["onlineMeeting"]["joinUrl"]


def standalone_meeting(graph: Any, user_id: str, external_id: str = "artifact-standalone") -> dict[str, Any]:
    """A createOrGet meeting (no calendar event)."""
    response = graph("POST", f"/users/{user_id}/onlineMeetings/createOrGet", json={"externalId": external_id})
    assert response.status_code in (200, 201), response.text
    return response.json()


def meeting_path(user_id: str, meeting_id: str) -> str:
    """``/users/{id}/onlineMeetings/{meetingId}`` with the id as one segment."""
    return f"/users/{user_id}/onlineMeetings/{segment(meeting_id)}"
