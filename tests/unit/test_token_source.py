"""Token-source rules that need no network: MSAL's replay window and delegated token freshness."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.token_source import (
    MSAL_DEFAULT_REPLAY,
    _TokenCall,
    _UserToken,
    msal_replay_seconds,
)
from airflow_provider_meetings.transport import Exchange


def exchange(status: int, retry_after: str | None = None, at: float = 100.0) -> Exchange:
    return Exchange("https://login.example/t/oauth2/v2.0/token", status, "application/json", retry_after, at)


@pytest.mark.parametrize(
    ("status", "retry_after", "seconds"),
    [
        pytest.param(200, None, 0.0, id="success: no replay"),
        pytest.param(400, None, 0.0, id="400: permanent here"),
        pytest.param(503, None, MSAL_DEFAULT_REPLAY, id="5xx without Retry-After: 5 s"),
        pytest.param(429, "7", 7.0, id="429 with seconds"),
        pytest.param(429, "2.128", MSAL_DEFAULT_REPLAY, id="decimal: MSAL's int() fails, 5 s"),
        pytest.param(503, "Wed, 21 Oct 2026 07:28:00 GMT", MSAL_DEFAULT_REPLAY, id="HTTP-date: 5 s"),
        pytest.param(429, "86400", 3600.0, id="capped at an hour"),
        pytest.param(200, "3", 3.0, id="any answer with Retry-After"),
    ],
)
def test_msal_replay_seconds_mirror_msal(status, retry_after, seconds):
    assert msal_replay_seconds(exchange(status, retry_after)) == seconds


def test_the_wait_floor_outlasts_the_replay_of_the_last_real_answer():
    now = [100.0]
    call = _TokenCall(lambda: now[0])
    call.saw([exchange(503, at=100.0)])
    assert 5.0 < call.floor(RuntimeError()) <= 5.2
    now[0] = 103.0
    call.saw([])  # MSAL replayed from memory: nothing new was sent
    assert 2.0 < call.floor(RuntimeError()) <= 2.2
    now[0] = 106.0
    assert call.floor(RuntimeError()) == 0.0


@pytest.mark.parametrize(
    ("expires_in", "fresh"),
    [
        pytest.param(3600, True, id="an hour left"),
        pytest.param(301, True, id="just over 5 min"),
        pytest.param(299, False, id="under 5 min"),
    ],
)
def test_user_token_freshness(expires_in, fresh):
    token = _UserToken("eyJ0eXAi.access-token", expires_at=1000.0 + expires_in)
    assert token.fresh(1000.0) is fresh
    assert "access-token" not in repr(token)
