"""Flow control of bulk calls: AIMD concurrency, rate estimation and pacing (pure, a fake clock)."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.graph.pacing import FlowController
from airflow_provider_meetings.graph.retry import PacingPolicy

# -- flow control ----------------------------------------------------------------------------


def test_aimd_concurrency_halves_on_throttling_and_grows_back() -> None:
    flow = FlowController(8)
    assert flow.concurrency == 8 and flow.batch_size == 20 and flow.delay(20, 0.0) == 0
    hold = flow.on_batch_done(1.0, sent_at=0.9, accepted=20, throttled=0)
    assert hold == 0 and flow.concurrency == 8
    flow.concurrency = 4
    for t in range(4):
        flow.on_batch_done(2.0 + t / 10, sent_at=1.9, accepted=20, throttled=0)
    assert flow.concurrency == 5
    flow.on_batch_done(3.0, sent_at=2.9, accepted=0, throttled=0, failed=True)
    assert flow.concurrency == 2
    # A second failure of a batch sent before that decrease does not halve again.
    flow.on_batch_done(3.1, sent_at=2.95, accepted=0, throttled=0, failed=True)
    assert flow.concurrency == 2


def test_first_throttle_estimates_the_limit_holds_and_paces() -> None:
    flow = FlowController(4, policy=PacingPolicy(margin=0.95, slice_seconds=0.1))
    flow.on_batch_done(0.10, sent_at=0.0, accepted=20, throttled=0)
    flow.on_batch_done(0.11, sent_at=0.0, accepted=20, throttled=0)
    hold = flow.on_batch_done(0.12, sent_at=0.0, accepted=10, throttled=10, retry_after=1.0)
    assert hold == 1.0  # the window is full, throttled requests included: wait it out
    assert flow.rate == pytest.approx(50 * 0.95)
    assert flow.batch_size == 5  # about 0.1 s of items
    assert flow.concurrency >= 1
    # Answers to batches sent before the decrease do not lower the rate again.
    flow.on_batch_done(0.13, sent_at=0.05, accepted=0, throttled=20, retry_after=1.0)
    assert flow.rate == pytest.approx(47.5) and flow.decreases == 1


def test_an_early_429_is_counted_per_full_window() -> None:
    """The service counts in its window: 19 accepted in a burst of 0.1 s is 19 per second."""
    flow = FlowController(4, policy=PacingPolicy(margin=1.0))
    flow.on_sent(20, 0.0)
    hold = flow.on_batch_done(0.1, sent_at=0.0, accepted=19, throttled=1, retry_after=1.0)
    assert hold == 1.0
    assert flow.rate == pytest.approx(19.0) and flow.ceiling == pytest.approx(19.0)


def test_after_the_hold_the_ceiling_counts_what_was_still_in_flight() -> None:
    flow = FlowController(4, policy=PacingPolicy(margin=1.0))
    flow.on_batch_done(0.10, sent_at=0.0, accepted=10, throttled=10, retry_after=1.0)  # first answer: 10/s
    flow.on_batch_done(0.11, sent_at=0.0, accepted=20, throttled=0)  # in flight at the 429
    flow.on_batch_done(0.12, sent_at=0.0, accepted=20, throttled=0)
    assert flow.rate == pytest.approx(10.0)
    flow.delay(5, 1.2)  # the hold is over: learn again from every answer of that window
    assert flow.ceiling == pytest.approx(50.0) and flow.rate == pytest.approx(50.0)


def test_pacer_spaces_items_at_the_rate() -> None:
    flow = FlowController(4, policy=PacingPolicy(slice_seconds=0.1))
    flow.rate = 50.0
    flow._tokens_at = 0.0
    assert flow.batch_size == 5
    assert flow.delay(5, 0.0) == pytest.approx(0.1)
    assert flow.delay(5, 0.1) == 0.0
    flow.on_sent(5, 0.1)
    assert flow.delay(5, 0.1) == pytest.approx(0.1)
    # Idle time does not bank more than one batch.
    assert flow.delay(5, 10.0) == 0.0
    flow.on_sent(5, 10.0)
    assert flow.delay(5, 10.0) == pytest.approx(0.1)


def test_below_the_ceiling_the_rate_climbs_fast_at_it_slowly() -> None:
    flow = FlowController(4, policy=PacingPolicy(margin=0.95, probe=0.05, cruise_probe=0.002, slice_seconds=0.1))
    flow.on_batch_done(0.1, sent_at=0.0, accepted=50, throttled=30, retry_after=1.0)
    assert (flow.ceiling, flow.rate) == (50.0, pytest.approx(47.5))
    flow.delay(5, 1.15)  # the hold is over (the ceiling stays 50)
    flow.rate = 30.0  # e.g. after a drop: climb back quickly...
    t = 1.2
    while t < 12.0:
        flow.on_batch_done(t, sent_at=t - 0.1, accepted=5, throttled=0)
        t += 0.1
    assert flow.rate == pytest.approx(47.5, rel=0.01)  # ...but not past the ceiling's margin
    while t < 22.0:
        flow.on_batch_done(t, sent_at=t - 0.1, accepted=5, throttled=0)
        t += 0.1
    assert 47.5 * 1.01 < flow.rate < 47.5 * 1.03  # cruising: 0.2%/s, a limit that rose is found
    # A 429 with 52 accepted in the last second: the ceiling is learnt again.
    for k in range(10):
        flow.on_batch_done(t + 0.05 + k / 10, sent_at=t + k / 10, accepted=5, throttled=0)
    before = flow.rate
    flow.on_batch_done(t + 1.0, sent_at=t + 0.95, accepted=2, throttled=3, retry_after=1.0)
    assert flow.ceiling == pytest.approx(52.0) and flow.rate == pytest.approx(before * 0.95)  # never up


def test_with_nothing_accepted_the_rate_halves() -> None:
    flow = FlowController(4)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=100, throttled=1, retry_after=1.0)
    before = flow.rate
    flow.on_batch_done(5.0, sent_at=4.9, accepted=0, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(before * 0.5)


def test_a_whole_batch_429_holds_sending_but_teaches_no_rate() -> None:
    """An envelope 429 without per-item answers says "wait", not how fast items may go."""
    flow = FlowController(4)
    assert flow.on_batch_done(0.1, sent_at=0.0, accepted=0, throttled=20, retry_after=2.0, whole_batch=True) == 2.0
    assert flow.rate is None and flow.concurrency == 2
    flow.on_batch_done(1.0, sent_at=0.9, accepted=100, throttled=1, retry_after=1.0)
    paced = flow.rate
    # the hold is graph/retry.py's whole_batch_hold, not bounded by the rate window (10 s at most)
    assert flow.on_batch_done(6.0, sent_at=5.9, accepted=0, throttled=20, retry_after=30.0, whole_batch=True) == 30.0
    assert flow.rate == paced and flow.window == 1.0


def test_one_decrease_per_window() -> None:
    flow = FlowController(4, policy=PacingPolicy(margin=1.0))
    flow.on_batch_done(0.1, sent_at=0.0, accepted=100, throttled=1, retry_after=1.0)
    assert flow.rate == pytest.approx(100)
    # Sent during the hold, or within a window after the decrease: ignored.
    flow.on_batch_done(1.5, sent_at=1.05, accepted=0, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(100) and flow.decreases == 1
    flow.on_batch_done(2.5, sent_at=2.4, accepted=40, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(40) and flow.decreases == 2


def test_a_whole_batch_503_with_retry_after_holds_sending() -> None:
    # Sending new batches into an outage Graph asked to wait out only met it again.
    from airflow_provider_meetings.graph.pacing import FlowController

    controller = FlowController(4)
    assert (
        controller.on_batch_done(
            10.0, sent_at=9.9, accepted=0, throttled=0, retry_after=2.0, failed=True, whole_batch=True
        )
        == 2.0
    )
    assert (
        controller.on_batch_done(
            11.0, sent_at=10.9, accepted=0, throttled=0, retry_after=None, failed=True, whole_batch=True
        )
        == 0.0
    )
    assert controller.on_batch_done(12.0, sent_at=11.9, accepted=0, throttled=0, retry_after=2.0, failed=True) == 0.0
