from __future__ import annotations

import pytest

from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    GraphAPIError,
    RetriesExhaustedError,
    TransportError,
)
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.retry_loop import RetryBudget, RetryKind, retry_kind, run_with_retries


def graph_error(status: int, retry_after: float | None = None) -> GraphAPIError:
    return GraphAPIError(status, f"Code{status}", "m", retry_after=retry_after)


def drop() -> TransportError:
    return TransportError("dropped", "https://graph.example/v1.0/x", "reset")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(graph_error(429), RetryKind.THROTTLED, id="429 throttled"),
        pytest.param(graph_error(503), RetryKind.TRANSIENT, id="503"),
        pytest.param(graph_error(500), RetryKind.TRANSIENT, id="500"),
        pytest.param(graph_error(408), RetryKind.TRANSIENT, id="408"),
        pytest.param(graph_error(424), RetryKind.TRANSIENT, id="424 batch dependency"),
        pytest.param(drop(), RetryKind.TRANSIENT, id="dropped connection"),
        pytest.param(AuthenticationError("x", permanent=False, status=429), RetryKind.THROTTLED, id="token 429"),
        pytest.param(
            AuthenticationError("temporarily_unavailable", permanent=False), RetryKind.TRANSIENT, id="token outage"
        ),
        pytest.param(graph_error(400), None, id="400 permanent"),
        pytest.param(graph_error(403), None, id="403 permanent"),
        pytest.param(AuthenticationError("invalid_client"), None, id="bad secret"),
        pytest.param(ValueError("not ours"), None, id="foreign error"),
    ],
)
def test_one_definition_of_retryable(error, kind):
    assert retry_kind(error) is kind


def test_failures_are_bounded_by_max_retries():
    budget = RetryBudget(RetryPolicy(max_retries=2, max_total_wait=100, backoff_base=0.01))
    for _ in range(2):
        wait = budget.next_wait(graph_error(503))
        assert wait is not None
        budget.spend(graph_error(503), wait)
    assert budget.next_wait(graph_error(503)) is None
    assert budget.next_wait(drop()) is None
    assert budget.attempts == 3


def test_throttling_spends_only_the_waiting_budget():
    budget = RetryBudget(RetryPolicy(max_retries=0, max_total_wait=10))
    for _ in range(5):  # max_retries=0, yet 429s are retried while the wait fits
        assert budget.next_wait(graph_error(429, retry_after=2.0)) == 2.0
        budget.spend(graph_error(429, retry_after=2.0), 2.0)
    assert (budget.throttles, budget.retries, budget.waited) == (5, 0, 10.0)
    assert budget.next_wait(graph_error(429, retry_after=0.5)) is None
    assert budget.asked_wait == 0.5


def test_no_wait_exceeds_what_is_left():
    budget = RetryBudget(RetryPolicy(max_total_wait=10), waited=7.0)
    assert budget.next_wait(graph_error(429, retry_after=3.0)) == 3.0
    assert budget.next_wait(graph_error(429, retry_after=3.5)) is None
    assert budget.asked_wait == 3.5
    error = budget.give_up("createOrGet external_id=x", graph_error(429, retry_after=3.5))
    assert isinstance(error, RetriesExhaustedError) and error.asked_wait == 3.5 and not error.permanent
    assert "asked to wait 3.5s more" in str(error)


def test_backoff_that_does_not_fit_gives_up_without_an_asked_wait():
    budget = RetryBudget(RetryPolicy(max_total_wait=0.1, backoff_base=1.0))
    assert budget.next_wait(graph_error(503)) is None
    assert budget.asked_wait is None


def test_floor_raises_the_wait():
    budget = RetryBudget(RetryPolicy(backoff_base=0.01))
    assert budget.next_wait(graph_error(503), floor=5.2) == 5.2


def test_permanent_errors_are_given_back_as_they_are():
    error = graph_error(404)
    budget = RetryBudget(RetryPolicy())
    assert budget.next_wait(error) is None
    assert budget.give_up("x", error) is error


@pytest.mark.parametrize(
    ("error", "line"),
    [
        pytest.param(graph_error(503), "call: 503 Code503, retry 1/6 in 1.5s", id="failure"),
        pytest.param(
            graph_error(429, retry_after=1.5),
            "call: 429 Code429, throttled, retry in 1.5s (Retry-After), 298.5s of 300s waiting left",
            id="throttled",
        ),
        pytest.param(drop(), "call: connection dropped, retry 1/6 in 1.5s", id="transport"),
    ],
)
def test_one_log_line_format(error, line):
    budget = RetryBudget(RetryPolicy())
    budget.spend(error, 1.5)
    fmt, *args = budget.log_args("call", error, 1.5)
    assert fmt % tuple(args) == line


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, fmt: str, *args: object) -> None:
        self.lines.append(fmt % args)


def test_run_with_retries_retries_then_returns():
    answers = iter([graph_error(503), graph_error(429, retry_after=0.25), "meeting"])
    slept: list[float] = []

    def attempt() -> str:
        answer = next(answers)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    log = Log()
    policy = RetryPolicy(backoff_base=0.1, backoff_max=0.1)
    assert run_with_retries(attempt, policy=policy, what="w", log=log, sleep=slept.append) == "meeting"
    assert len(slept) == 2 and slept[1] == 0.25
    assert [line.split(",")[0] for line in log.lines] == ["w: 503 Code503", "w: 429 Code429"]


