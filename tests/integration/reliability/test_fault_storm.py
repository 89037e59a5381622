"""200+ meetings through the real hook, MSAL and HTTPS while the emulator breaks things.

After each run every meeting exists exactly once, every result is the stored meeting,
and the hook's log names every retry. Each storm runs once per module; the tests below
read what it left behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from reliability_testlib import (
    FAST_RETRY_EXTRAS,
    FAULT_MIX,
    Expected,
    assert_exactly_once,
    assert_results_match_state,
)

pytestmark = [pytest.mark.integration, pytest.mark.storm, pytest.mark.slow, pytest.mark.timeout(120)]

MEETINGS = 210
#: Faults on the whole ``$batch`` request (every item in it is retried).
ENVELOPE_FAULTS = (
    ("batch 429 Retry-After 1", {"status": 429, "retry_after": "1"}, {}),
    ("batch 503 without Retry-After", 503, {}),
    ("batch dropped before processing", "drop", {}),
    ("batch dropped after processing", "drop", {"when": "after"}),
    ("batch slower than the timeout, processed", "slow", {"when": "after", "seconds": 1.6}),
)


@dataclass
class Storm:
    expected: list[Expected]
    results: list[tuple[Expected, str | None, str | None, bool | None]]
    stored: dict[tuple[str, str], Any]
    stats: dict[str, Any]
    logs: list[str]
    elapsed: float
    attempts: dict[str, int] = field(default_factory=dict)  # bulk: external id -> requests sent

    @property
    def log_text(self) -> str:
        return "\n".join(self.logs)


def organizers(emu: Any) -> list[str]:
    """The seeded users that have an application access policy."""
    return [u["id"] for u in emu.users if u["hasPolicy"]]


def plan(emu: Any, prefix: str) -> list[Expected]:
    users = organizers(emu)
    return [Expected(users[n % len(users)], f"{prefix}-{n:04d}") for n in range(MEETINGS)]


@pytest.fixture(scope="module")
def storm_conn(graph_emulator: Any) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_MEETINGS_STORM", graph_emulator.connection_json(**FAST_RETRY_EXTRAS))
        yield "meetings_storm"
        graph_emulator.reset()


@pytest.fixture(scope="module")
def fast_hook(storm_conn: str) -> Any:
    """A new hook (no cached token) for each storm."""
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    def make() -> Any:
        return OnlineMeetingsHook(conn_id=storm_conn)

    return make


def finish(emu: Any, expected: list[Expected], results: list[Any], logs: list[dict[str, Any]], elapsed: float) -> Storm:
    stored = assert_exactly_once(emu, expected)
    return Storm(expected, results, stored, emu.stats(), [str(e.get("event")) for e in logs], elapsed)


@pytest.fixture(scope="module")
def single_storm(graph_emulator: Any, fast_hook: Any) -> Storm:
    """``create_or_get_meeting`` in a loop; every 15th meeting meets the next fault of the mix
    on its first attempt; the access token expires once, in the middle."""
    import structlog.testing

    graph_emulator.reset()
    hook = fast_hook()
    expected = plan(graph_emulator, "storm-single")
    faulted = {15 * (k + 1): fault for k, fault in enumerate(FAULT_MIX)}
    expire_at = MEETINGS // 2 + 3
    results = []
    with structlog.testing.capture_logs() as logs:
        started = time.monotonic()
        for n, item in enumerate(expected):
            if n in faulted:
                faulted[n].script(graph_emulator, match="createOrGet")
            if n == expire_at:
                graph_emulator.expire_tokens()
            result = hook.create_or_get_meeting(item.external_id, user_id=item.user_id, subject=f"Storm {n}")
            results.append((item, result.meeting_id, result.join_url, result.created))
        elapsed = time.monotonic() - started
    hook.close()
    storm = finish(graph_emulator, expected, results, logs, elapsed)
    storm.attempts = {expected[n].external_id: 2 for n in faulted}
    storm.attempts[expected[expire_at].external_id] = 2
    return storm


@pytest.fixture(scope="module")
def bulk_storm(graph_emulator: Any, fast_hook: Any) -> Storm:
    """``create_or_get_meetings`` for the same number of meetings; a watcher injects the next
    fault (item faults of the mix, then whole-batch faults) each time 10 more items reached
    the emulator, and expires the access token early in the run."""
    import structlog.testing

    graph_emulator.reset()
    hook = fast_hook()
    expected = plan(graph_emulator, "storm-bulk")
    injections: list[Any] = [lambda f=f: f.script(graph_emulator, match="createOrGet") for f in FAULT_MIX]
    injections += [
        lambda spec=spec, options=options: graph_emulator.script(spec, match=r"\$batch", **options)
        for _, spec, options in ENVELOPE_FAULTS
    ]
    injections.insert(3, graph_emulator.expire_tokens)  # early: plenty of unfaulted traffic follows
    done = threading.Event()
    last_injection = [time.monotonic()]

    def watcher() -> None:
        threshold = 0
        while injections and not done.is_set():
            if graph_emulator.stats()["batch_items"] >= threshold:
                injections.pop(0)()
                last_injection[0] = time.monotonic()
                threshold += 10
            time.sleep(0.005)

    thread = threading.Thread(target=watcher, daemon=True)
    specs = [
        {"external_id": e.external_id, "user_id": e.user_id, "subject": f"Bulk storm {e.external_id}"} for e in expected
    ]
    with structlog.testing.capture_logs() as logs:
        thread.start()
        started = time.monotonic()
        bulk = hook.create_or_get_meetings(specs, max_concurrency=4)
        elapsed = time.monotonic() - started
        done.set()
        thread.join()
    hook.close()
    # A "slow" batch may still sleep in the emulator: let it end before other tests count.
    time.sleep(max(0.0, last_injection[0] + 1.7 - time.monotonic()))
    failed = [(r.external_id, str(r.error)) for r in bulk if not r.ok]
    assert not failed, f"items failed although every fault was transient: {failed[:5]}"
    results = [(e, r.meeting_id, r.join_url, r.created) for e, r in zip(expected, bulk, strict=True)]
    storm = finish(graph_emulator, expected, results, logs, elapsed)
    storm.attempts = {r.external_id: r.attempts for r in bulk}
    storm.stats["injections_left"] = len(injections)
    return storm


# -- single calls ---------------------------------------------------------------------------


def test_single_calls_leave_every_meeting_exactly_once(single_storm):
    assert_results_match_state(single_storm.stored, single_storm.results)
    assert single_storm.stats["faults_applied"] == len(FAULT_MIX)
    assert single_storm.stats["pending_faults"] == 0
    assert single_storm.stats["token_requests"] == 2  # the first token, and one after the expiry
    assert single_storm.elapsed < 120  # a guard against a hang, not a measure (waits: 0.5-1 s each)


def test_single_calls_log_every_retry(single_storm):
    faulted = {15 * (k + 1): fault for k, fault in enumerate(FAULT_MIX)}
    for n, fault in faulted.items():
        retry = "throttled, retry in" if fault.log.startswith("429") else "retry 1/8 in"
        line = f"createOrGet external_id={single_storm.expected[n].external_id}: {fault.log}, {retry}"
        assert line in single_storm.log_text, f"no retry logged for {fault.label!r}"
    expired = single_storm.expected[MEETINGS // 2 + 3].external_id
    assert (
        f"createOrGet external_id={expired}: 401 InvalidAuthenticationToken, getting a fresh token"
        in single_storm.log_text
    )
    assert len([m for m in single_storm.logs if ", retry " in m]) == len(FAULT_MIX)


# -- bulk -----------------------------------------------------------------------------------


def test_bulk_leaves_every_meeting_exactly_once(bulk_storm):
    assert bulk_storm.stats["injections_left"] == 0, "the run ended before every fault was injected"
    assert_results_match_state(bulk_storm.stored, bulk_storm.results)
    assert bulk_storm.stats["faults_applied"] == len(FAULT_MIX) + len(ENVELOPE_FAULTS)
    assert bulk_storm.stats["token_requests"] == 2, bulk_storm.stats
    assert sum(n - 1 for n in bulk_storm.attempts.values()) >= len(FAULT_MIX) + len(ENVELOPE_FAULTS)
    assert bulk_storm.elapsed < 90  # a guard against a hang, not a measure


def test_bulk_logs_name_every_retry(bulk_storm):
    retried = sorted(eid for eid, n in bulk_storm.attempts.items() if n > 1)
    assert retried
    unnamed = [eid for eid in retried if not any(eid in line and "retry" in line for line in bulk_storm.logs)]
    assert not unnamed, (
        f"{len(unnamed)} of {len(retried)} retried items are named in no log line, e.g. {unnamed[:3]}; "
        f"the log had: {[m for m in bulk_storm.logs if 'retr' in m][:5]}"
    )
