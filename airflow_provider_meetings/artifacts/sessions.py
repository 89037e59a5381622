"""Which sessions of a meeting count: ``not_before`` and ``before`` applied to what it left behind.

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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_meetings.graph.values import parse_iso

__all__ = ["ALL_SESSIONS", "ARTIFACT_CREATED", "REPORT_START", "SessionWindow"]

#: The field that dates an attendance report: its session's start.
REPORT_START = "meetingStartDateTime"
#: The field that dates a transcript or a recording.
ARTIFACT_CREATED = "createdDateTime"


@dataclass(frozen=True)
class SessionWindow:
    """The sessions that count: those that started at or after ``not_before`` and before
    ``before`` (each bound ``None``: open).

    :param not_before: aware datetime, the first start that counts
    :param before: aware datetime, later than ``not_before``: the first start that no longer counts
    """

    not_before: datetime | None = None
    before: datetime | None = None

    def keep(self, items: Iterable[dict[str, Any]], field: str) -> list[dict[str, Any]]:
        """The items dated in the window by ``field`` (all of them without bounds), in order.

        :param items: Graph's objects (reports, transcripts or recordings)
        :param field: :data:`REPORT_START` or :data:`ARTIFACT_CREATED`
        """
        if self.not_before is None and self.before is None:
            return list(items)
        return [item for item in items if self._holds(_date_of(item, field))]

    def _holds(self, when: datetime | None) -> bool:
        if when is None:  # no readable time: kept
            return True
        return (self.not_before is None or when >= self.not_before) and (self.before is None or when < self.before)


#: Every session.
ALL_SESSIONS = SessionWindow()


def _date_of(item: dict[str, Any], field: str) -> datetime | None:
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        when = parse_iso(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
