"""Reading an events file (the stand-in for a timetable, an interview system or a ticket
queue) and turning each event into the arguments of one createOrGet call.

File formats, chosen by the suffix:

* ``.csv`` with a header row: ``event_key,title,start,end,organizer,attendees,status``;
  ``attendees`` separated by ``;``.
* ``.json``: a list of objects with the same keys; ``attendees`` a list (or a ``;``
  separated string).

``event_key``, ``title`` and ``start`` are required. ``start``/``end`` are ISO-8601 with
an offset (``2026-12-07T09:00:00+01:00``) or ``Z``; without ``end`` the event lasts the
DAG's default duration; without ``organizer`` the DAG's default organizer books it.
Organizer and attendees are Entra object ids (GUIDs) or UPNs. ``status`` is empty (or
``scheduled``) for an event that takes place, ``cancelled`` for one whose meeting must go;
the column is optional.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_provider_meetings.graph.errors import ProviderError
from airflow_provider_meetings.graph.values import validate_user_id

from .common import DataFileError, check_text, csv_rows, date_time, parse_unique, read_data_file

COLUMNS = ("event_key", "title", "start", "end", "organizer", "attendees", "status")
REQUIRED = ("event_key", "title", "start")
#: ``status`` values: the event takes place, or is cancelled (either spelling).
SCHEDULED = ("", "scheduled")
CANCELLED = ("cancelled", "canceled")


class EventsFileError(DataFileError):
    """The events file, or one of its rows, cannot be used."""


@dataclass(frozen=True)
class Event:
    """One event to book a meeting for.

    :param key: the event's own stable key in its source system
    :param title: becomes the meeting subject
    :param start: aware start
    :param end: aware end, or ``None`` for the default duration
    :param organizer: object id or UPN, or ``None`` for the default organizer
    :param attendees: object ids or UPNs
    :param cancelled: the event is cancelled: its meeting must go
    """

    key: str
    title: str
    start: datetime
    end: datetime | None = None
    organizer: str | None = None
    attendees: tuple[str, ...] = ()
    cancelled: bool = False


def _text(value: Any, name: str, where: str) -> str | None:
    return check_text(value, name, where, error=EventsFileError) or None


def _attendees(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = value.split(";")
    elif isinstance(value, Sequence):
        items = value
    else:
        raise EventsFileError(f"{where}: attendees must be a list or a ';' separated string")
    result = []
    for item in items:
        text = _text(item, "attendee", where)
        if text:
            result.append(_user(text, "attendee", where))
    return tuple(result)


def _user(value: str, name: str, where: str) -> str:
    try:
        return validate_user_id(value, field_name=name)
    except ProviderError as err:
        raise EventsFileError(f"{where}: {err}") from None


def _cancelled(value: str | None, where: str) -> bool:
    status = (value or "").lower()
    if status in CANCELLED:
        return True
    if status in SCHEDULED:
        return False
    raise EventsFileError(f"{where}: status must be empty, 'scheduled' or 'cancelled', got {value!r}")


def parse_event(row: Mapping[str, Any], *, where: str = "event") -> Event:
    """Validate one row (CSV or JSON) into an :class:`Event`."""
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise EventsFileError(f"{where}: unknown column(s) {unknown}; allowed: {list(COLUMNS)}")
    values = {name: _text(row.get(name), name, where) for name in COLUMNS if name != "attendees"}
    missing = [name for name in REQUIRED if not values[name]]
    if missing:
        raise EventsFileError(f"{where}: {', '.join(missing)} missing")
    start = date_time(values["start"], "start", where, error=EventsFileError)
    end = date_time(values["end"], "end", where, error=EventsFileError)
    assert start is not None
    if end is not None and end <= start:
        raise EventsFileError(f"{where}: end {values['end']} is not after start {values['start']}")
    organizer = values["organizer"]
    return Event(
        key=str(values["event_key"]),
        title=str(values["title"]),
        start=start,
        end=end,
        organizer=_user(organizer, "organizer", where) if organizer else None,
        attendees=_attendees(row.get("attendees"), where),
        cancelled=_cancelled(values["status"], where),
    )


def _rows(text: str, suffix: str) -> list[tuple[str, Mapping[str, Any]]]:
    if suffix == ".csv":
        return list(csv_rows(text, error=EventsFileError))
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as err:
            raise EventsFileError(f"not valid JSON: {err}") from None
        if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
            raise EventsFileError("a JSON events file must hold a list of objects")
        return [(f"item {i}", item) for i, item in enumerate(data)]
    raise EventsFileError(f"unsupported events file type {suffix!r}; use .csv or .json")


def parse_events(text: str, *, suffix: str) -> list[Event]:
    """All events of a file's content; event keys must be unique."""
    return parse_unique(_rows(text, suffix.lower()), parse_event, key_name="event_key", error=EventsFileError)


