"""When a scheduled meeting happens, derived from the DAG run that books it.

The rule, for both sample DAGs: a run's **anchor** is the moment the run is due,
``data_interval_end``. With a ``CronTriggerTimetable`` that is the cron tick itself (the
data interval is empty); with a ``CronDataIntervalTimetable`` (``schedule="@weekly"``
with ``create_cron_data_intervals``) it is the *end* of the interval, i.e. again the
tick at which the run starts, not the week before. Runs without a logical date (manual
runs triggered with ``logical_date=None``) have no data interval: their anchor is
``run_after``. The anchor of a run never changes, so clearing or re-running it computes
the same meeting and the same external id.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any


def run_anchor(dag_run: Any) -> datetime:
    """The moment ``dag_run`` is due, in UTC (see the module docstring for the rule)."""
    for name in ("data_interval_end", "logical_date", "run_after"):
        value = getattr(dag_run, name, None)
        if value is not None:
            if value.tzinfo is None:
                raise ValueError(f"dag_run.{name} is a naive datetime: {value!r}")
            return value.astimezone(timezone.utc)
    raise ValueError("the DAG run has neither a data interval, a logical date nor run_after")


def meeting_window(anchor: datetime, *, start_offset: timedelta, duration: timedelta) -> tuple[datetime, datetime]:
    """``(start, end)`` of a meeting that starts ``start_offset`` after ``anchor``."""
    if anchor.tzinfo is None:
        raise ValueError(f"anchor must be timezone-aware, got {anchor!r}")
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    start = anchor + start_offset
    return start, start + duration


def _params_window(dag_run: Any, params: Any) -> tuple[datetime, datetime]:
    return meeting_window(
        run_anchor(dag_run),
        start_offset=timedelta(minutes=int(params["start_offset_minutes"])),
        duration=timedelta(minutes=int(params["duration_minutes"])),
    )


def meeting_start(dag_run: Any, params: Any) -> str:
    """Template macro: ISO start of the run's meeting (params ``start_offset_minutes``)."""
    return _params_window(dag_run, params)[0].isoformat()


def meeting_end(dag_run: Any, params: Any) -> str:
    """Template macro: ISO end of the run's meeting (params ``duration_minutes``)."""
    return _params_window(dag_run, params)[1].isoformat()


#: ``user_defined_macros`` of the weekly DAG.
TEMPLATE_MACROS = {
    "run_anchor": run_anchor,
    "meeting_start": meeting_start,
    "meeting_end": meeting_end,
}