def test_run_with_retries_passes_other_errors_through():
    token_failure = RetriesExhaustedError("token request", 7, 30.0, graph_error(503))

    def attempt() -> str:
        raise token_failure

    with pytest.raises(RetriesExhaustedError) as caught:
        run_with_retries(
            attempt, policy=RetryPolicy(), what="w", log=Log(), sleep=lambda s: None, retry_on=(GraphAPIError,)
        )
    assert caught.value is token_failure  # not wrapped in a second round of retries


def test_a_permanent_error_is_raised_as_it_is_without_a_cause_cycle():
    error = graph_error(403)

    def attempt() -> str:
        raise error

    with pytest.raises(GraphAPIError) as caught:
        run_with_retries(attempt, policy=RetryPolicy(), what="w", log=Log(), sleep=lambda s: None)
    assert caught.value is error and caught.value.__cause__ is None


def test_max_single_wait_ends_the_call_instead_of_a_long_sleep():
    budget = RetryBudget(RetryPolicy(max_total_wait=300, max_single_wait=30))
    assert budget.next_wait(graph_error(429, retry_after=20.0)) == 20.0
    assert budget.next_wait(graph_error(429, retry_after=45.0)) is None
    assert budget.asked_wait == 45.0
    assert RetryPolicy(max_total_wait=300, max_single_wait=30).longest_wait(290.0) == 10.0


# -- deferral beyond Retry-After (issue 20, item 9) -------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(graph_error(503), id="503 without Retry-After"),
        pytest.param(graph_error(504), id="504"),
        pytest.param(drop(), id="dropped connection"),
        pytest.param(graph_error(429), id="429 without Retry-After"),
    ],
)
def test_a_backoff_longer_than_max_single_wait_asks_to_defer(error):
    # The next wait is the backoff (no Retry-After): longer than defer_after, within the budget.
    policy = RetryPolicy(max_total_wait=300, max_single_wait=5, backoff_base=20, backoff_max=60)
    budget = RetryBudget(policy)
    assert budget.next_wait(error, rand=lambda: 0.0) is None
    assert budget.asked_wait == 10.0 and not budget.asked_by_server
    given_up = budget.give_up("createOrGet external_id=x", error)
    assert isinstance(given_up, RetriesExhaustedError) and given_up.asked_wait == 10.0
    assert "the next wait (10.0s of backoff) is longer than one wait may be here" in str(given_up)


def test_a_later_backoff_asks_to_defer_and_a_short_one_is_slept():
    policy = RetryPolicy(max_total_wait=300, max_single_wait=5, backoff_base=2, backoff_max=60)
    budget = RetryBudget(policy)
    waits = []
    for _ in range(3):  # ceilings 2, 4, 8: the first two are slept, the third defers
        wait = budget.next_wait(graph_error(503), rand=lambda: 1.0)
        if wait is None:
            break
        budget.spend(graph_error(503), wait)
        waits.append(wait)
    assert waits == [2.0, 4.0] and budget.asked_wait == 8.0


def test_a_failed_batch_backoff_longer_than_max_single_wait_asks_to_defer():
    budget = RetryBudget(RetryPolicy(max_total_wait=300, max_single_wait=5, backoff_base=1, backoff_max=60))
    assert budget.next_wait(drop(), rand=lambda: 1.0, batch_streak=4) is None
    assert budget.asked_wait == 8.0


def test_without_max_single_wait_a_backoff_beyond_the_budget_is_final():
    budget = RetryBudget(RetryPolicy(max_total_wait=5, backoff_base=20))
    assert budget.next_wait(graph_error(503)) is None
    assert budget.asked_wait is None  # the budget is spent: nothing to defer for


def test_a_failure_past_max_retries_is_final_even_when_deferrable():
    budget = RetryBudget(RetryPolicy(max_retries=1, max_single_wait=5, backoff_base=20), retries=1)
    assert budget.next_wait(graph_error(503)) is None
    assert budget.asked_wait is None


def test_a_failed_batch_request_spends_waiting_not_attempts():
    policy = RetryPolicy(max_retries=0, max_total_wait=3, backoff_base=0.5, backoff_max=0.5)
    budget = RetryBudget(policy)
    streak = 0
    while (wait := budget.next_wait(graph_error(503, retry_after=0), batch_streak=(streak := streak + 1))) is not None:
        assert wait == policy.least_wait  # never again at once after "Retry-After: 0"
        budget.spend(graph_error(503), wait, whole_batch=True)
    assert (budget.retries, budget.throttles, budget.batch_failures) == (0, 0, 12)
    assert budget.attempts == 13 and budget.waited == pytest.approx(3.0)
    fmt, *args = budget.log_args("call", graph_error(503), 0.1, whole_batch=True)
    assert fmt % tuple(args) == "call: 503 Code503, $batch request failed, retry in 0.1s, 0.0s of 3s waiting left"
