"""When a scheduled meeting happens, derived from the DAG run that books it.

The rule, for both sample DAGs: a run's **anchor** is the moment the run is due,
``data_interval_end``. With a ``CronTriggerTimetable`` that is the cron tick itself (the
data interval is empty); with a ``CronDataIntervalTimetable`` (``schedule="@weekly"``
with ``create_cron_data_intervals``) it is the *end* of the interval, i.e. again the
tick at which the run starts, not the week before. Runs without a logical date (manual
runs triggered with ``logical_date=None``) have no data interval: their anchor is
``run_after``. The anchor of a run never changes, so clearing or re-running it computes
the same meeting and the same external id. The DAGs that read a file (events, interviews)
book what starts in ``[anchor, anchor + horizon)`` (:func:`starting_in`).

The weekly DAG books **the next occurrence ahead of the run**, not the one of the run's
own tick (:func:`occurrence_window`). Its sessions are every Monday 08:00 Europe/Paris
(the cron tick) plus ``start_offset_minutes``. A scheduled run may start up to a week
after its tick: unpausing a DAG with ``catchup=False`` at once runs the latest tick that
passed, e.g. last Monday's on a Friday. So a scheduled (or backfill) run books the first
session at or after its *next* tick, a week ahead of its own, which is ahead of the run
whenever it starts. A manual run is due when it is triggered: it books the first session
at or after its anchor (the trigger time, or the date given to ``airflow dags test``).
The external id comes from the session's date, so the runs that book the same session
(a scheduled run, a manual one, a cleared one) get the same meeting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta, timezone
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

#: The weekly DAG's cron tick (its schedule: ``0 8 * * MON`` in Europe/Paris).
WEEKLY_TICK_ZONE = ZoneInfo("Europe/Paris")
WEEKLY_TICK_WEEKDAY = 0  # Monday
WEEKLY_TICK_TIME = time(8, 0)
#: How late a scheduled run of the weekly DAG can start: until its next tick.
WEEKLY_PERIOD = timedelta(weeks=1)


class Scheduled(Protocol):
    """Something that starts at a moment and has its own key (an event, an interview)."""

    @property
    def key(self) -> str: ...

    @property
    def start(self) -> datetime: ...


S = TypeVar("S", bound=Scheduled)


def run_anchor(dag_run: Any) -> datetime:
    """The moment ``dag_run`` is due, in UTC (see the module docstring for the rule)."""
    for name in ("data_interval_end", "logical_date", "run_after"):
        value = getattr(dag_run, name, None)
        if value is not None:
            if value.tzinfo is None:
                raise ValueError(f"dag_run.{name} is a naive datetime: {value!r}")
            return value.astimezone(timezone.utc)
    raise ValueError("the DAG run has neither a data interval, a logical date nor run_after")


def starting_in(items: Iterable[S], start: datetime, end: datetime) -> list[S]:
    """The items (events, interviews) starting in ``[start, end)``, earliest first (then by key)."""
    return sorted((item for item in items if start <= item.start < end), key=lambda item: (item.start, item.key))


def meeting_window(anchor: datetime, *, start_offset: timedelta, duration: timedelta) -> tuple[datetime, datetime]:
    """``(start, end)`` of a meeting that starts ``start_offset`` after ``anchor``."""
    if anchor.tzinfo is None:
        raise ValueError(f"anchor must be timezone-aware, got {anchor!r}")
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    start = anchor + start_offset
    return start, start + duration


def booking_after(dag_run: Any) -> datetime:
    """The moment from which the weekly DAG's run books (see the module docstring).

    A manual run: its anchor. Any other run (scheduled, backfill): its anchor plus one week,
    the latest it can start, so the session it books is never in the past.
    """
    anchor = run_anchor(dag_run)
    run_type = getattr(dag_run, "run_type", None)
    if getattr(run_type, "value", run_type) == "manual":
        return anchor
    return anchor + WEEKLY_PERIOD


def occurrence_window(after: datetime, *, start_offset: timedelta, duration: timedelta) -> tuple[datetime, datetime]:
    """``(start, end)`` of the first weekly session starting at or after ``after``.

    A session starts ``start_offset`` after a Monday 08:00 Europe/Paris tick (so 14:00 Paris
    with the default 360 minutes, in winter and in summer).
    """
    if after.tzinfo is None:
        raise ValueError(f"after must be timezone-aware, got {after!r}")
    # The tick of the week in which a session could start at `after`, then the next ones.
    earliest = (after - start_offset).astimezone(WEEKLY_TICK_ZONE)
    day = earliest.date() - timedelta(days=(earliest.weekday() - WEEKLY_TICK_WEEKDAY) % 7)
    while True:
        tick = datetime.combine(day, WEEKLY_TICK_TIME, tzinfo=WEEKLY_TICK_ZONE)
        start, end = meeting_window(tick.astimezone(timezone.utc), start_offset=start_offset, duration=duration)
        if start >= after:
            return start, end
        day += WEEKLY_PERIOD


def _params_window(dag_run: Any, params: Any) -> tuple[datetime, datetime]:
    return occurrence_window(
        booking_after(dag_run),
        start_offset=timedelta(minutes=int(params["start_offset_minutes"])),
        duration=timedelta(minutes=int(params["duration_minutes"])),
    )


def meeting_start(dag_run: Any, params: Any) -> str:
    """Template macro: ISO start of the session the run books (params ``start_offset_minutes``)."""
    return _params_window(dag_run, params)[0].isoformat()


def meeting_end(dag_run: Any, params: Any) -> str:
    """Template macro: ISO end of the session the run books (params ``duration_minutes``)."""
    return _params_window(dag_run, params)[1].isoformat()


def occurrence_date(dag_run: Any, params: Any) -> str:
    """Template macro: the Paris date of the session the run books, ``2026-12-07``: the
    part of the external id that names the occurrence."""
    return _params_window(dag_run, params)[0].astimezone(WEEKLY_TICK_ZONE).date().isoformat()


#: ``user_defined_macros`` of the weekly DAG.
TEMPLATE_MACROS = {
    "run_anchor": run_anchor,
    "meeting_start": meeting_start,
    "meeting_end": meeting_end,
    "occurrence_date": occurrence_date,
}
