"""The shared pace: holds, the pace, batch slots and the fallback (an in-memory store, fake clocks)."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_meetings.graph.budget.shared import FULL_POLL, RateBudget, SharedFlowController
from airflow_provider_meetings.graph.budget.store import Update
from airflow_provider_meetings.graph.pacing import FlowController
from airflow_provider_meetings.graph.retry import LONGEST_HOLD
from graph.budget.budget_testlib import MemoryStore


def budget(store: MemoryStore, caplog_name: str = "budget-test", **kwargs) -> RateBudget:
    return RateBudget(store, "k", log=logging.getLogger(caplog_name), **kwargs)


def test_off_is_todays_per_process_controller() -> None:
    off = RateBudget(None, "k", log=logging.getLogger("t"))
    controller = off.controller(4)
    assert type(controller) is FlowController and off.kind == "off" and not off.shared
    assert "each process paces itself" in off.describe()


def test_a_throttle_seen_by_one_worker_holds_every_worker() -> None:
    store = MemoryStore()
    a, b = budget(store).controller(4), budget(store).controller(4)
    assert isinstance(a, SharedFlowController)
    assert a.delay(5, 0.0) == 0 and b.delay(5, 0.0) == 0
    a.on_sent(5, 0.0)
    store.now += 0.1
    hold = a.on_batch_done(0.1, sent_at=0.0, accepted=3, throttled=2, retry_after=2.0)
    assert hold == 2.0
    # b never saw a 429, and its own clock says nothing: the store's instant holds it.
    assert b.delay(1, 0.1) == pytest.approx(2.0)
    store.now += 1.5
    assert b.delay(1, 1.6) == pytest.approx(0.5)
    store.now += 0.6
    assert b.rate == a.rate is not None  # the rate a learnt is b's too


def test_the_limit_is_estimated_from_what_every_worker_got_through() -> None:
    store = MemoryStore()
    workers = [budget(store).controller(4) for _ in range(4)]
    for worker in workers:  # each got 12 items through in the last second: 48/s together
        worker.on_sent(12, 0.0)
    store.now += 0.2
    for worker in workers[:3]:
        worker.on_batch_done(0.2, sent_at=0.0, accepted=12, throttled=0)
    workers[3].on_batch_done(0.2, sent_at=0.0, accepted=12, throttled=3, retry_after=1.0)
    alone = FlowController(4)
    alone.on_batch_done(0.2, sent_at=0.0, accepted=12, throttled=3, retry_after=1.0)
    assert alone.ceiling == pytest.approx(12)  # one process alone sees only its own share
    assert workers[3].ceiling == pytest.approx(48)
    assert workers[0].delay(1, 0.2) > 0 and workers[0].ceiling == pytest.approx(48)


def test_recovery_is_shared_too() -> None:
    store = MemoryStore()
    a, b = budget(store).controller(4), budget(store).controller(4)
    a.on_sent(20, 0.0)
    store.now += 0.1
    a.on_batch_done(0.1, sent_at=0.0, accepted=10, throttled=10, retry_after=1.0)
    after_throttle = a.rate
    for step in range(1, 6):  # b's clean answers raise the one rate a paces at
        store.now += 1.0
        b.on_batch_done(step, sent_at=step - 0.1, accepted=1, throttled=0)
    a.delay(1, 6.0)
    assert a.rate is not None and after_throttle is not None and a.rate > after_throttle


def test_tokens_are_shared_so_workers_together_keep_the_rate() -> None:
    store = MemoryStore()
    a, b = budget(store).controller(4), budget(store).controller(4)
    a.on_sent(10, 0.0)
    store.now += 0.1
    a.on_batch_done(0.1, sent_at=0.0, accepted=10, throttled=1, retry_after=1.0)  # rate 9.5/s
    store.now += 1.0  # the hold is over
    assert a.delay(1, 0.0) == 0
    a.on_sent(a.batch_size, 0.0)
    # b's tokens are the ones a just spent: it waits one batch's worth, give or take 5% of jitter
    # (so processes waiting for the same instant take turns)
    assert 0.94 / a.rate <= b.delay(1, 0.0) <= 1.06 / a.rate


def learnt_pace(store: MemoryStore) -> tuple[SharedFlowController, SharedFlowController]:
    """Two workers of one budget that has learnt a pace (9.5/s) and whose hold is over."""
    a, b = budget(store).controller(4), budget(store).controller(4)
    a.on_sent(10, 0.0)
    store.now += 0.1
    a.on_batch_done(0.1, sent_at=0.0, accepted=10, throttled=1, retry_after=1.0)
    store.now += 1.0
    return a, b


def test_a_go_takes_its_share_of_the_pace_before_the_batch_is_sent() -> None:
    """Between ``delay() == 0`` and ``on_sent()`` (two transactions) no other worker may spend the
    same tokens: with Redis that gap let 4 processes overspend together (75-80% of the limit)."""
    store = MemoryStore()
    a, b = learnt_pace(store)
    size = a.batch_size
    assert a.delay(size, 0.0) == 0
    after_go = store.document()["pace"]["tokens"]
    assert b.delay(size, 0.0) > 0  # a has not sent yet, but its tokens are taken
    a.on_sent(size, 0.0)
    assert store.document()["pace"]["tokens"] == pytest.approx(after_go)  # spent once, not twice
    assert len(store.document()["leases"]) == 1


def test_a_go_not_followed_by_a_send_is_given_back() -> None:
    store = MemoryStore()
    a, _ = learnt_pace(store)
    size = a.batch_size
    assert a.delay(size, 0.0) == 0
    after_go = store.document()["pace"]["tokens"]
    assert a.delay(size, 0.0) == 0  # the engine asked again (no batch went): the first go is given back
    assert store.document()["pace"]["tokens"] == pytest.approx(after_go)
    a.on_sent(size - 1, 0.0)  # fewer items than the go took: the rest is given back
    assert store.document()["pace"]["tokens"] == pytest.approx(after_go + 1)


def test_batch_slots_are_shared_and_a_killed_workers_slot_ends_with_its_lease() -> None:
    store = MemoryStore()
    killed = budget(store, lease_seconds=3.0).controller(2)
    survivor = budget(store, lease_seconds=3.0).controller(2)
    killed.on_sent(20, 0.0)
    killed.on_sent(20, 0.0)
    assert survivor.delay(20, 0.0) == FULL_POLL  # both slots of the tenant are taken
    del killed  # never answers: SIGKILLed with two batches in flight
    store.now += 2.9
    assert survivor.delay(20, 5.0) == FULL_POLL
    store.now += 0.2
    assert survivor.delay(20, 5.0) == 0
    assert store.document()["leases"] == {}


def test_an_answer_frees_its_slot() -> None:
    store = MemoryStore()
    a, b = budget(store).controller(1), budget(store).controller(1)
    a.on_sent(20, 0.0)
    assert b.delay(20, 0.0) == FULL_POLL
    store.now += 0.1
    a.on_batch_done(0.1, sent_at=0.0, accepted=20, throttled=0)
    assert b.delay(20, 0.1) == 0


@pytest.mark.parametrize("skew", [-3600.0, 0.0, 86400.0 * 365])
def test_workers_clocks_do_not_matter(skew: float) -> None:
    # The engine passes its own monotonic clock: another machine's may be anywhere.
    store = MemoryStore()
    here, there = budget(store).controller(4), budget(store).controller(4)
    here.on_sent(4, 50.0)
    store.now += 0.2
    here.on_batch_done(50.2, sent_at=50.0, accepted=2, throttled=2, retry_after=3.0)
    store.now += 1.0
    assert there.delay(1, 50.0 + skew) == pytest.approx(2.0)
    there.on_sent(1, 50.0 + skew)
    store.now += 0.5
    there.on_batch_done(50.5 + skew, sent_at=50.0 + skew, accepted=1, throttled=0)
    # the accepted item is recorded at the store's instant of its sending, not at the skewed one
    assert [t for t, _ in store.document()["pace"]["accepted"]][-1] == pytest.approx(1001.2, abs=0.1)


def test_a_hold_from_another_clock_lasts_no_longer_than_any_hold_may() -> None:
    store = MemoryStore()
    a = budget(store).controller(4)
    a.delay(1, 0.0)
    document = store.document()
    document["hold_until"] = store.now + 1e9  # written on a clock far ahead (a restored store)
    store.documents["k"] = json.dumps(document)
    assert a.delay(1, 0.0) == pytest.approx(LONGEST_HOLD)
    assert store.document()["hold_until"] == pytest.approx(store.now + LONGEST_HOLD)


def test_a_hold_longer_than_a_rate_window_is_as_long_for_every_process() -> None:
    """A shares a 30 s hold (a whole-batch 429, Retry-After: 30): B reads 30 s, and leaves it 30 s."""
    store = MemoryStore()
    a, b = budget(store).controller(4), budget(store).controller(4)
    a.hold(30.0, 0.0)
    until = store.document()["hold_until"]
    assert until == pytest.approx(store.now + 30.0)
    store.now += 1.0
    assert b.delay(1, 7.0) == pytest.approx(29.0)
    assert store.document()["hold_until"] == pytest.approx(until)  # not shortened for the others
    store.now += 14.0
    assert a.delay(1, 15.0) == pytest.approx(15.0) and b.delay(1, 21.0) == pytest.approx(15.0)
    store.now += 15.0
    assert b.delay(1, 36.0) == 0


def test_a_whole_batch_429_is_shared_for_its_whole_retry_after() -> None:
    store = MemoryStore()
    a, b = budget(store).controller(4), budget(store).controller(4)
    a.on_sent(20, 0.0)
    store.now += 0.1
    hold = a.on_batch_done(0.1, sent_at=0.0, accepted=0, throttled=20, retry_after=30.0, whole_batch=True)
    assert hold == 30.0 and store.document()["hold_until"] == pytest.approx(store.now + 30.0)
    assert b.delay(1, 0.1) == pytest.approx(30.0)


def test_a_hold_outlasts_the_idle_reset_of_the_pace() -> None:
    """Nobody touches the budget while every process waits out a long hold: one that starts
    then holds too, though the document is older than any rate window."""
    store = MemoryStore()
    a = budget(store).controller(4)
    a.hold(60.0, 0.0)
    store.now += a.idle_reset + 5.0
    newcomer = budget(store).controller(4)
    assert newcomer.delay(1, 0.0) == pytest.approx(60.0 - a.idle_reset - 5.0)


def test_a_budget_unused_for_longer_than_the_service_remembers_starts_afresh() -> None:
    store = MemoryStore()
    a = budget(store).controller(4)
    a.on_sent(10, 0.0)
    store.now += 0.1
    a.on_batch_done(0.1, sent_at=0.0, accepted=5, throttled=5, retry_after=1.0)
    store.now += a.idle_reset + 1
    fresh = budget(store).controller(4)
    assert fresh.delay(20, 0.0) == 0 and fresh.rate is None


def test_a_store_that_fails_falls_back_with_one_warning_and_comes_back(caplog) -> None:
    store = MemoryStore()
    clock = [0.0]
    shared = budget(store, caplog_name="budget-fallback", retry_after=30.0, monotonic=lambda: clock[0])
    a = shared.controller(4)
    a.on_sent(10, 0.0)
    store.now += 0.1
    a.on_batch_done(0.1, sent_at=0.0, accepted=5, throttled=5, retry_after=1.0)
    rate = a.rate
    store.down = True
    with caplog.at_level(logging.INFO, logger="budget-fallback"):
        for step in range(5):  # the work goes on with the pace last seen, locally
            assert a.delay(1, 2.0 + step) == 0
            a.on_sent(1, 2.0 + step)
            a.on_batch_done(2.05 + step, sent_at=2.0 + step, accepted=1, throttled=0)
    warnings = [r for r in caplog.records if r.name == "budget-fallback" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
    assert a.rate is not None and rate is not None and a.rate >= rate and not shared.shared
    store.down = False
    before = shared.transactions
    a.delay(1, 8.0)
    assert shared.transactions == before  # not tried again before retry_after
    clock[0] = 31.0
    a.delay(1, 9.0)
    assert shared.transactions == before + 1 and shared.shared


def test_a_store_that_raises_anything_does_not_stop_the_work(caplog) -> None:
    class Broken(MemoryStore):
        def transact(self, key: str, update: Update) -> None:
            raise RuntimeError("driver bug")

    broken = budget(Broken(), caplog_name="budget-broken")
    a = broken.controller(4)
    with caplog.at_level(logging.WARNING, logger="budget-broken"):
        assert a.delay(20, 0.0) == 0
        a.on_sent(20, 0.0)
        assert a.on_batch_done(0.1, sent_at=0.0, accepted=20, throttled=0) == 0
    assert len([r for r in caplog.records if r.name == "budget-broken"]) == 1 and broken.failures == 1


def test_the_first_shared_decision_is_announced_once(caplog) -> None:
    store = MemoryStore()
    shared = budget(store, caplog_name="budget-info")
    with caplog.at_level(logging.INFO, logger="budget-info"):
        a = shared.controller(4)
        a.delay(1, 0.0)
        a.delay(1, 0.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "budget-info"]
    assert lines == ["rate budget: shared by every process of this tenant and app through memory (memory)"]


def test_another_workers_throttle_is_told_in_the_log_once(caplog) -> None:
    store = MemoryStore()
    a = budget(store, caplog_name="budget-a").controller(4)
    b_budget = budget(store, caplog_name="budget-b")
    b_budget.owner = "worker-b:2"
    b = b_budget.controller(4)
    b.on_sent(4, 0.0)
    store.now += 0.1
    with caplog.at_level(logging.INFO):
        b.on_batch_done(0.1, sent_at=0.0, accepted=2, throttled=2, retry_after=2.0)
        a.delay(1, 0.0)
        a.delay(1, 0.0)
    told = [r.getMessage() for r in caplog.records if r.name == "budget-a" and "was throttled" in r.getMessage()]
    assert told == ["rate budget: worker-b:2 was throttled; every process sharing the budget holds for 2.0 s"]


def test_the_engines_hold_for_a_whole_batch_429_is_shared() -> None:
    store = MemoryStore()
    a, b = budget(store).controller(4), budget(store).controller(4)
    a.hold(4.0, 0.0)
    assert b.delay(1, 123.0) == pytest.approx(4.0)
    assert store.document()["hold_until"] == pytest.approx(store.now + 4.0)
