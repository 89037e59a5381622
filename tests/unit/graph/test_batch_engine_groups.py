"""The bulk engine's ``one_batch_per_user``: one user per batch, one batch per user in flight."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mock_graph_testlib import FAST, BatchesInFlight

from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.batch import BatchItemResult, GraphRequest
from airflow_provider_meetings.graph.batch_engine import BulkEngine, user_group
from airflow_provider_meetings.graph.errors import InvalidRequestError


class MailboxTransport(BatchesInFlight):
    """Answers each item 200 (or a scripted status), noting what was in flight per user."""

    def __init__(self, throttle_first: set[str] | None = None, delay: float = 0.01) -> None:
        super().__init__()
        self.throttle_first = set(throttle_first or ())
        self.delay = delay

    def token(self) -> str:
        return "t"

    def invalidate_token(self) -> None:
        pass

    def send_batch(self, payload: Mapping[str, Any], token: str) -> HttpAnswer:
        users = {r["url"].split("/")[2].lower() for r in payload["requests"]}
        responses = self.in_flight_for(users, self.delay, lambda: [self._item(r) for r in payload["requests"]])
        body = json.dumps({"responses": responses}).encode()
        return HttpAnswer(200, {"Content-Type": "application/json"}, body)

    def _item(self, request: Mapping[str, Any]) -> dict[str, Any]:
        key = request["url"].rsplit("/", 1)[1]
        if key in self.throttle_first:
            self.throttle_first.discard(key)
            error = {"error": {"code": "ApplicationThrottled", "message": "MailboxConcurrency limit"}}
            return {"id": request["id"], "status": 429, "headers": {"Retry-After": "0"}, "body": error}
        return {"id": request["id"], "status": 200, "headers": {}, "body": {"key": key}}


def requests_for(users: int, per_user: int) -> list[GraphRequest]:
    # interleaved: u0, u1, u2, u0, ...
    return [
        GraphRequest(
            f"users/U{n % users}/events/k{n}", user_id=f"U{n % users}" if n % 2 else f"u{n % users}", key=f"k{n}"
        )
        for n in range(users * per_user)
    ]


def test_each_batch_holds_one_user_and_one_batch_per_user_is_in_flight() -> None:
    transport = MailboxTransport()
    engine = BulkEngine(transport, max_concurrency=4, retry_policy=FAST, one_batch_per_user=True)
    requests = requests_for(users=6, per_user=45)
    results = engine.run(requests)
    assert [r.key for r in results] == [r.key for r in requests]  # in input order
    assert all(r.ok for r in results)
    assert all(len(batch) == 1 for batch in transport.batches)  # one user per batch (any case)
    assert max(transport.peak.values()) == 1
    assert transport.peak_total > 1  # users side by side
    assert engine.stats.batches == 6 * 3  # 45 items of a user: 20 + 20 + 5


def test_a_throttled_item_is_retried_not_failed_and_refused_items_keep_their_result() -> None:
    transport = MailboxTransport(throttle_first={"k0", "k7"})
    engine = BulkEngine(transport, max_concurrency=2, retry_policy=FAST, one_batch_per_user=True)
    requests = requests_for(users=3, per_user=10)
    refused = {4: BatchItemResult(4, "k4", "u1", error=InvalidRequestError("x", "bad"))}
    results = engine.run(requests, refused=refused)
    assert [r.ok for r in results] == [n != 4 for n in range(30)]
    assert results[0].attempts == 2 and results[7].attempts == 2
    assert max(transport.peak.values()) == 1
    assert engine.stats.throttled == 2


def test_without_the_option_batches_mix_users() -> None:
    transport = MailboxTransport()
    BulkEngine(transport, max_concurrency=2, retry_policy=FAST).run(requests_for(users=3, per_user=10))
    assert any(len(batch) > 1 for batch in transport.batches)


def test_user_group_ignores_case_and_names_me() -> None:
    assert user_group("Ada@Contoso.example") == user_group("ada@contoso.example")
    assert user_group(None) == ""


def test_small_batches_go_side_by_side_up_to_max_concurrency() -> None:
    # The pool was sized for full batches (ceil(items / 20)): 16 organizers of one item each
    # ran one batch at a time while peak_in_flight said 8.
    transport = MailboxTransport(delay=0.05)
    engine = BulkEngine(transport, max_concurrency=8, retry_policy=FAST, one_batch_per_user=True)
    results = engine.run(requests_for(users=16, per_user=1))
    assert all(r.ok for r in results)
    assert transport.peak_total == 8 and engine.stats.peak_in_flight == 8
