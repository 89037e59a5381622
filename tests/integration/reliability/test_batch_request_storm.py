"""A long storm of failed ``$batch`` requests: bounded by the waiting budget, nothing lost.

Issue 20, item 8: a ``$batch`` request that fails as a whole (an envelope 5xx without
per-item answers, a dropped connection) says nothing about its items, so it spends their
waiting budget (``max_retry_wait``), as a 429 does, and never the attempt count
``max_retries`` meant for one call. The emulator fails 70% of all ``$batch`` requests at
random (the items inside draw nothing); the connection allows a single retry of a failure,
so an attempt count would give up on items that were never answered. Every item must come
back created exactly once. A lasting outage must end when the waiting budget is spent, not
run forever, with a result for every item.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from airflow_provider_meetings.graph.errors import RetriesExhaustedError, is_permanent

pytestmark = [pytest.mark.integration, pytest.mark.storm, pytest.mark.slow, pytest.mark.timeout(300)]

#: Whole-request failures of Graph's ``$batch`` (no ``Retry-After``: the backoff applies).
ENVELOPE_FAULTS = [
    {"status": 500},
    {"status": 503},
    {"status": 504},
    {"status": 504, "when": "after"},
    {"kind": "drop"},
    {"kind": "drop", "when": "after"},
]
BATCH = r"\$batch"
ITEMS = 200


def bulk_specs(emu: Any, prefix: str, count: int) -> list[dict[str, Any]]:
    users = [u["id"] for u in emu.users if u["hasPolicy"]]
    return [{"external_id": f"{prefix}-{n:03d}", "user_id": users[n % len(users)]} for n in range(count)]


def test_items_outlast_a_storm_of_failed_batch_requests(graph_emulator: Any, monkeypatch) -> None:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    emu = graph_emulator
    emu.reset()
    extras = {"max_retries": 1, "max_retry_wait": 120, "timeout": 5}
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_BATCH_STORM", emu.connection_json(**extras))
    specs = bulk_specs(emu, "batch-storm", ITEMS)
    emu.set_random_faults(0.7, ENVELOPE_FAULTS, match=BATCH, seed=20261205)
    started = time.monotonic()
    try:
        with OnlineMeetingsHook(conn_id="meetings_batch_storm") as hook:
            results = hook.create_or_get_meetings(specs, max_concurrency=4)
    finally:
        stats = emu.stats()
        emu.clear_faults()
    elapsed = time.monotonic() - started

    assert len(results) == ITEMS  # a result for every item, in input order
    assert [r.external_id for r in results] == [s["external_id"] for s in specs]
    failed = [(r.external_id, r.attempts, str(r.error)) for r in results if not r.ok]
    assert not failed, f"{len(failed)} item(s) gave up although the waiting budget was not spent: {failed[:3]}"
    stored = Counter((m["user_id"], m["external_id"]) for m in emu.meetings())
    assert set(stored) == {(s["user_id"], s["external_id"]) for s in specs} and set(stored.values()) == {1}
    by_id = {m["external_id"]: m["meeting"]["id"] for m in emu.meetings()}
    assert all(by_id[r.external_id] == r.meeting_id for r in results)
    # The storm was long: items went through more failed $batch requests than max_retries allows
    # (the failed batches of 20 go again whole: about 10 batches, 2-3 failures each).
    assert stats["faults_applied"] >= 15, stats
    assert max(r.attempts for r in results) > extras["max_retries"] + 1
    print(f"$batch storm: {elapsed:.0f}s, {stats['faults_applied']} failed $batch requests")


def test_a_lasting_batch_outage_ends_when_the_waiting_budget_is_spent(graph_emulator: Any, monkeypatch) -> None:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    emu = graph_emulator
    emu.reset()
    extras = {"max_retries": 0, "max_retry_wait": 4, "timeout": 5}
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_BATCH_OUTAGE", emu.connection_json(**extras))
    specs = bulk_specs(emu, "batch-outage", 30)
    emu.set_random_faults(1.0, [{"status": 503, "retry_after": "0"}, {"kind": "drop"}], match=BATCH, seed=1)
    started = time.monotonic()
    try:
        with OnlineMeetingsHook(conn_id="meetings_batch_outage") as hook:
            results = hook.create_or_get_meetings(specs, max_concurrency=2)
    finally:
        emu.clear_faults()
    elapsed = time.monotonic() - started

    assert len(results) == len(specs)
    for result in results:
        assert isinstance(result.error, RetriesExhaustedError) and not is_permanent(result.error), result.error
        assert result.error.waited <= extras["max_retry_wait"]
        assert result.attempts >= 2  # with max_retries=0: the waiting budget ended it, not the count
    assert max(r.attempts for r in results) >= 3
    assert elapsed < 30  # bounded (4 s of waiting per item, items side by side), not forever
    assert emu.meetings() == []
