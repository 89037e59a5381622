"""Meetings for the artifact tests to fetch: a calendar event's Teams meeting, held in the
emulator (its control API ``hold_meeting``) with attendance, a transcript and a recording."""

from __future__ import annotations

import datetime
from typing import Any

from meetings_emulator.config import MEGAN_ID, ORGANIZER_ID


def held_event_meeting(
    hook: Any, emulator: Any, key: str, start: datetime.datetime, subject: str = "Lecture", **held: Any
) -> tuple[str, dict[str, Any]]:
    """An hour's event from ``start`` in the default organizer's calendar, its meeting held with
    ``held`` (``hold_meeting``'s arguments); the join URL and what the emulator holds."""
    end = start + datetime.timedelta(hours=1)
    join_url = hook.create_or_get_event(key, subject=subject, start=start, end=end, user_id=ORGANIZER_ID).join_url
    return join_url, emulator.hold_meeting(join_url, **held)


def megan_bowen(role: str, join: str, leave: str) -> dict[str, Any]:
    """Megan Bowen as an attendee of a held meeting, in it from ``join`` to ``leave`` (UTC)."""
    return {
        "id": MEGAN_ID,
        "displayName": "Megan Bowen",
        "email": "meganb@contoso.example",
        "role": role,
        "intervals": [{"join": join, "leave": leave}],
    }
