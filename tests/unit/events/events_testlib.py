"""The calendar event the events unit tests start from: an hour's interview in HR's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_meetings.events.request import EventSpec

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
END = START + timedelta(hours=1)


def interview(**fields: Any) -> EventSpec:
    """``interview-1`` from :data:`START` to :data:`END` organized by hr@contoso.com; ``fields``
    replace or add event fields."""
    values = {
        "external_id": "interview-1",
        "subject": "Interview",
        "start": START,
        "end": END,
        "user_id": "hr@contoso.com",
    }
    return EventSpec(**{**values, **fields})
