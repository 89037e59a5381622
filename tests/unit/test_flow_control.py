"""Flow control of bulk calls: AIMD concurrency, rate estimation and pacing (pure, a fake clock)."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.flow_control import FlowController

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
    flow = FlowController(4, margin=0.95)
    flow.on_batch_done(0.10, sent_at=0.0, accepted=20, throttled=0)
    flow.on_batch_done(0.11, sent_at=0.0, accepted=20, throttled=0)
    hold = flow.on_batch_done(0.12, sent_at=0.0, accepted=10, throttled=10, retry_after=1.0)
    assert hold == 1.0  # the window is full: wait it out once
    assert flow.rate == pytest.approx(50 * 0.95)
    assert flow.batch_size == 5  # about 0.1 s of items
    assert flow.concurrency >= 1
    # Answers to batches sent before the decrease do not lower the rate again.
    flow.on_batch_done(0.13, sent_at=0.05, accepted=0, throttled=20, retry_after=1.0)
    assert flow.rate == pytest.approx(47.5) and flow.decreases == 1


def test_an_early_429_is_measured_over_the_time_since_sending_began() -> None:
    flow = FlowController(4, margin=1.0)
    flow.on_sent(20, 0.0)
    hold = flow.on_batch_done(0.1, sent_at=0.0, accepted=19, throttled=1, retry_after=1.0)
    assert hold == 1.0
    assert flow.rate == pytest.approx(190.0)  # 19 items in 0.1 s, not 19 in a second
    assert flow.batch_size == 19


def test_pacer_spaces_items_at_the_rate() -> None:
    flow = FlowController(4)
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


def test_rate_probes_up_and_comes_down_on_the_next_throttle() -> None:
    flow = FlowController(4, margin=0.95, probe=0.02)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=50, throttled=30, retry_after=1.0)
    assert flow.rate == pytest.approx(47.5)
    start = flow.rate
    t = 1.2
    while t < 6.0:
        flow.on_batch_done(t, sent_at=t - 0.1, accepted=5, throttled=0)
        t += 0.1
    assert flow.rate > start * 1.07
    # 52 accepted in the last second, with 429s: the estimate pulls the rate below it.
    for k in range(10):
        flow.on_batch_done(6.0 + k / 10, sent_at=5.9 + k / 10, accepted=5, throttled=0)
    flow.on_batch_done(7.0, sent_at=6.95, accepted=2, throttled=3, retry_after=1.0)
    assert flow.rate == pytest.approx(min(start * 1.1, 52) * 0.95, rel=0.1)
    assert flow.rate < 52


def test_with_nothing_accepted_the_rate_halves() -> None:
    flow = FlowController(4)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=100, throttled=1, retry_after=1.0)
    before = flow.rate
    flow.on_batch_done(5.0, sent_at=4.9, accepted=0, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(before * 0.5)


def test_one_decrease_per_window() -> None:
    flow = FlowController(4, margin=1.0)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=100, throttled=1, retry_after=1.0)
    assert flow.rate == pytest.approx(100)
    # Sent during the hold, or within a window after the decrease: ignored.
    flow.on_batch_done(1.5, sent_at=1.05, accepted=0, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(100) and flow.decreases == 1
    flow.on_batch_done(2.5, sent_at=2.4, accepted=40, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(40) and flow.decreases == 2
