"""The token endpoint fails (5xx, 429, timeouts), then recovers: the hook waits it out.

MSAL answers a repeated token request from memory for ~5 s after a 5xx without
``Retry-After`` (and for ``Retry-After`` seconds otherwise); retrying sooner only replays
the failure, so each case also checks how many requests really reached the endpoint.
"""

from __future__ import annotations

import pytest
from reliability_testlib import FAST_RETRY_EXTRAS, Expected, assert_exactly_once, record_sleeps

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize(
    ("fault", "options", "log", "min_wait", "processed"),
    [
        pytest.param(
            500, {}, "token request: service_error", 5.0, False, id="500 without Retry-After (MSAL replays 5 s)"
        ),
        pytest.param(
            {"status": 503, "retry_after": "1"},
            {"times": 2},
            "token request: service_error",
            2.0,
            False,
            id="503 Retry-After 1, twice",
        ),
        pytest.param(
            {"status": 429, "retry_after": "1"},
            {},
            "token request: temporarily_unavailable",
            1.0,
            False,
            id="429 Retry-After 1",
        ),
        pytest.param("slow", {"seconds": 1.5}, "token request: timed out", 0.4, True, id="slower than the timeout"),
        pytest.param(
            "drop",
            {"when": "after"},
            "token request: connection dropped",
            0.4,
            True,
            id="dropped after issuing a token",
        ),
    ],
)
def test_token_endpoint_recovers(make_hook, graph_emulator, hook_logs, fault, options, log, min_wait, processed):
    graph_emulator.script(fault, target="token", **options)
    failures = options.get("times", 1)
    hook = make_hook(**FAST_RETRY_EXTRAS)
    slept = record_sleeps(hook)

    result = hook.create_or_get_meeting("after-token-outage")

    assert result.created
    assert_exactly_once(graph_emulator, [Expected(graph_emulator.default_user_id, "after-token-outage")])
    retry_lines = [m for m in hook_logs.messages("info") if m.startswith("token request: ")]
    assert len(retry_lines) == failures
    # a 429 is throttling (it spends the waiting budget); the others count as attempts
    counted = "throttled, retry in" if isinstance(fault, dict) and fault.get("status") == 429 else None
    assert all(log in line and (counted or f"retry {n}/8 in") in line for n, line in enumerate(retry_lines, 1)), (
        retry_lines
    )
    # Waited for the endpoint (and MSAL's replay) rather than hammering it...
    assert sum(slept) >= min_wait
    stats = graph_emulator.stats()
    reached = stats["token_requests"] + (0 if processed else stats["faults_applied"])
    assert (reached, stats["faults_applied"]) == (failures + 1, failures)
    # ...but not much longer than needed.
    assert sum(slept) < min_wait + 2


def test_token_endpoint_down_when_the_token_expires_mid_run(make_hook, graph_emulator, hook_logs):
    hook = make_hook(**FAST_RETRY_EXTRAS)
    users = graph_emulator.default_user_id
    for n in range(3):
        hook.create_or_get_meeting(f"mid-run-{n}")
    graph_emulator.expire_tokens()
    graph_emulator.script({"status": 503, "retry_after": "0"}, target="token", times=2)
    for n in range(3, 6):
        hook.create_or_get_meeting(f"mid-run-{n}")

    assert_exactly_once(graph_emulator, [Expected(users, f"mid-run-{n}") for n in range(6)])
    stats = graph_emulator.stats()
    assert (stats["token_requests"], stats["faults_applied"]) == (2, 2)  # 2 tokens issued, 2 refused
    assert stats["by_route"]["createOrGet"] == {"201": 6, "401": 1}
    assert "createOrGet external_id=mid-run-3: 401 InvalidAuthenticationToken, getting a fresh token" in hook_logs.text
    assert [m for m in hook_logs.messages("info") if m.startswith("token request: ")] != []
