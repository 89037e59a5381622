"""The optional fields of a calendar event users expect: validation, Graph names, comparison. Pure.

Each is a property of Graph's ``event`` (https://learn.microsoft.com/graph/api/resources/event)
that ``POST .../events`` takes (user-post-events) and ``PATCH`` can change (event-update,
"Request body"): so each is sent only when given, and compared by ``update_existing`` only
when given (a field left out keeps whatever the event has).

==============================  ===========================  =================================
keyword                          Graph property               values
==============================  ===========================  =================================
``allow_new_time_proposals``     ``allowNewTimeProposals``    bool (``False`` suits interviews)
``hide_attendees``               ``hideAttendees``            bool
``response_requested``           ``responseRequested``        bool
``is_reminder_on``               ``isReminderOn``             bool
``reminder_minutes_before_start`` ``reminderMinutesBeforeStart`` int >= 0
``sensitivity``                  ``sensitivity``              normal, personal, private, confidential
``show_as``                      ``showAs``                   free, tentative, busy, oof,
                                                               workingElsewhere, unknown
``categories``                   ``categories``               list of category names
==============================  ===========================  =================================

Templates render to strings, so booleans also accept ``"true"``/``"false"`` and the reminder
minutes a string of digits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import check_missing_value

#: resources/event, ``sensitivity``: the ``sensitivity`` enum.
SENSITIVITIES = ("normal", "personal", "private", "confidential")
#: resources/event, ``showAs``: the ``freeBusyStatus`` enum.
SHOW_AS = ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown")
#: Outlook's reminder choices end at two weeks; the docs give no upper bound, so the provider
#: refuses only what cannot be a reminder (a year and more is surely a typo).
MAX_REMINDER_MINUTES = 525_600


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidRequestError(name, f"must be true or false, got {value!r}")


def _minutes(value: Any, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REMINDER_MINUTES:
        raise InvalidRequestError(
            name, f"must be a whole number of minutes from 0 to {MAX_REMINDER_MINUTES}, got {value!r}"
        )
    return value


def _one_of(allowed: Sequence[str]) -> Callable[[Any, str], str]:
    by_case = {choice.lower(): choice for choice in allowed}

    def check(value: Any, name: str) -> str:
        choice = by_case.get(value.strip().lower()) if isinstance(value, str) else None
        if choice is None:
            raise InvalidRequestError(name, f"{value!r} is not one of {list(allowed)}")
        return choice

    return check


def _categories(value: Any, name: str) -> list[str]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidRequestError(name, f"must be a list of category names, got {type(value).__name__}")
    result: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise InvalidRequestError(f"{name}[{i}]", f"must be a non-empty string, got {item!r}")
        item = check_missing_value(item.strip(), f"{name}[{i}]", empty_segments=False)
        if item.lower() in (c.lower() for c in result):
            raise InvalidRequestError(f"{name}[{i}]", f"{item!r} is given twice")
        result.append(item)
    return result


#: keyword -> (Graph property, validator returning the value as sent)
OPTIONS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "allow_new_time_proposals": ("allowNewTimeProposals", _boolean),
    "hide_attendees": ("hideAttendees", _boolean),
    "response_requested": ("responseRequested", _boolean),
    "is_reminder_on": ("isReminderOn", _boolean),
    "reminder_minutes_before_start": ("reminderMinutesBeforeStart", _minutes),
    "sensitivity": ("sensitivity", _one_of(SENSITIVITIES)),
    "show_as": ("showAs", _one_of(SHOW_AS)),
    "categories": ("categories", _categories),
}
#: The Graph properties of :data:`OPTIONS`.
GRAPH_NAMES = tuple(graph for graph, _ in OPTIONS.values())


def option_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Graph fields of the options given (``None`` means not given), validated.

    :param values: keyword -> value, e.g. ``{"allow_new_time_proposals": False}``
    :raises InvalidRequestError: naming the keyword and the values it takes
    """
    result: dict[str, Any] = {}
    for keyword, (graph, check) in OPTIONS.items():
        value = values.get(keyword)
        if value is not None:
            result[graph] = check(value, keyword)
    return result


def _comparable(graph: str, value: Any) -> Any:
    if graph == "categories":
        return sorted(str(c).lower() for c in value or ())
    if isinstance(value, str):
        return value.lower()
    return value


def changed_options(wanted: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """The options among ``wanted`` (Graph fields) that differ from ``event``'s: the PATCH part.

    Enum values are compared without case (Graph answers ``workingElsewhere`` as sent),
    categories as a set.
    """
    return {
        graph: wanted[graph]
        for graph in GRAPH_NAMES
        if graph in wanted and _comparable(graph, event.get(graph)) != _comparable(graph, wanted[graph])
    }
