"""When the weekly DAG's meeting happens: the anchor rule and the meeting window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pendulum
import pytest
from meetings_dag_helpers.window import (
    TEMPLATE_MACROS,
    booking_after,
    meeting_end,
    meeting_start,
    meeting_window,
    occurrence_date,
    occurrence_window,
    run_anchor,
)

UTC = timezone.utc
TICK = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # Monday 08:00 Europe/Paris


def dag_run(**fields: object) -> SimpleNamespace:
    base = {"data_interval_end": None, "logical_date": None, "run_after": None, "run_type": "scheduled"}
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


PARAMS = {"start_offset_minutes": 360, "duration_minutes": 60}
SESSION = TICK + timedelta(hours=6)  # Monday 2026-12-07 14:00 Europe/Paris


def test_macros_give_iso_strings_with_offset() -> None:
    run = dag_run(data_interval_end=TICK, run_type="manual")
    assert meeting_start(run, PARAMS) == "2026-12-07T13:00:00+00:00"
    assert meeting_end(run, PARAMS) == "2026-12-07T14:00:00+00:00"
    assert occurrence_date(run, PARAMS) == "2026-12-07"
    assert set(TEMPLATE_MACROS) == {"run_anchor", "meeting_start", "meeting_end", "occurrence_date"}


@pytest.mark.parametrize(
    "run",
    [
        pytest.param(dag_run(data_interval_end=TICK - timedelta(weeks=1)), id="scheduled-on-time"),
        pytest.param(
            dag_run(data_interval_end=TICK - timedelta(weeks=1), logical_date=TICK - timedelta(weeks=1)),
            id="scheduled-run-of-last-monday-started-on-friday-by-unpausing",
        ),
        pytest.param(dag_run(data_interval_end=TICK - timedelta(weeks=1), run_type="backfill"), id="backfill"),
        pytest.param(dag_run(run_after=TICK - timedelta(days=3), run_type="manual"), id="manual-on-friday"),
        pytest.param(dag_run(run_after=TICK - timedelta(days=6), run_type="manual"), id="manual-last-tuesday"),
        pytest.param(dag_run(data_interval_end=TICK, run_type="manual"), id="manual-at-the-tick"),
        pytest.param(dag_run(data_interval_end=SESSION, run_type="manual"), id="manual-at-the-start"),
    ],
)
def test_every_run_books_the_next_session_ahead_of_it(run: SimpleNamespace) -> None:
    """The runs due between last Monday's session and this one's all book this Monday's,
    with the same external id: last Monday's scheduled run may start as late as Friday."""
    assert meeting_start(run, PARAMS) == SESSION.isoformat()
    assert occurrence_date(run, PARAMS) == "2026-12-07"


def test_a_run_never_books_a_session_that_started_before_it_was_due() -> None:
    late_manual = dag_run(run_after=SESSION + timedelta(minutes=1), run_type="manual")
    assert meeting_start(late_manual, PARAMS) == (SESSION + timedelta(weeks=1)).isoformat()
    # A scheduled run books a week ahead of its tick: at or after its next tick, whenever it starts.
    assert booking_after(dag_run(data_interval_end=TICK)) == TICK + timedelta(weeks=1)
    assert occurrence_date(dag_run(data_interval_end=TICK), PARAMS) == "2026-12-14"


def test_sessions_stay_at_14_00_paris_across_daylight_saving_time() -> None:
    offset, hour = timedelta(hours=6), timedelta(hours=1)
    summer = occurrence_window(datetime(2026, 7, 1, tzinfo=UTC), start_offset=offset, duration=hour)
    winter = occurrence_window(datetime(2026, 12, 1, tzinfo=UTC), start_offset=offset, duration=hour)
    assert summer[0] == datetime(2026, 7, 6, 12, tzinfo=UTC)  # Monday 14:00 CEST
    assert winter[0] == datetime(2026, 12, 7, 13, tzinfo=UTC)  # Monday 14:00 CET


def test_occurrence_window_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrence_window(datetime(2026, 12, 7), start_offset=timedelta(0), duration=timedelta(hours=1))


def test_same_run_same_meeting() -> None:
    """A cleared run keeps its data interval, so the macros give the same answer."""
    first = dag_run(data_interval_end=TICK, run_after=TICK)
    rerun = dag_run(data_interval_end=TICK, run_after=TICK + timedelta(days=3))
    assert meeting_start(first, PARAMS) == meeting_start(rerun, PARAMS)
    assert occurrence_date(first, PARAMS) == occurrence_date(rerun, PARAMS)
