"""Which sessions of a meeting count: ``not_before`` applied to what the meeting left behind.

One join URL serves every session of a recurring meeting, and a meeting can be restarted, so
its attendance reports, transcripts and recordings pile up under one meeting id (GRAPH_FACTS,
"Series and restarts": "Pick by ``meetingStartDateTime``"):

* an attendance report is one session's, and says when it started: ``meetingStartDateTime``
  (https://learn.microsoft.com/graph/api/resources/meetingattendancereport);
* a transcript or a recording is made while its session runs, so its ``createdDateTime``
  (https://learn.microsoft.com/graph/api/resources/calltranscript,
  https://learn.microsoft.com/graph/api/resources/callrecording) is not before the start of
  that session.

Graph's ``DateTimeOffset`` values are UTC (``...Z``); one without an offset is read as UTC.
An item whose time is missing or unreadable is kept: nothing is dropped that cannot be told
apart (Graph sends both fields on every item).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from airflow_provider_meetings.graph.values import parse_iso

__all__ = ["REPORT_START", "ARTIFACT_CREATED", "since"]

#: The field that dates an attendance report: its session's start.
REPORT_START = "meetingStartDateTime"
#: The field that dates a transcript or a recording.
ARTIFACT_CREATED = "createdDateTime"


def since(items: Iterable[dict[str, Any]], field: str, not_before: datetime | None) -> list[dict[str, Any]]:
    """The items dated ``not_before`` or later by ``field`` (all of them for ``None``), in order.

    :param items: Graph's objects (reports, transcripts or recordings)
    :param field: :data:`REPORT_START` or :data:`ARTIFACT_CREATED`
    :param not_before: an aware datetime, or ``None``
    """
    if not_before is None:
        return list(items)
    return [item for item in items if _dated(item, field, not_before)]


def _dated(item: dict[str, Any], field: str, not_before: datetime) -> bool:
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        return True
    text = value.strip()
    try:
        when = parse_iso(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return True
    return (when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)) >= not_before
