"""One occurrence of a series: which day, the ``instances`` query, which instance. Pure.

To cancel one occurrence, Graph's way is to list the series master's occurrences in a time
window (``GET .../events/{masterId}/instances?startDateTime=...&endDateTime=...``, both
required: https://learn.microsoft.com/graph/api/event-list-instances) and cancel that
instance's id (``POST .../events/{instanceId}/cancel``: event-cancel). The day is the series'
own: a day in the series' ``recurrenceTimeZone`` (else its start's zone).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from airflow_provider_meetings.events.request import PreparedEvent, utc_instant
from airflow_provider_meetings.events.timezones import zone_info
from airflow_provider_meetings.graph.errors import InvalidRequestError, ProviderError


class NotASeriesError(ProviderError):
    """The event with this external id is a single event, not a series: cancel it with ``cancel_event``."""

    permanent = True

    def __init__(self, external_id: str, kind: Any) -> None:
        self.external_id = external_id
        super().__init__(
            f"the event with external id {external_id!r} is not a series (type {kind!r}); "
            "cancel_event_occurrence cancels one day of a series: use cancel_event for a single event"
        )


def occurrence_day(value: Any) -> datetime.date:
    """The occurrence's day: a ``date`` (not a ``datetime``) or ``YYYY-MM-DD``.

    :raises InvalidRequestError: anything else (before any request)
    """
    if isinstance(value, datetime.datetime):
        raise InvalidRequestError(
            "occurrence_date", f"must be a date (the day in the series' own zone), not a datetime: {value!r}"
        )
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidRequestError("occurrence_date", f"must be a date or 'YYYY-MM-DD', got {value!r}")


def series_zone(master: Mapping[str, Any]) -> ZoneInfo:
    """The series' zone: ``recurrence.range.recurrenceTimeZone``, else ``originalStartTimeZone``, else UTC."""
    span = (master.get("recurrence") or {}).get("range") or {}
    for name in (span.get("recurrenceTimeZone"), master.get("originalStartTimeZone")):
        if isinstance(name, str) and name.strip():
            try:
                return zone_info(name)
            except InvalidRequestError:
                continue
    return ZoneInfo("UTC")


def _utc_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def instances_path(prepared: PreparedEvent, master_id: str, day: datetime.date, zone: ZoneInfo) -> str:
    """``.../events/{masterId}/instances`` for that day in the series' zone (midnight to midnight)."""
    begin = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    query = f"startDateTime={quote(_utc_text(begin), safe='')}&endDateTime={quote(_utc_text(end), safe='')}"
    return f"{prepared.event_path(master_id)}/instances?{query}"


def pick_occurrence(
    instances: Iterable[Any], day: datetime.date, zone: ZoneInfo, master_id: str
) -> Mapping[str, Any] | None:
    """The instance of the series that starts on ``day`` in its zone (an occurrence or an exception)."""
    for instance in instances:
        if not isinstance(instance, Mapping) or not instance.get("id"):
            continue
        if instance.get("seriesMasterId") not in (None, master_id):
            continue
        start = utc_instant(instance.get("start"))
        if start is not None and start.astimezone(zone).date() == day:
            return instance
    return None
