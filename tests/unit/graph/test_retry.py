"""The retry policy (graph/retry.py), and its rules applied by the client on a mock transport."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from mock_graph_testlib import FAST, app_settings, client_on

from airflow_provider_meetings.graph.batch import GraphRequest
from airflow_provider_meetings.graph.client import GraphClient, GraphRestClient
from airflow_provider_meetings.graph.errors import GraphAPIError, RetriesExhaustedError, TransportError
from airflow_provider_meetings.graph.mock_transport import (
    MockRequest,
    graph_error_answer,
    json_answer,
)
from airflow_provider_meetings.graph.retry import (
    LONGEST_HOLD,
    TRANSIENT_STATUSES,
    PacingPolicy,
    RetryPolicy,
    is_transient_status,
    needs_fresh_token,
    parse_retry_after,
    whole_batch_hold,
)

NOW = datetime(2026, 11, 28, 7, 0, 0, tzinfo=timezone.utc)

# -- the policy --------------------------------------------------------------------------------


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


def test_exponential_backoff_with_equal_jitter():
    policy = RetryPolicy(max_retries=10, max_total_wait=1000, backoff_base=1.0, backoff_max=8.0)
    low = [policy.delay(n, None, rand=lambda: 0.0) for n in range(1, 7)]
    high = [policy.delay(n, None, rand=lambda: 1.0) for n in range(1, 7)]
    assert low == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert high == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize("status", [0, *sorted(TRANSIENT_STATUSES)])
def test_transient_statuses(status):
    assert is_transient_status(status)
    assert not GraphAPIError(status, "C", "m").permanent


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_other_statuses_are_permanent(status):
    assert not is_transient_status(status)
    assert GraphAPIError(status, "C", "m").permanent


def test_the_401_rule_is_one_fresh_token_per_request():
    assert needs_fresh_token(401) and needs_fresh_token(401, 0)
    assert not needs_fresh_token(401, 1)
    assert not needs_fresh_token(403) and not needs_fresh_token(None)


def test_max_single_wait_is_set_by_the_policy():
    policy = RetryPolicy(max_total_wait=300)
    assert policy.with_max_single_wait(None) is policy
    assert policy.with_max_single_wait(30).longest_wait(0) == 30
    assert policy.with_max_single_wait(30).longest_wait(290) == 10


@pytest.mark.parametrize(
    ("status", "retry_after", "hold"),
    [
        pytest.param(429, 7.0, 7.0, id="429 holds for Retry-After"),
        pytest.param(429, 30.0, 30.0, id="longer than a rate window"),
        pytest.param(429, None, 1.0, id="429 without Retry-After: never again at once"),
        pytest.param(429, 900.0, LONGEST_HOLD, id="no longer than LONGEST_HOLD"),
        pytest.param(503, None, 0.0, id="503 without Retry-After holds nothing"),
        pytest.param(503, 7.0, 7.0, id="503 with Retry-After holds that long"),
        pytest.param(None, 0.5, 0.5, id="a failure's Retry-After has no minimum"),
        pytest.param(503, 900.0, LONGEST_HOLD, id="failure: no longer than LONGEST_HOLD"),
    ],
)
def test_whole_batch_hold(status, retry_after, hold):
    assert whole_batch_hold(status, retry_after) == hold


def test_whole_batch_hold_is_at_least_the_shortest_rate_window_given():
    assert whole_batch_hold(429, 0.0, shortest=0.05) == 0.05 and whole_batch_hold(429, 0.2, shortest=0.05) == 0.2


def test_pacing_rate_window_is_bounded_and_no_hold_outlasts_longest_hold():
    pacing = PacingPolicy(min_rate_window=1.0, max_rate_window=10.0)
    windows = [pacing.rate_window(None), pacing.rate_window(0.2), pacing.rate_window(4.0), pacing.rate_window(60.0)]
    assert windows == [1.0, 1.0, 4.0, 10.0]
    with pytest.raises(ValueError, match="LONGEST_HOLD"):
        PacingPolicy(max_rate_window=LONGEST_HOLD + 1)


# -- the rules applied to single calls, on a mock transport ------------------------------------


class Answers:
    """A handler that answers from a list, then with ``last``."""

    def __init__(self, *answers, last=None) -> None:
        self.answers = list(answers)
        self.last = last or json_answer(200, {"id": "x"})

    def __call__(self, request: MockRequest):
        if not self.answers:
            return self.last
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_a_401_gets_one_fresh_token_and_one_more_attempt():
    graph, transport, tokens = client_on(Answers(graph_error_answer(401, "InvalidAuthenticationToken")))
    assert graph.request("GET", "users/x", what="GET x").ok
    assert [r.token for r in transport.requests] == ["token-0", "token-1"]
    assert tokens.invalidations == 1


def test_a_second_401_in_a_row_is_final():
    graph, transport, tokens = client_on(Answers(last=graph_error_answer(401, "InvalidAuthenticationToken")))
    with pytest.raises(GraphAPIError) as caught:
        graph.request("GET", "users/x", what="GET x")
    assert caught.value.status == 401 and len(transport.requests) == 2 and tokens.invalidations == 1


def test_a_second_401_is_final_even_with_a_retried_failure_between():
    unauthorized = graph_error_answer(401, "InvalidAuthenticationToken")
    busy = graph_error_answer(503, "ServiceNotAvailable", headers={"Retry-After": "0"})
    graph, transport, tokens = client_on(Answers(unauthorized, busy, unauthorized))
    with pytest.raises(GraphAPIError) as caught:
        graph.get("users/x", what="GET x")
    assert caught.value.status == 401 and len(transport.requests) == 3 and tokens.invalidations == 1


@pytest.mark.parametrize("status", sorted(TRANSIENT_STATUSES))
def test_transient_answers_are_retried(status):
    graph, transport, _ = client_on(Answers(graph_error_answer(status, "Busy", headers={"Retry-After": "0"})))
    assert graph.request("GET", "users/x", what="GET x").ok
    assert len(transport.requests) == 2


def test_a_dropped_connection_is_retried():
    graph, transport, _ = client_on(Answers(TransportError("dropped", "https://graph/x", "reset")))
    assert graph.request("GET", "users/x", what="GET x").ok
    assert len(transport.requests) == 2


def test_a_permanent_answer_is_raised_at_once():
    graph, transport, _ = client_on(Answers(graph_error_answer(403, "Forbidden")))
    with pytest.raises(GraphAPIError) as caught:
        graph.request("GET", "users/x", what="GET x")
    assert caught.value.status == 403 and len(transport.requests) == 1


def test_failures_stop_after_max_retries():
    graph, transport, _ = client_on(Answers(last=graph_error_answer(503, "ServiceUnavailable")))
    with pytest.raises(RetriesExhaustedError) as caught:
        graph.request("GET", "users/x", what="GET x")
    assert len(transport.requests) == 1 + FAST.max_retries and caught.value.status == 503


def test_a_pause_longer_than_max_single_wait_ends_the_call_at_once():
    policy = RetryPolicy(max_total_wait=300).with_max_single_wait(5)
    throttled = graph_error_answer(429, "TooManyRequests", headers={"Retry-After": "60"})
    graph, transport, _ = client_on(Answers(throttled), policy)
    with pytest.raises(RetriesExhaustedError) as caught:
        graph.request("GET", "users/x", what="GET x")
    assert caught.value.asked_wait == 60 and len(transport.requests) == 1


# -- the same rules for $batch items, on the same mock transport --------------------------------


def batch_handler(item_status):
    """A ``$batch`` handler: each item answers ``item_status(token, attempt)``."""
    attempts: dict[str, int] = {}

    def handle(request: MockRequest):
        responses = []
        for item in request.json["requests"]:
            attempt = attempts.get(item["url"], 0)
            attempts[item["url"]] = attempt + 1
            status = item_status(request.token, attempt)
            body = {"id": "00000000-0000-0000-0000-000000000001"} if status < 300 else {"error": {"code": "E"}}
            responses.append({"id": item["id"], "status": status, "headers": {"Retry-After": "0"}, "body": body})
        return json_answer(200, {"responses": responses})

    return handle


def run_batch(handler, count: int = 3):
    graph, transport, tokens = client_on(handler)
    engine = graph.bulk_engine(max_concurrency=2, operation="GET users")
    requests = [GraphRequest(f"users/u{i}") for i in range(count)]
    return engine.run(requests), transport, tokens


def test_batch_items_get_one_fresh_token_for_all_of_them():
    results, transport, tokens = run_batch(batch_handler(lambda token, attempt: 401 if token == "token-0" else 200))
    assert all(r.ok for r in results) and tokens.invalidations == 1
    assert [r.token for r in transport.requests] == ["token-0", "token-1"]


def test_a_batch_item_401_after_the_fresh_token_is_final():
    results, _, tokens = run_batch(batch_handler(lambda token, attempt: 401))
    assert [r.error.status for r in results] == [401, 401, 401] and tokens.invalidations == 1


def test_transient_batch_items_are_retried_alone():
    results, transport, _ = run_batch(batch_handler(lambda token, attempt: 503 if attempt == 0 else 200))
    assert all(r.ok for r in results) and len(transport.requests) == 2


# -- paging ------------------------------------------------------------------------------------


def test_pages_follow_next_links_on_the_graph_host():
    base = app_settings().graph_base

    def handler(request: MockRequest):
        if "skiptoken" in request.url:
            return json_answer(200, {"value": [3]})
        return json_answer(200, {"value": [1, 2], "@odata.nextLink": f"{base}/users?$skiptoken=x"})

    graph, transport, _ = client_on(handler)
    assert graph.get_all("users") == [1, 2, 3]
    assert [r.url for r in transport.requests] == [f"{base}/users", f"{base}/users?$skiptoken=x"]


def test_a_next_link_to_another_host_is_refused():
    graph, transport, _ = client_on(
        lambda request: json_answer(200, {"value": [], "@odata.nextLink": "https://evil.example/users?x"})
    )
    with pytest.raises(GraphAPIError, match="refused to send the access token to https://evil.example"):
        graph.get_all("users")
    assert len(transport.requests) == 1


def test_a_next_link_that_repeats_a_page_ends_the_paging():
    # Graph has answered the same nextLink again and again: get_all never ended.
    base = app_settings().graph_base
    graph, transport, _ = client_on(
        lambda request: json_answer(200, {"value": [1], "@odata.nextLink": f"{base}/users?$skip=0"})
    )
    with pytest.raises(GraphAPIError, match="nextLink repeats a page already read"):
        graph.get_all("users")
    assert len(transport.requests) == 2


def test_an_empty_page_behind_a_repeated_next_link_is_the_end():
    # As reported (microsoft-graph-docs#4897): the repeated link answers an empty page.
    base = app_settings().graph_base

    def handler(request: MockRequest):
        if "skiptoken" in request.url:
            return json_answer(200, {"value": [], "@odata.nextLink": f"{base}/users?$skiptoken=x"})
        return json_answer(200, {"value": [1, 2], "@odata.nextLink": f"{base}/users?$skiptoken=x"})

    graph, transport, _ = client_on(handler)
    assert graph.get_all("users") == [1, 2]
    assert len(transport.requests) == 2


def test_the_old_name_still_imports():
    assert GraphClient is GraphRestClient
