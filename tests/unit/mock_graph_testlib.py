"""Helpers of the unit tests that drive the Graph client on a mock transport: an app-only
connection's settings with a fast retry policy, a :class:`GraphRestClient` on a
:class:`MockTransport`, and the bookkeeping of a fake ``$batch`` endpoint's batches in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from airflow_provider_meetings.graph.budget.shared import RateBudget
from airflow_provider_meetings.graph.client import GraphRestClient
from airflow_provider_meetings.graph.mock_transport import MockTokens, MockTransport
from airflow_provider_meetings.graph.retry import RetryPolicy
from airflow_provider_meetings.graph.settings import ConnectionSettings, parse_connection

T = TypeVar("T")

#: Retries that cost no time: a test of the retry rules waits milliseconds, not seconds.
FAST = RetryPolicy(max_retries=3, max_total_wait=5, backoff_base=0.001, backoff_max=0.002)
CLIENT_ID = "99999999-8888-7777-6666-555555555555"
CLIENT_SECRET = "s3cr3t-value"
TENANT_ID = "11111111-2222-3333-4444-555555555555"


def app_settings(retry: RetryPolicy = FAST, **extra: Any) -> ConnectionSettings:
    """An app-only connection (client secret) of the test tenant, with ``extra`` and ``retry``."""
    settings = parse_connection(
        login=CLIENT_ID, password=CLIENT_SECRET, host=None, extra={"tenant_id": TENANT_ID, **extra}, environ={}
    )
    return replace(settings, retry=retry)


def mock_client(
    transport: MockTransport,
    settings: ConnectionSettings | None = None,
    *,
    tokens: MockTokens | None = None,
    sleep: Callable[[float], None] = lambda seconds: None,
    rate_budget: RateBudget | None = None,
) -> GraphRestClient:
    """A client that sends through ``transport`` with mock tokens and, unless told, does not sleep.

    :param settings: the connection (default: :func:`app_settings`)
    :param tokens: the token source, to count its calls (default: a fresh :class:`MockTokens`)
    """
    return GraphRestClient(
        settings or app_settings(),
        mask=lambda secret: None,
        log=logging.getLogger("test"),
        sleep=sleep,
        transport=transport,
        tokens=MockTokens() if tokens is None else tokens,
        rate_budget=rate_budget,
    )


def client_on(
    handler: Callable[..., Any], retry: RetryPolicy = FAST
) -> tuple[GraphRestClient, MockTransport, MockTokens]:
    """A :func:`mock_client` whose transport answers with ``handler``; with the transport and
    the tokens, to read what was sent and how often a token was fetched."""
    transport, tokens = MockTransport(handler), MockTokens()
    return mock_client(transport, app_settings(retry), tokens=tokens), transport, tokens


class BatchesInFlight:
    """What a fake ``$batch`` endpoint answers at once: each batch's users in arrival order,
    the batches in flight per user now, and the most per user and in all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[set[str]] = []
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.peak_total = 0

    def in_flight_for(self, users: set[str], delay: float, answer: Callable[[], T]) -> T:
        """Count a batch of ``users`` in flight for ``delay`` seconds, then ``answer()`` it under
        the lock as it leaves (the answer and the count's decrease are one step)."""
        with self.lock:
            self.batches.append(users)
            for user in users:
                self.in_flight[user] = self.in_flight.get(user, 0) + 1
                self.peak[user] = max(self.peak.get(user, 0), self.in_flight[user])
            self.peak_total = max(self.peak_total, sum(self.in_flight.values()))
        time.sleep(delay)
        with self.lock:
            try:
                return answer()
            finally:
                for user in users:
                    self.in_flight[user] -= 1
