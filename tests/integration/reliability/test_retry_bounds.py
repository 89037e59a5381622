"""Retries give up within the configured bound, say what happened and how long they tried.

Every case runs under a short pytest-timeout: a retry loop that ignores its bound fails
the test instead of hanging CI.
"""

from __future__ import annotations

from typing import Any

import pytest
from reliability_testlib import record_sleeps, wait_until

from airflow_provider_meetings.graph.errors import RetriesExhaustedError, is_permanent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(20)]


#: Where a case's fault is scripted (Graph's createOrGet or the token endpoint), and the request
#: as the hook's retry lines and its error name it.
PLACES: dict[str, tuple[dict[str, str], str]] = {
    "graph": ({"match": "createOrGet"}, "createOrGet external_id=bounded"),
    "token": ({"target": "token"}, "token request"),
}


def settle(emu: Any, where: str, fault: Any, attempts: int) -> None:
    """Let requests still sleeping in the emulator (``slow``) finish before the next test."""
    if fault == "slow":
        wait_until(lambda: emu.stats()[f"{where}_requests"] >= attempts, 3)


@pytest.mark.parametrize(
    ("where", "fault", "options", "extras", "attempts", "last_error"),
    [
        pytest.param(
            "graph",
            {"status": 503, "retry_after": "0"},
            {},
            {"max_retries": 2},
            3,
            "Microsoft Graph answered 503 ServiceNotAvailable",
            id="graph 503: max_retries reached",
        ),
        pytest.param(
            "graph",
            {"status": 429, "retry_after": "1"},
            {},
            {"max_retries": 8, "max_retry_wait": 1.5},
            2,
            "Microsoft Graph answered 429 TooManyRequests",
            id="graph 429 Retry-After 1: max_retry_wait reached",
        ),
        pytest.param(
            "graph",
            504,
            {},
            {"max_retries": 8, "max_retry_wait": 1.2},
            2,
            "Microsoft Graph answered 504 GatewayTimeout",
            id="graph 504 backoff: max_retry_wait reached",
        ),
        pytest.param("graph", "drop", {}, {"max_retries": 1}, 2, "Connection aborted", id="graph connection dropped"),
        pytest.param(
            "graph",
            "slow",
            {"seconds": 1.2, "when": "after"},
            {"max_retries": 1, "timeout": 0.5},
            2,
            "Read timed out",
            id="graph slower than the timeout",
        ),
        pytest.param(
            "graph",
            "non_json",
            {},
            {"max_retries": 1},
            2,
            "a proxy or gateway may have answered",
            id="graph proxy HTML 502",
        ),
        pytest.param(
            "graph",
            {"status": 503, "retry_after": "0"},
            {},
            {"max_retries": 0},
            1,
            "Microsoft Graph answered 503 ServiceNotAvailable",
            id="max_retries 0: no retry",
        ),
        pytest.param(
            "graph",
            {"status": 429, "retry_after": "0"},
            {},
            {"max_retries": 0, "max_retry_wait": 1.2},
            3,
            "Microsoft Graph answered 429 TooManyRequests",
            id="429 Retry-After 0: throttling spends the waiting budget, not max_retries",
        ),
        pytest.param(
            "token",
            {"status": 503, "retry_after": "0"},
            {},
            {"max_retries": 2},
            3,
            "service_error",
            id="token 503: max_retries reached",
        ),
        pytest.param(
            "token",
            500,
            {},
            {"max_retries": 8, "max_retry_wait": 3},
            1,
            "service_error",
            id="token 500: MSAL replay window longer than max_retry_wait",
        ),
        pytest.param(
            "token",
            "slow",
            {"seconds": 1.2, "when": "after"},
            {"max_retries": 1, "timeout": 0.5},
            2,
            "Read timed out",
            id="token endpoint slower than the timeout",
        ),
    ],
)
def test_retries_stop_at_the_bound(
    make_hook, graph_emulator, hook_logs, where, fault, options, extras, attempts, last_error
):
    place, what = PLACES[where]
    graph_emulator.script(fault, times=50, **place, **options)
    hook = make_hook(**{"timeout": 2, **extras})
    slept = record_sleeps(hook)

    with pytest.raises(RetriesExhaustedError) as caught:
        hook.create_or_get_meeting("bounded")
    settle(graph_emulator, where, fault, attempts)

    error = caught.value
    settings = hook.settings
    assert error.attempts == attempts
    if error.status != 429:  # throttling is bounded by the waiting budget only
        assert attempts <= settings.retry.max_retries + 1
    assert error.waited <= settings.retry.max_total_wait
    assert str(error).startswith(f"{what} gave up after {attempts} attempts and {error.waited:.1f}s of waiting")
    assert last_error in str(error)
    assert not is_permanent(error)  # transient: the task's own retries may still help
    stats = graph_emulator.stats()
    assert stats["faults_applied"] == attempts
    if where == "token":
        assert stats["graph_requests"] == 0  # each attempt reached Entra, none got as far as Graph
    assert sum(slept) == pytest.approx(error.waited)  # every wait counted, none beyond the bound
    assert hook_logs.text.count(f"{what}: ") == attempts - 1  # one line per retry
