"""Every optional calendar-event field at once, as the hook and the operators take them and
as Graph stores them: the unit, contract and emulator tests send and expect the same set."""

from __future__ import annotations

from typing import Any


def event_options(**changes: Any) -> dict[str, Any]:
    """The options under the provider's argument names; ``changes`` replace values."""
    options = {
        "allow_new_time_proposals": False,
        "hide_attendees": True,
        "response_requested": False,
        "is_reminder_on": True,
        "reminder_minutes_before_start": 30,
        "sensitivity": "private",
        "show_as": "tentative",
        "categories": ["Interviews"],
    }
    return {**options, **changes}


def graph_event_options(**changes: Any) -> dict[str, Any]:
    """:func:`event_options` under Graph's property names, as Graph answers them; ``changes``
    replace values (by Graph's names)."""
    options = {
        "allowNewTimeProposals": False,
        "hideAttendees": True,
        "responseRequested": False,
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 30,
        "sensitivity": "private",
        "showAs": "tentative",
        "categories": ["Interviews"],
    }
    return {**options, **changes}
