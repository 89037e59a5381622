"""When the weekly DAG's meeting happens: the anchor rule and the meeting window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pendulum
import pytest
from meetings_dag_helpers.window import TEMPLATE_MACROS, meeting_end, meeting_start, meeting_window, run_anchor

UTC = timezone.utc
TICK = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # Monday 08:00 Europe/Paris


def dag_run(**fields: object) -> SimpleNamespace:
    base = {"data_interval_end": None, "logical_date": None, "run_after": None}
    return SimpleNamespace(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"data_interval_end": TICK, "logical_date": TICK - timedelta(weeks=1)},
            TICK,
            id="interval-timetable-uses-interval-end-not-logical-date",
        ),
        pytest.param({"data_interval_end": TICK, "logical_date": TICK}, TICK, id="trigger-timetable"),
        pytest.param({"run_after": TICK}, TICK, id="no-logical-date-uses-run-after"),
        pytest.param(
            {"data_interval_end": pendulum.datetime(2026, 12, 7, 8, tz="Europe/Paris")}, TICK, id="converted-to-utc"
        ),
    ],
)
def test_run_anchor(fields: dict, expected: datetime) -> None:
    anchor = run_anchor(dag_run(**fields))
    assert anchor == expected
    assert anchor.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({}, "neither", id="nothing"),
        pytest.param({"data_interval_end": datetime(2026, 12, 7, 7)}, "naive", id="naive"),
    ],
)
def test_run_anchor_refuses(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_anchor(dag_run(**fields))


@pytest.mark.parametrize(
    ("offset", "duration", "start", "end"),
    [
        pytest.param(
            timedelta(hours=6), timedelta(hours=1), TICK + timedelta(hours=6), TICK + timedelta(hours=7), id="afternoon"
        ),
        pytest.param(timedelta(0), timedelta(minutes=30), TICK, TICK + timedelta(minutes=30), id="at-the-tick"),
    ],
)
def test_meeting_window(offset: timedelta, duration: timedelta, start: datetime, end: datetime) -> None:
    assert meeting_window(TICK, start_offset=offset, duration=duration) == (start, end)


@pytest.mark.parametrize(
    ("anchor", "duration"),
    [
        pytest.param(datetime(2026, 12, 7), timedelta(hours=1), id="naive-anchor"),
        pytest.param(TICK, timedelta(0), id="empty-meeting"),
    ],
)
def test_meeting_window_refuses(anchor: datetime, duration: timedelta) -> None:
    with pytest.raises(ValueError):
        meeting_window(anchor, start_offset=timedelta(0), duration=duration)


def test_macros_give_iso_strings_with_offset() -> None:
    run = dag_run(data_interval_end=TICK)
    params = {"start_offset_minutes": 360, "duration_minutes": 60}
    assert meeting_start(run, params) == "2026-12-07T13:00:00+00:00"
    assert meeting_end(run, params) == "2026-12-07T14:00:00+00:00"
    assert set(TEMPLATE_MACROS) == {"run_anchor", "meeting_start", "meeting_end"}


def test_same_run_same_meeting() -> None:
    """A cleared run keeps its data interval, so the macros give the same answer."""
    params = {"start_offset_minutes": 360, "duration_minutes": 60}
    first = dag_run(data_interval_end=TICK, run_after=TICK)
    rerun = dag_run(data_interval_end=TICK, run_after=TICK + timedelta(days=3))
    assert meeting_start(first, params) == meeting_start(rerun, params)
