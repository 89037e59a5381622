"""The pure pieces of deferral: argument checks, the pause asked for, the kept state, merging results."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_meetings.deferral import (
    DEFAULT_DEFER_AFTER,
    DEFAULT_MAX_DEFERRALS,
    DeferralState,
    asked_wait,
    check_defer_after,
    check_max_deferrals,
    merge_results,
    resume_at,
)
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    RetriesExhaustedError,
)
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.retry_loop import RetryBudget
from airflow_provider_meetings.meetings.organizers import OrganizerLookupError

THROTTLED = GraphAPIError(429, "TooManyRequests", "Too many requests.", retry_after=30.0)


@pytest.mark.parametrize("value", [2, 0.5, 60, DEFAULT_DEFER_AFTER], ids=str)
def test_defer_after_accepts_seconds_above_zero(value) -> None:
    assert check_defer_after(value) == float(value)


@pytest.mark.parametrize(
    "value",
    [0, -1, float("inf"), float("nan"), "60", None, True],
    ids=["zero", "negative", "inf", "nan", "text", "none", "bool"],
)
def test_defer_after_refuses_anything_else_naming_the_argument(value) -> None:
    with pytest.raises(ValueError, match=r"defer_after must be a number of seconds above 0"):
        check_defer_after(value)


@pytest.mark.parametrize(
    "value", [0, -3, 1.5, "2", None, True], ids=["zero", "negative", "float", "text", "none", "bool"]
)
def test_max_deferrals_must_be_a_whole_number_of_at_least_one(value) -> None:
    assert check_max_deferrals(DEFAULT_MAX_DEFERRALS) == DEFAULT_MAX_DEFERRALS
    with pytest.raises(ValueError, match="max_deferrals must be a whole number of at least 1"):
        check_max_deferrals(value)


def test_the_retry_core_hands_a_pause_longer_than_max_single_wait_back_as_asked_wait() -> None:
    budget = RetryBudget(RetryPolicy(max_single_wait=2.0))
    assert budget.next_wait(GraphAPIError(429, "TooManyRequests", "x", retry_after=1.5)) == 1.5
    assert budget.next_wait(THROTTLED) is None
    error = budget.give_up("createOrGet external_id=a", THROTTLED)
    assert isinstance(error, RetriesExhaustedError) and asked_wait(error) == 30.0


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(
            RetriesExhaustedError("x", 1, 0.0, THROTTLED, asked_wait=30.0), 30.0, id="gave up for a long pause"
        ),
        pytest.param(RetriesExhaustedError("x", 7, 12.0, THROTTLED), None, id="gave up for too many failures"),
        pytest.param(THROTTLED, None, id="a 429 itself"),
        pytest.param(None, None, id="no error"),
        pytest.param(
            OrganizerLookupError("a@b", "lookup", cause=RetriesExhaustedError("x", 1, 0.0, THROTTLED, asked_wait=9.0)),
            9.0,
            id="organizer lookup that gave up for a long pause",
        ),
    ],
)
def test_asked_wait(error, expected) -> None:
    assert asked_wait(error) == expected


def test_asked_wait_follows_the_cause_chain() -> None:
    try:
        try:
            raise RetriesExhaustedError("x", 1, 0.0, THROTTLED, asked_wait=12.0)
        except RetriesExhaustedError as inner:
            raise OrganizerLookupError("a@b", "lookup") from inner
    except OrganizerLookupError as outer:
        assert asked_wait(outer) == 12.0


def test_resume_at_is_that_many_seconds_later_in_utc() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    assert resume_at(8, now) == now + timedelta(seconds=8)
    assert resume_at(-1, now) == now
    assert resume_at(1).tzinfo is not None


def test_state_round_trips_through_json_and_reads_garbage_as_fresh() -> None:
    state = DeferralState(deferrals=2, results=[{"index": 0}, None], created_before={"1": True})
    assert DeferralState.from_json(json.loads(json.dumps(state.to_json()))) == state
    assert DeferralState.from_json(None) == DeferralState()
    assert DeferralState.from_json({"deferrals": "x", "results": "y"}) == DeferralState()
    assert state.pending(2) == [1]
    assert DeferralState().pending(3) == [0, 1, 2]


def _result(index: int, status: str | None, *, wait: float | None = None, first_created: bool | None = None) -> dict:
    error = None if status else "throttled"
    return {"index": index, "status": status, "error": error, "asked_wait": wait, "first_created": first_created}


def test_merge_keeps_finished_items_and_leaves_long_waits_to_do() -> None:
    state = DeferralState()
    merged, wait, _ = merge_results(
        state,
        [0, 1, 2],
        [_result(0, None, wait=8.0), _result(1, "created"), _result(2, None, wait=5.0)],
        deferrable=True,
    )
    assert wait == 8.0
    assert merged == [None, {"index": 1, "status": "created", "error": None}, None]


def test_merge_after_resuming_puts_results_back_at_their_original_index() -> None:
    state = DeferralState(deferrals=1, results=[None, {"index": 1, "status": "created"}, None])
    merged, wait, _ = merge_results(state, [0, 2], [_result(0, "created"), _result(1, "existing")], deferrable=True)
    assert wait is None
    assert [r["index"] for r in merged] == [0, 1, 2]
    assert [r["status"] for r in merged] == ["created", "created", "existing"]


def test_merge_without_deferral_makes_long_waits_final_failures() -> None:
    merged, wait, _ = merge_results(DeferralState(), [0], [_result(0, None, wait=8.0)], deferrable=False)
    assert wait is None and merged == [{"index": 0, "status": None, "error": "throttled"}]


def test_a_cancel_whose_meeting_was_made_before_its_delete_waited_reports_not_found() -> None:
    state = DeferralState()
    merged, _, created_before = merge_results(
        state, [0], [_result(0, None, wait=8.0, first_created=True)], deferrable=True
    )
    assert merged == [None] and created_before == {"0": True}
    state.results, state.created_before = merged, created_before
    merged, _, created_before = merge_results(state, [0], [_result(0, "cancelled")], deferrable=True)
    assert merged[0]["status"] == "not_found" and created_before == {}


def test_folding_a_run_twice_reads_the_same_state() -> None:
    # Deferrable first; when the task may not defer again the operator folds the same run as
    # final. The first fold once consumed created_before, and the cancel then said "cancelled".
    state = DeferralState(deferrals=1, results=[None, None], created_before={"0": True, "1": True})
    ran = [_result(0, "cancelled"), _result(1, None, wait=600.0)]
    first = merge_results(state, [0, 1], ran, deferrable=True)
    assert first.wait == 600.0 and first.created_before == {"1": True}
    assert state.created_before == {"0": True, "1": True}  # not changed
    final = merge_results(state, [0, 1], ran, deferrable=False)
    assert final.wait is None
    assert [r["status"] for r in final.results] == ["not_found", None]
