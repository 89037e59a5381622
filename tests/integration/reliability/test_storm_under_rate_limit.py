"""Half of all requests fail, under a rate limit: every meeting is still created exactly once.

The emulator gives each HTTP request (a createOrGet, a ``$batch`` envelope) one fault of the
mix with probability 1/2: 429 and 503 with ``Retry-After: 1``, 504 before or after the meeting
was created, and the connection reset before or after processing. On top, a limit of 40
requests per sliding second that counts throttled requests too (as Graph does), answered
with per-item 429s in 424 envelopes. Fifty single calls (ten "task processes" at a time,
each with its own hook) and one bulk call of 200 run at the same time.

Throttling spends only the waiting budget; failures spend attempts. With half of all
requests failing, a single call fails 7 times in a row often enough that 50 of them need
more than the default 6 retries: their connection allows 12 (see docs/reliability.md).
The bulk call keeps the default 6: a ``$batch`` request that fails as a whole spends its
items' waiting budget only, never their attempts (issue 20, item 8), and here only whole
requests draw faults.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.storm, pytest.mark.slow, pytest.mark.timeout(600)]

FAULT_MIX = [
    {"status": 429, "retry_after": "1"},
    {"status": 503, "retry_after": "1"},
    {"status": 504},
    {"status": 504, "when": "after"},
    {"kind": "drop"},
    {"kind": "drop", "when": "after"},
]
STORM_EXTRAS = {"max_retries": 12, "max_retry_wait": 300, "timeout": 10}
#: The bulk call's connection: the default max_retries (6).
BULK_EXTRAS = {"max_retry_wait": 300, "timeout": 10}


def test_half_of_all_requests_fail_under_a_40_per_second_limit(graph_emulator: Any, monkeypatch):
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    emu = graph_emulator
    emu.reset()
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_STORM_LIMIT", emu.connection_json(**STORM_EXTRAS))
    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_STORM_LIMIT_BULK", emu.connection_json(**BULK_EXTRAS))
    users = [u["id"] for u in emu.users if u["hasPolicy"]]
    singles = [(users[n % len(users)], f"storm-limit-single-{n:03d}") for n in range(50)]
    bulk = [{"external_id": f"storm-limit-bulk-{n:03d}", "user_id": users[n % len(users)]} for n in range(200)]
    emu.set_rate_limit(40, retry_after=1)
    emu.set_random_faults(0.5, FAULT_MIX, seed=20261130)

    def single(item: tuple[str, str]) -> Any:
        with OnlineMeetingsHook(conn_id="meetings_storm_limit") as hook:
            return hook.create_or_get_meeting(item[1], user_id=item[0])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=11) as pool:
        bulk_future = pool.submit(
            lambda: OnlineMeetingsHook(conn_id="meetings_storm_limit_bulk").create_or_get_meetings(
                bulk, max_concurrency=4
            )
        )
        single_results = list(pool.map(single, singles))
        bulk_results = bulk_future.result()
    elapsed = time.monotonic() - started
    stats = emu.stats()
    emu.clear_faults()
    emu.set_rate_limit(None)

    assert len(bulk_results) == len(bulk)  # a result for every item
    failed = [(r.external_id, str(r.error)) for r in bulk_results if not r.ok]
    assert not failed, failed[:5]
    stored = Counter((m["user_id"], m["external_id"]) for m in emu.meetings())
    expected = {*singles, *((b["user_id"], b["external_id"]) for b in bulk)}
    assert set(stored) == expected and set(stored.values()) == {1}, "a meeting is missing or doubled"
    by_id = {m["external_id"]: m["meeting"]["id"] for m in emu.meetings()}
    assert all(by_id[r.meeting["externalId"]] == r.meeting_id for r in single_results)
    assert all(by_id[r.external_id] == r.meeting_id for r in bulk_results)
    # The storm was real: many requests drew a fault (about half of the top-level ones), and the limit bit.
    assert stats["faults_applied"] >= 40, stats
    assert stats["throttled"] > 0, stats
    assert max(r.attempts for r in bulk_results) > 2
    print(f"storm under a 40/s limit: {elapsed:.0f}s, {stats['faults_applied']} faults, {stats['throttled']} throttled")
