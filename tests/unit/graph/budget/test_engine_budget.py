"""The bulk engine on a shared budget: the one place it is wired (``GraphRestClient.bulk_engine``)."""

from __future__ import annotations

import logging
import time

import pytest
from mock_graph_testlib import mock_client

from airflow_provider_meetings.graph.batch import GraphRequest
from airflow_provider_meetings.graph.budget.shared import RateBudget, SharedFlowController
from airflow_provider_meetings.graph.client import GraphRestClient
from airflow_provider_meetings.graph.mock_transport import MockRequest, MockTransport, json_answer
from graph.budget.budget_testlib import MemoryStore


class Graph:
    """Answers ``$batch``: every item 200, except the items whose id is in ``throttle`` the first time."""

    def __init__(self, throttle: int = 0) -> None:
        self.throttle = throttle
        self.sent_at: list[float] = []

    def __call__(self, request: MockRequest):
        self.sent_at.append(time.monotonic())
        responses = []
        for item in request.json["requests"]:
            if self.throttle:
                self.throttle -= 1
                responses.append({"id": item["id"], "status": 429, "headers": {"Retry-After": "0.3"}, "body": {}})
            else:
                responses.append({"id": item["id"], "status": 200, "body": {"id": item["id"]}})
        return json_answer(200, {"responses": responses})


def client(graph: Graph, budget: RateBudget | None) -> GraphRestClient:
    # real sleeps: the engine waits out the holds of the budget
    return mock_client(MockTransport(graph), sleep=time.sleep, rate_budget=budget)


def requests(count: int) -> list[GraphRequest]:
    return [GraphRequest(f"users/u{i}", key=f"k{i}") for i in range(count)]


def test_the_engine_paces_with_the_connections_budget() -> None:
    budget = RateBudget(MemoryStore(), "k", log=logging.getLogger("engine-budget"))
    engine = client(Graph(), budget).bulk_engine(max_concurrency=4, operation="GET users")
    assert isinstance(engine.controller(4), SharedFlowController)


def test_a_hold_another_worker_set_holds_this_engine() -> None:
    store = MemoryStore(live=True)
    other = RateBudget(store, "k", log=logging.getLogger("other")).controller(4)
    other.hold(0.4, 0.0)  # another process saw a whole-batch 429 a moment ago
    graph = Graph()
    started = time.monotonic()
    results = (
        client(graph, RateBudget(store, "k", log=logging.getLogger("me")))
        .bulk_engine(max_concurrency=4, operation="GET users")
        .run(requests(5))
    )
    assert all(result.ok for result in results)
    assert graph.sent_at[0] - started >= 0.35


def test_a_whole_batch_429_holds_the_others_for_its_whole_retry_after() -> None:
    """Retry-After 30 s is more than this call may wait (the test connection's max_retry_wait
    is 5 s): the call stops at once, and every other process still holds for 30 s."""
    store = MemoryStore(live=True)
    throttled = json_answer(429, {"error": {"code": "TooManyRequests"}}, headers={"Retry-After": "30"})
    started = time.monotonic()
    results = (
        mock_client(
            MockTransport(lambda request: throttled), rate_budget=RateBudget(store, "k", log=logging.getLogger("me"))
        )
        .bulk_engine(max_concurrency=2, operation="GET users")
        .run(requests(3))
    )
    # At once: far less than the 30 s hold (a loose bound for a busy machine).
    assert not any(result.ok for result in results) and time.monotonic() - started < 10
    assert store.document()["hold_until"] == pytest.approx(1030.0, abs=1.0)


def test_a_throttle_this_engine_gets_is_written_for_the_others() -> None:
    store = MemoryStore(live=True)
    graph = Graph(throttle=3)
    results = (
        client(graph, RateBudget(store, "k", log=logging.getLogger("me")))
        .bulk_engine(max_concurrency=2, operation="GET users")
        .run(requests(10))
    )
    assert all(result.ok for result in results) and len(graph.sent_at) >= 2
    document = store.document()
    # the first answer (at about 1000.0 on the store's clock) held everyone for one window:
    # Retry-After 0.3, the window is 1 s at least
    assert document["hold_until"] == pytest.approx(1001.0, abs=0.3)
    assert document["pace"]["rate"] is not None and document["pace"]["decreases"] == 1
    assert document["leases"] == {}  # every slot was given back


def test_without_a_budget_the_client_paces_each_call_alone() -> None:
    assert client(Graph(), None).rate_budget.kind == "off"
