from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_meetings.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 11, 28, 7, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("7", 7.0, id="seconds"),
        pytest.param(" 0 ", 0.0, id="zero"),
        pytest.param("1.5", 1.5, id="fractional"),
        pytest.param("-3", 0.0, id="negative-clamped"),
        pytest.param("Sat, 28 Nov 2026 07:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Sat, 28 Nov 2026 06:59:00 GMT", 0.0, id="http-date-past"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("nan", None, id="nan"),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_is_honoured_exactly():
    assert RetryPolicy().next_wait(0, 0.0, 12.0) == 12.0


def test_exponential_backoff_with_equal_jitter():
    policy = RetryPolicy(max_retries=10, max_total_wait=1000, backoff_base=1.0, backoff_max=8.0)
    low = [policy.next_wait(n, 0.0, None, rand=lambda: 0.0) for n in range(6)]
    high = [policy.next_wait(n, 0.0, None, rand=lambda: 1.0) for n in range(6)]
    assert low == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert high == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_gives_up_after_max_retries():
    policy = RetryPolicy(max_retries=2)
    assert policy.next_wait(1, 0.0, 1.0) == 1.0
    assert policy.next_wait(2, 0.0, 1.0) is None


def test_gives_up_when_wait_would_exceed_budget():
    policy = RetryPolicy(max_retries=10, max_total_wait=10.0)
    assert policy.next_wait(1, 5.0, 5.0) == 5.0
    assert policy.next_wait(1, 5.0, 5.5) is None


def test_zero_retries_never_waits():
    assert RetryPolicy(max_retries=0).next_wait(0, 0.0, None) is None