def resolve_events_file(value: str, dag_folder: Path) -> Path:
    """``value`` as a path; a relative one is relative to the DAG file's folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else dag_folder / path


def read_events_file(path: Path) -> list[Event]:
    """Read and validate an events file (errors name the file and the row)."""
    return read_data_file(
        path, lambda text: parse_events(text, suffix=path.suffix), what="events file", error=EventsFileError
    )


def event_external_id(dag_id: str, event_key: str) -> str:
    """The meeting's external id: DAG id plus the event's own key."""
    return f"{dag_id}-{event_key}"


def event_key_of(dag_id: str, external_id: str) -> str:
    """Inverse of :func:`event_external_id`."""
    prefix = f"{dag_id}-"
    return external_id[len(prefix) :] if external_id.startswith(prefix) else external_id


def meeting_kwargs(
    event: Event, *, dag_id: str, default_organizer: str | None, default_duration: timedelta
) -> dict[str, Any]:
    """Arguments of ``CreateOrGetOnlineMeetingOperator`` for one event (JSON-serialisable).

    An empty ``default_organizer`` leaves ``user_id`` out, so the connection's
    ``default_user_id`` organizes the meeting.
    """
    end = event.end or event.start + default_duration
    kwargs: dict[str, Any] = {
        "external_id": event_external_id(dag_id, event.key),
        "subject": event.title,
        "start_date_time": event.start.isoformat(),
        "end_date_time": end.isoformat(),
    }
    organizer = event.organizer or default_organizer or None
    if organizer:
        kwargs["user_id"] = organizer
    if event.attendees:
        kwargs["participants"] = {"attendees": list(event.attendees)}
    return kwargs


def cancel_kwargs(event: Event, *, dag_id: str, default_organizer: str | None) -> dict[str, Any]:
    """Arguments of ``DeleteOnlineMeetingOperator`` for a cancelled event: what identifies its meeting."""
    kwargs: dict[str, Any] = {"external_id": event_external_id(dag_id, event.key)}
    organizer = event.organizer or default_organizer or None
    if organizer:
        kwargs["user_id"] = organizer
    return kwargs


def bulk_items(
    events: Iterable[Event], *, dag_id: str, default_organizer: str | None, default_duration: timedelta
) -> list[dict[str, Any]]:
    """Items of ``BulkCreateOrGetOnlineMeetingsOperator`` for the events (JSON-serialisable):
    a meeting per event, and ``"cancelled": True`` with what identifies the meeting of a
    cancelled one (the bulk call deletes it)."""
    return [
        {**cancel_kwargs(e, dag_id=dag_id, default_organizer=default_organizer), "cancelled": True}
        if e.cancelled
        else meeting_kwargs(e, dag_id=dag_id, default_organizer=default_organizer, default_duration=default_duration)
        for e in events
    ]


def chunks(items: list[Any], count: int) -> list[list[Any]]:
    """``items`` in at most ``count`` consecutive parts of nearly equal size (no empty part)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    count = min(count, len(items))
    if count == 0:
        return []
    size, extra = divmod(len(items), count)
    out: list[list[Any]] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out
