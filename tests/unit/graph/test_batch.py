"""Batching's pure parts: requests, chunks and payloads, reading batch answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from airflow_provider_meetings.graph.batch import (
    MAX_BATCH_ITEMS,
    BatchItemResult,
    DuplicateItemError,
    GraphRequest,
    ItemKind,
    batch_item_id,
    batch_responses,
    build_batch_payload,
    check_concurrency,
    check_progress_interval,
    chunked,
    classify_batch_response,
    item_flag,
    keep_fields,
)
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest, prepare_request

USER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
OTHER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"


def prep(spec: MeetingSpec) -> Any:
    return prepare_request(spec, default_user_id=USER)


def spec(external_id: Any, **kw: Any) -> dict[str, Any]:
    return {"external_id": external_id, **kw}


# -- chunking, ids, payloads -------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [(0, 20, []), (1, 20, [1]), (20, 20, [20]), (21, 20, [20, 1]), (45, 20, [20, 20, 5]), (7, 3, [3, 3, 1])],
    ids=["empty", "one", "exactly-one-batch", "one-over", "three-batches", "small-size"],
)
def test_chunked(count: int, size: int, expected: list[int]) -> None:
    chunks = list(chunked(range(count), size))
    assert [len(c) for c in chunks] == expected
    assert [i for c in chunks for i in c] == list(range(count))


@pytest.mark.parametrize("size", [0, 21])
def test_chunked_refuses_sizes_graph_does_not_allow(size: int) -> None:
    with pytest.raises(ValueError):
        list(chunked(range(5), size))


def test_batch_payload_shape() -> None:
    items = [(i, prep(MeetingSpec(f"e{i}"))) for i in (3, 7, 12)]
    payload = build_batch_payload(items)
    requests = payload["requests"]
    assert [r["id"] for r in requests] == ["3", "7", "12"]
    assert len({r["id"] for r in requests}) == 3
    for r in requests:
        assert r["method"] == "POST"
        assert r["url"] == f"/users/{USER}/onlineMeetings/createOrGet"
        assert r["headers"] == {"Content-Type": "application/json"}
    assert requests[1]["body"] == {"externalId": "e7"}
    assert batch_item_id(12) == "12"


@pytest.mark.parametrize("count", [0, MAX_BATCH_ITEMS + 1])
def test_batch_payload_refuses_bad_sizes(count: int) -> None:
    with pytest.raises(ValueError):
        build_batch_payload([(i, prep(MeetingSpec(f"e{i}"))) for i in range(count)])


# -- batch answers -------------------------------------------------------------------------

MEETING = {
    "@odata.context": "x",
    "id": "MSo1",
    "joinWebUrl": "https://teams.example/l/1",
    "subject": "s",
    "joinMeetingIdSettings": {"passcode": "secret"},
}


def _entry(id_: int, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"id": str(id_), "status": status, "headers": dict(headers or {}), "body": body}


def _err(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": code, "innerError": {"request-id": "r"}}}


@pytest.mark.parametrize(
    ("entry", "kind", "status", "retry_after"),
    [
        (_entry(0, 201, MEETING), ItemKind.OK, 201, None),
        (_entry(0, 200, MEETING), ItemKind.OK, 200, None),
        (_entry(0, 429, _err("TooManyRequests"), {"Retry-After": "3"}), ItemKind.RETRY, 429, 3.0),
        (_entry(0, 429, _err("TooManyRequests"), {"retry-after": "2"}), ItemKind.RETRY, 429, 2.0),
        (_entry(0, 503, _err("ServiceNotAvailable")), ItemKind.RETRY, 503, None),
        (_entry(0, 502, "<html>bad gateway</html>"), ItemKind.RETRY, 502, None),
        (_entry(0, 504, _err("GatewayTimeout")), ItemKind.RETRY, 504, None),
        (_entry(0, 403, _err("Forbidden")), ItemKind.FAILED, 403, None),
        (_entry(0, 404, _err("NotFound")), ItemKind.FAILED, 404, None),
        (_entry(0, 400, _err("BadRequest")), ItemKind.FAILED, 400, None),
        (_entry(0, 401, _err("InvalidAuthenticationToken")), ItemKind.UNAUTHORIZED, 401, None),
        (_entry(0, 200, None), ItemKind.FAILED, 200, None),
        (_entry(9, 201, MEETING), ItemKind.RETRY, 0, None),
    ],
    ids=[
        "created",
        "existing",
        "throttled",
        "throttled-lowercase-header",
        "unavailable",
        "proxy-502",
        "gateway-timeout",
        "forbidden",
        "not-found",
        "bad-request",
        "unauthorized",
        "200-without-body",
        "missing-entry",
    ],
)
def test_classify_batch_response(entry: dict[str, Any], kind: ItemKind, status: int, retry_after: float | None) -> None:
    (outcome,) = classify_batch_response([(0, USER)], {"responses": [entry]}, keep=("id", "joinWebUrl"))
    assert (outcome.kind, outcome.status, outcome.retry_after) == (kind, status, retry_after)
    if kind == ItemKind.OK:
        assert outcome.body == {"id": "MSo1", "joinWebUrl": "https://teams.example/l/1"}
    else:
        assert outcome.error is not None


def test_classify_batch_response_keeps_the_order_sent() -> None:
    sent = [(i, USER) for i in (5, 1, 9)]
    payload = {
        "responses": [_entry(9, 201, {"id": "m9"}), _entry(5, 200, {"id": "m5"}), _entry(1, 403, _err("Forbidden"))]
    }
    outcomes = classify_batch_response(sent, payload)
    assert [o.index for o in outcomes] == [5, 1, 9]
    assert [o.kind for o in outcomes] == [ItemKind.OK, ItemKind.FAILED, ItemKind.OK]


def test_classify_names_the_user_in_policy_errors() -> None:
    body = {"error": {"code": "Forbidden", "message": "No Application Access Policy found for this app."}}
    (outcome,) = classify_batch_response([(0, OTHER)], {"responses": [_entry(0, 403, body)]})
    assert OTHER in str(outcome.error)


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        (("id", "joinWebUrl"), {"id": "MSo1", "joinWebUrl": "https://teams.example/l/1"}),
        (("id", "missing"), {"id": "MSo1"}),
        (None, {k: v for k, v in MEETING.items() if k != "@odata.context"}),
    ],
    ids=["selected", "absent-field", "all"],
)
def test_keep_fields(keep: tuple[str, ...] | None, expected: dict[str, Any]) -> None:
    assert keep_fields(MEETING, keep) == expected


def test_generic_results_and_requests() -> None:
    ok = BatchItemResult(0, "k", USER, body={"id": "m"}, attempts=1, http_status=201)
    failed = BatchItemResult(1, "k2", USER, error=ValueError("x"))
    assert (ok.ok, ok.created, failed.ok, failed.created) == (True, True, False, None)
    assert (ok.permanent, failed.permanent) == (False, False)  # a ValueError says nothing of repeating
    refused = BatchItemResult(2, "k3", USER, error=InvalidRequestError("subject", "bad"))
    assert (refused.ok, refused.permanent) == (False, True)
    assert not hasattr(ok, "__dict__")  # the shared base keeps the result's slots
    request = GraphRequest("users/x", method="GET")
    assert request.describe("GET users") == "GET /users/x"
    assert GraphRequest("users/x", label="items[3] key=k").describe("GET") == "GET items[3] key=k"


@pytest.mark.parametrize(
    ("envelope", "has_items"),
    [
        pytest.param({"responses": []}, True, id="200 envelope"),
        pytest.param({"responses": [{"id": "1", "status": 429}]}, True, id="424 envelope with items"),
        pytest.param(_err("TooManyRequests"), False, id="whole-batch 429"),
        pytest.param(None, False, id="not JSON"),
        pytest.param({"responses": "nope"}, False, id="malformed"),
    ],
)
def test_batch_responses_are_read_whatever_the_envelope(envelope: Any, has_items: bool) -> None:
    assert (batch_responses(envelope) is not None) is has_items


def test_a_424_item_is_transient() -> None:
    (outcome,) = classify_batch_response([(0, USER)], {"responses": [_entry(0, 424, _err("FailedDependency"))]})
    assert outcome.kind is ItemKind.RETRY and not outcome.error.permanent


def test_later_phases_send_prepared_requests_as_they_are() -> None:
    patch = PreparedRequest(f"users/{USER}/onlineMeetings/m1", {"subject": "moved"}, USER, method="PATCH")
    delete = PreparedRequest(f"users/{USER}/onlineMeetings/m1", None, USER, method="DELETE", key="ev-1")
    payload = build_batch_payload([(0, patch), (1, delete)])
    assert payload["requests"] == [
        {
            "id": "0",
            "method": "PATCH",
            "url": f"/users/{USER}/onlineMeetings/m1",
            "headers": {"Content-Type": "application/json"},
            "body": {"subject": "moved"},
        },
        {"id": "1", "method": "DELETE", "url": f"/users/{USER}/onlineMeetings/m1"},  # no body, no Content-Type
    ]
    assert (patch.operation, delete.operation, prep(MeetingSpec("x")).operation) == (
        "PATCH onlineMeetings",
        "DELETE onlineMeetings",
        "createOrGet",
    )


def test_a_204_is_success_without_a_body() -> None:
    (outcome,) = classify_batch_response([(0, USER)], {"responses": [_entry(0, 204)]})
    assert (outcome.kind, outcome.status, outcome.body) == (ItemKind.OK, 204, None)


def test_an_item_answered_202_without_a_body_succeeded() -> None:
    from_graph = {"responses": [{"id": "0", "status": 202, "headers": {}, "body": None}]}
    (outcome,) = classify_batch_response([(0, "u")], from_graph)
    assert outcome.kind is ItemKind.OK and outcome.body is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [(None, True), (1, True), (32, True), (0, False), (33, False), (True, False), (2.0, False)],
)
def test_check_concurrency(value, ok):
    if ok:
        assert check_concurrency(value, 4) == (4 if value is None else value)
    else:
        with pytest.raises(ValueError, match="max_concurrency must be a whole number"):
            check_concurrency(value, 4)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(5.0, True), (1, True), (0.25, True), (0, False), (-1, False), (float("inf"), False), (float("nan"), False)]
    + [(True, False), ("5", False), (None, False)],
)
def test_check_progress_interval(value, ok):
    # 0 or less made the engine call progress (and the operators log) on every pass of its loop
    if ok:
        assert check_progress_interval(value) == float(value)
    else:
        with pytest.raises(ValueError, match="progress_interval must be a number of seconds above 0"):
            check_progress_interval(value)


@pytest.mark.parametrize(("item", "flag"), [({}, None), ({"cancelled": None}, None), ({"cancelled": True}, True)])
def test_item_flag(item, flag):
    assert item_flag(item, "cancelled") is flag


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_item_flag_refuses_what_is_not_true_or_false(value):
    with pytest.raises(InvalidRequestError) as caught:
        item_flag({"cancelled": value}, "cancelled")
    assert caught.value.field == "cancelled"
    assert str(caught.value) == (
        f"cancelled: must be true or false, got {type(value).__name__} {value!r}; nothing was sent for this item"
    )


def test_a_duplicate_item_reads_as_one_sentence_naming_both_positions():
    error = DuplicateItemError("events", 5, 2, "'lecture-1' on 2030-04-02")
    assert str(error) == "events[5].external_id duplicates events[2] ('lecture-1' on 2030-04-02); it was sent once"
    assert (error.field, error.index, error.first_index) == ("events[5].external_id", 5, 2)
    assert error.permanent
