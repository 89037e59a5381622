"""The bulk engine against an in-memory fake transport: scheduling, retries, stopping.

The fake is a :class:`~airflow_provider_meetings.graph.batch_engine.BatchTransport` that answers
from a script; the engine's real code runs unchanged (threads, queue, flow control). Items are
planned first as a bulk call plans them (:class:`~airflow_provider_meetings.meetings.bulk.BulkPlan`:
validation and duplicates), so refused items reach the engine as results.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from mock_graph_testlib import FAST

from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.batch import MAX_BATCH_ITEMS, MAX_BULK_ITEMS, BatchItemResult, BulkProgress
from airflow_provider_meetings.graph.batch_engine import BulkEngine
from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    ConnectionConfigError,
    InvalidRequestError,
    RetriesExhaustedError,
    TransportError,
    is_permanent,
)
from airflow_provider_meetings.graph.pacing import FlowController
from airflow_provider_meetings.graph.retry import PacingPolicy, RetryPolicy
from airflow_provider_meetings.meetings.bulk import BulkPlan
from airflow_provider_meetings.meetings.organizers import OrganizerDirectory
from airflow_provider_meetings.meetings.request import MeetingSpec, prepare_request

USER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"


def prep(spec: MeetingSpec) -> Any:
    return prepare_request(spec, default_user_id=USER)


def spec(external_id: Any, **kw: Any) -> dict[str, Any]:
    return {"external_id": external_id, **kw}


def _err(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": code, "innerError": {"request-id": "r"}}}


def answer(status: int, body: Any, headers: Mapping[str, str] | None = None) -> HttpAnswer:
    return HttpAnswer(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode())


class FakeTransport:
    """Answers batches from a script: ``behaviour(external_id, attempt) -> (status, headers)``."""

    def __init__(
        self,
        behaviour: Callable[[str, int], tuple[int, dict[str, str]]] | None = None,
        *,
        batch_status: list[int | BaseException | HttpAnswer] | None = None,
        shuffle: bool = True,
    ) -> None:
        self.behaviour = behaviour or (lambda eid, attempt: (201, {}))
        self.batch_status = list(batch_status or [])
        self.shuffle = shuffle
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.batch_sizes: list[int] = []
        self.refreshes = 0
        self.created: set[str] = set()
        self.generation = 0
        self.tokens_issued = 0
        self.token_error: BaseException | None = None
        #: items 429'd answer in a 424 envelope, as Graph does (the throttling page)
        self.envelope_424 = False

    def token(self) -> str:
        if self.token_error is not None:
            raise self.token_error
        self.tokens_issued += 1
        return f"token-{self.generation}"

    def send_batch(self, payload: Mapping[str, Any], token: str) -> HttpAnswer:
        with self.lock:
            requests = payload["requests"]
            assert len(requests) <= MAX_BATCH_ITEMS
            assert len({r["id"] for r in requests}) == len(requests)
            self.batch_sizes.append(len(requests))
            if self.batch_status:
                top = self.batch_status.pop(0)
                if isinstance(top, BaseException):
                    raise top
                if isinstance(top, HttpAnswer):
                    return top
                if top != 200:
                    return answer(top, _err("TooManyRequests" if top == 429 else "X"), {"Retry-After": "0"})
            responses = []
            for r in requests:
                eid = r["body"]["externalId"]
                attempt = self.attempts.get(eid, 0)
                self.attempts[eid] = attempt + 1
                status, headers = self.behaviour(eid, attempt)
                if status == 401 and token != "token-0":
                    status = 201
                if status in (200, 201):
                    status = 200 if eid in self.created else 201
                    self.created.add(eid)
                    body: Any = {"id": f"m-{eid}", "joinWebUrl": f"https://t/{eid}", "externalId": eid}
                else:
                    body = _err({429: "TooManyRequests", 401: "InvalidAuthenticationToken"}.get(status, "Err"))
                responses.append({"id": r["id"], "status": status, "headers": headers, "body": body})
            if self.shuffle:
                random.Random(len(self.batch_sizes)).shuffle(responses)
            throttled = any(r["status"] == 429 for r in responses)
            return answer(424 if throttled and self.envelope_424 else 200, {"responses": responses})

    def invalidate_token(self) -> None:
        self.refreshes += 1
        self.generation += 1


class PlannedEngine(BulkEngine):
    """The engine, with meeting items planned first (validated, duplicates refused)."""

    def run(self, items: Any, **kw: Any) -> list[BatchItemResult]:
        plan = BulkPlan(items, prepare=prep, update_existing=False, meeting_fields=None)
        requests, refused = plan.first_step(OrganizerDirectory())
        return super().run(requests, refused=refused)


def permanent(result: BatchItemResult) -> bool:
    return result.error is not None and is_permanent(result.error)


def engine(transport: FakeTransport, **kw: Any) -> BulkEngine:
    kw.setdefault("retry_policy", FAST)
    kw.setdefault("keep_fields", ("id", "joinWebUrl"))
    # A short assumed window keeps the throttling tests fast.
    kw.setdefault(
        "controller", lambda concurrency: FlowController(concurrency, policy=PacingPolicy(min_rate_window=0.05))
    )
    return PlannedEngine(transport, **kw)


def test_results_come_back_in_input_order_across_batches() -> None:
    transport = FakeTransport()
    specs = [spec(f"e{i}") for i in range(45)]
    results = engine(transport).run(specs)
    assert [r.index for r in results] == list(range(45))
    assert [r.key for r in results] == [f"e{i}" for i in range(45)]
    assert all(r.ok and r.created and r.attempts == 1 for r in results)
    assert sorted(transport.batch_sizes) == [5, 20, 20]
    assert results[7].body == {"id": "m-e7", "joinWebUrl": "https://t/e7"}


def test_second_run_reports_existing_meetings() -> None:
    transport = FakeTransport()
    specs = [spec(f"e{i}") for i in range(3)]
    engine(transport).run(specs)
    again = engine(transport).run(specs)
    assert [r.created for r in again] == [False, False, False]


def test_throttled_and_unavailable_items_are_retried_to_success() -> None:
    def behaviour(eid: str, attempt: int) -> tuple[int, dict[str, str]]:
        if eid in ("e1", "e4") and attempt < 2:
            return 429, {"Retry-After": "0"}
        if eid == "e2" and attempt == 0:
            return 503, {}
        return 201, {}

    transport = FakeTransport(behaviour)
    eng = engine(transport)
    results = eng.run([spec(f"e{i}") for i in range(6)])
    assert all(r.ok for r in results)
    assert [r.attempts for r in results] == [1, 3, 2, 1, 3, 1]
    assert eng.stats.retries == 5 and eng.stats.throttled == 4


def test_retries_are_bounded_per_item() -> None:
    transport = FakeTransport(lambda eid, attempt: (503, {}) if eid == "bad" else (201, {}))
    results = engine(transport).run([spec("ok"), spec("bad")])
    assert results[0].ok
    assert isinstance(results[1].error, RetriesExhaustedError)
    assert results[1].attempts == FAST.max_retries + 1
    assert transport.attempts["bad"] == FAST.max_retries + 1
    assert not permanent(results[1])


def test_permanent_errors_are_final_and_invalid_items_never_sent() -> None:
    transport = FakeTransport(lambda eid, attempt: (403, {}) if eid == "forbidden" else (201, {}))
    specs = [spec("a"), spec("forbidden"), spec(""), spec("a"), spec("b")]
    results = engine(transport).run(specs)
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert transport.attempts == {"a": 1, "forbidden": 1, "b": 1}
    assert results[1].error.status == 403 and permanent(results[1])
    assert "duplicates meetings[0]" in str(results[3].error)


def test_a_401_gets_one_token_refresh_for_the_whole_batch() -> None:
    transport = FakeTransport(lambda eid, attempt: (401, {}) if attempt == 0 else (201, {}))
    eng = engine(transport)
    results = eng.run([spec(f"e{i}") for i in range(5)])
    assert all(r.ok for r in results)
    assert transport.refreshes == 1 and eng.stats.token_refreshes == 1


def test_a_second_401_after_the_refresh_is_final() -> None:
    transport = FakeTransport(lambda eid, attempt: (401, {}))
    transport.token = lambda: "token-0"  # the fake keeps refusing even after refreshes
    results = engine(transport).run([spec("a")])
    assert results[0].error.status == 401 and transport.refreshes == 1


def test_whole_batch_failures_retry_every_item() -> None:
    transport = FakeTransport(batch_status=[TransportError("dropped", "https://g/$batch", "reset"), 429, 503])
    eng = engine(transport)
    results = eng.run([spec(f"e{i}") for i in range(3)])
    assert all(r.ok and r.created for r in results)
    assert all(r.attempts >= 2 for r in results)
    assert sum(r.attempts for r in results) == sum(transport.batch_sizes)
    assert eng.stats.throttled == transport.batch_sizes[1]


def test_whole_batch_failures_spend_the_waiting_budget_not_the_attempts() -> None:
    # A long storm of failed $batch requests (issue 20, item 8): more failed envelopes in a row
    # than max_retries (3 in FAST), then Graph answers. The item was never answered, so no
    # attempt of its own failed: it is retried within the waiting budget and created.
    drop = TransportError("dropped", "https://g/$batch", "reset")
    storm: list[int | BaseException | HttpAnswer] = [503, drop, 504, 500, drop, 502, 408, 503]
    transport = FakeTransport(batch_status=storm)
    results = engine(transport, max_concurrency=1).run([spec("a")])
    assert results[0].ok and results[0].created, results[0].error
    assert results[0].attempts == len(storm) + 1 > FAST.max_retries + 1
    assert len(transport.batch_sizes) == len(storm) + 1


def test_a_lasting_batch_outage_ends_with_the_waiting_budget() -> None:
    # Never answered, even with "Retry-After: 0" (the fake's 503): bounded by the waiting
    # budget (each wait at least least_wait), not forever, and every item gets its result.
    policy = RetryPolicy(max_retries=2, max_total_wait=0.2, backoff_base=0.02, backoff_max=0.02)
    drop = TransportError("dropped", "https://g/$batch", "reset")
    transport = FakeTransport(batch_status=[503, drop] * 2000)
    started = time.monotonic()
    results = engine(transport, retry_policy=policy, max_concurrency=1).run([spec(f"e{i}") for i in range(25)])
    assert time.monotonic() - started < 10
    assert len(results) == 25
    for result in results:
        assert isinstance(result.error, RetriesExhaustedError) and not permanent(result)
        assert policy.max_retries + 1 < result.attempts <= policy.max_total_wait / policy.least_wait + 1
        assert result.error.waited <= policy.max_total_wait
    assert transport.batch_status  # the outage outlasted the call


def test_the_items_of_a_failed_batch_request_go_again_together() -> None:
    # One jitter per failed batch: its items come due at once and make one batch again,
    # not one small batch each (more requests to a service that is failing).
    policy = RetryPolicy(max_retries=0, max_total_wait=60, backoff_base=0.02, backoff_max=0.02)
    drop = TransportError("dropped", "https://g/$batch", "reset")
    transport = FakeTransport(batch_status=[drop, 503, drop])
    results = engine(transport, retry_policy=policy, max_concurrency=1).run([spec(f"e{i}") for i in range(20)])
    assert all(r.ok and r.attempts == 4 for r in results)
    assert transport.batch_sizes == [20, 20, 20, 20]


def test_whole_batch_backoff_grows_with_failures_in_a_row_and_resets() -> None:
    policy = RetryPolicy(max_retries=1, max_total_wait=60, backoff_base=0.004, backoff_max=1.0)
    waits: list[float] = []

    class Log:
        def info(self, fmt: str, *args: Any) -> None:
            if "$batch request failed" in fmt % args:
                waits.append(args[3])

    drop = TransportError("dropped", "https://g/$batch", "reset")
    # three failed batches in a row; then one answered (the item's own 503); then another failed batch
    transport = FakeTransport(lambda eid, attempt: (503, {}) if attempt == 0 else (201, {}))
    transport.batch_status = [drop, drop, drop, 200, drop]
    results = engine(transport, retry_policy=policy, max_concurrency=1, log=Log()).run([spec("a")])
    assert results[0].ok and results[0].attempts == 6
    ceilings = [0.004, 0.008, 0.016, 0.004]  # equal jitter: from half the ceiling to the ceiling
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True)), waits


def test_whole_batch_permanent_error_fails_every_item() -> None:
    transport = FakeTransport(batch_status=[400])
    results = engine(transport).run([spec("a"), spec("b")])
    assert [r.error.status for r in results] == [400, 400]


def test_an_error_nobody_mapped_still_gives_every_item_a_result() -> None:
    # A library error that escaped the transport's mapping used to end the whole bulk call
    # without a result for any item, those already created included.
    boom = ValueError("a library's own error")
    transport = FakeTransport(batch_status=[200, boom])
    results = engine(transport, max_concurrency=1).run([spec(f"m{n}") for n in range(45)])
    assert len(results) == 45 and all(r.ok for r in results[:20])
    assert {type(r.error) for r in results[20:]} == {ValueError}


def test_a_retry_never_sent_is_not_counted_as_an_attempt() -> None:
    # "a" failed once and waited for its retry when "b" asked for more than the waiting budget:
    # the call stopped, and "a" reported 2 attempts for the 1 request that went out.
    def behaviour(eid: str, attempt: int) -> tuple[int, dict[str, str]]:
        if eid == "a" and attempt == 0:
            return 503, {"Retry-After": "0.2"}
        return (429, {"Retry-After": "9999"}) if eid == "b" else (201, {})

    transport = FakeTransport(behaviour)
    a, b = engine(transport).run([spec("a"), spec("b")])
    assert transport.attempts == {"a": 1, "b": 1}
    assert (a.attempts, b.attempts) == (1, 1) and a.error is not None and b.error is not None


def test_progress_is_reported_at_the_end() -> None:
    seen: list[BulkProgress] = []
    engine(FakeTransport(), progress=seen.append).run([spec("a"), spec(""), spec("b")])
    assert seen[-1].done == 3 and seen[-1].succeeded == 2 and seen[-1].failed == 1 and seen[-1].total == 3


def test_nothing_to_send() -> None:
    transport = FakeTransport()
    results = engine(transport).run([spec(""), {"nope": 1}])
    assert [r.ok for r in results] == [False, False] and transport.batch_sizes == []
    assert engine(transport).run([]) == []


def test_accepts_a_generator_and_meeting_specs() -> None:
    results = engine(FakeTransport()).run(MeetingSpec(f"g{i}") for i in range(3))
    assert [r.key for r in results] == ["g0", "g1", "g2"]


def test_concurrency_bounds_batches_in_flight() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    class Slow(FakeTransport):
        def send_batch(self, payload: Mapping[str, Any], token: str) -> HttpAnswer:
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            release.wait(0.02)
            try:
                return super().send_batch(payload, token)
            finally:
                with lock:
                    in_flight -= 1

    eng = engine(Slow(), max_concurrency=3)
    results = eng.run([spec(f"e{i}") for i in range(200)])
    assert all(r.ok for r in results)
    assert 1 < peak <= 3
    assert eng.stats.peak_in_flight == peak


def test_a_list_over_the_documented_size_is_refused_before_anything_is_sent() -> None:
    transport = FakeTransport()
    specs = (spec(f"e{i}") for i in range(MAX_BULK_ITEMS + 1))
    with pytest.raises(InvalidRequestError, match=r"meetings: has 10,001 items; one bulk call takes at most 10,000"):
        engine(transport).run(specs)
    assert transport.batch_sizes == []


def test_a_list_of_the_documented_size_is_accepted() -> None:
    transport = FakeTransport(shuffle=False)
    results = engine(transport, max_concurrency=8).run([spec(f"e{i}") for i in range(MAX_BULK_ITEMS)])
    assert len(results) == MAX_BULK_ITEMS and all(r.ok for r in results)


# -- failure paths: envelopes, 408/500, token outages, long pauses ---------------------------


def test_a_424_envelope_is_read_item_by_item() -> None:
    """Graph answers 424 for a batch whose items were throttled, with every item's answer:
    the others succeed at once, the throttled ones are retried, none is failed for the envelope."""
    transport = FakeTransport(
        lambda eid, attempt: (429, {"Retry-After": "0"}) if eid == "e1" and attempt == 0 else (201, {})
    )
    transport.envelope_424 = True
    results = engine(transport).run([spec(f"e{i}") for i in range(4)])
    assert all(r.ok and r.created for r in results)
    assert [r.attempts for r in results] == [1, 2, 1, 1]


def test_a_whole_batch_429_without_items_retries_them_after_its_retry_after() -> None:
    throttled = answer(429, _err("TooManyRequests"), {"Retry-After": "0.2"})
    transport = FakeTransport(batch_status=[throttled])
    started = time.monotonic()
    results = engine(transport).run([spec("a"), spec("b")])
    assert time.monotonic() - started >= 0.2
    assert all(r.ok and r.attempts == 2 for r in results)


@pytest.mark.parametrize("status", [408, 500, 424])
def test_408_500_and_424_items_are_transient(status: int) -> None:
    transport = FakeTransport(lambda eid, attempt: (status, {}) if attempt == 0 else (201, {}))
    results = engine(transport).run([spec("a")])
    assert results[0].ok and results[0].attempts == 2


def test_throttled_items_spend_waiting_not_attempts() -> None:
    policy = RetryPolicy(max_retries=0, max_total_wait=5)
    transport = FakeTransport(lambda eid, attempt: (429, {"Retry-After": "0.01"}) if attempt < 4 else (201, {}))
    results = engine(transport, retry_policy=policy).run([spec("a"), spec("b")])
    assert all(r.ok and r.attempts == 5 for r in results)


def test_a_token_outage_stops_the_call_and_fails_what_is_not_done() -> None:
    """Once the token retry bound is spent, nothing more is sent; the items already done keep
    their result; every other item fails with the token error (transient), at once."""
    outage = RetriesExhaustedError(
        "token request", 7, 30.0, AuthenticationError("temporarily_unavailable", permanent=False)
    )

    class Outage(FakeTransport):
        def token(self) -> str:
            if self.tokens_issued >= 2:  # two batches got a token, then Entra ID went down
                self.token_error = outage
            return super().token()

    transport = Outage()
    started = time.monotonic()
    results = engine(transport, max_concurrency=1).run([spec(f"e{i}") for i in range(100)])
    assert time.monotonic() - started < 2
    assert [r.ok for r in results] == [True] * 40 + [False] * 60
    assert all(r.error is outage and not permanent(r) and r.attempts == 0 for r in results[40:])
    assert sum(transport.batch_sizes) == 40


def test_an_untrusted_certificate_on_a_batch_stops_the_call() -> None:
    error = ConnectionConfigError("verify", "the TLS certificate of graph.example is not trusted")
    transport = FakeTransport(batch_status=[error])
    results = engine(transport, max_concurrency=1).run([spec(f"e{i}") for i in range(45)])
    assert all(r.error is error and permanent(r) for r in results)
    assert len(transport.batch_sizes) == 1


def test_a_pause_longer_than_the_budget_stops_the_call_without_waiting() -> None:
    long_pause = answer(429, _err("TooManyRequests"), {"Retry-After": "3600"})
    transport = FakeTransport(batch_status=[200, long_pause])
    started = time.monotonic()
    results = engine(transport, max_concurrency=1).run([spec(f"e{i}") for i in range(60)])
    assert time.monotonic() - started < 2  # not the hour, and not max_retry_wait either
    assert [r.ok for r in results] == [True] * 20 + [False] * 40
    errors = {id(r.error) for r in results[20:]}
    assert len(errors) in (1, 2)  # the throttled batch's items and the rest: one stop reason
    assert all(isinstance(r.error, RetriesExhaustedError) and r.error.asked_wait == 3600 for r in results[20:])
    assert all(not permanent(r) for r in results[20:])
    assert len(transport.batch_sizes) == 2


def test_an_item_asked_for_more_than_its_remaining_budget_fails_alone() -> None:
    policy = RetryPolicy(max_retries=5, max_total_wait=1.0)
    transport = FakeTransport(lambda eid, attempt: (429, {"Retry-After": "0.6"}) if eid == "slow" else (201, {}))
    results = engine(transport, retry_policy=policy).run([spec("slow"), spec("fine")])
    assert results[1].ok
    assert isinstance(results[0].error, RetriesExhaustedError) and results[0].attempts == 2
