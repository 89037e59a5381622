"""Batching's pure parts: chunks and payloads, validation and duplicates, reading batch answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from airflow_provider_meetings.graph.batch import (
    MAX_BATCH_ITEMS,
    DuplicateMeetingError,
    ItemKind,
    batch_item_id,
    batch_responses,
    build_batch_payload,
    chunked,
    classify_batch_response,
    identity_key,
    prepare_item,
    trim_meeting,
    validate_all,
)
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidMeetingRequestError
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest, prepare_request
from airflow_provider_meetings.meetings.results import BulkItemResult

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


# -- validation and duplicates -------------------------------------------------------------


def test_validate_all_reports_invalid_items_and_duplicates_without_sending() -> None:
    specs = [
        spec("a"),  # 0
        spec(""),  # 1 empty id
        spec("b", user_id="not a user"),  # 2
        spec("a"),  # 3 duplicate of 0 (default user)
        spec("a", user_id=OTHER),  # 4 same id, other user: a different meeting
        spec("c", start_date_time="2026-01-01T10:00:00"),  # 5 naive
        {"external_id": "d", "colour": "red"},  # 6 unknown key
        spec("a", user_id=USER.upper()),  # 7 duplicate of 0: object ids are case-insensitive
        "not a mapping",  # 8
        MeetingSpec("e"),  # 9
    ]
    results, to_send = validate_all(specs, prep)
    assert to_send == 3
    assert [i for i, r in enumerate(results) if r is None] == [0, 4, 9]
    errors = {i: str(r.error) for i, r in enumerate(results) if r is not None}
    assert errors[1].startswith("meetings[1].external_id: is empty")
    assert errors[2].startswith("meetings[2].user_id: ")
    assert errors[3].startswith("meetings[3].external_id duplicates meetings[0]")
    assert errors[5].startswith("meetings[5].start_date_time: ")
    assert errors[6].startswith("meetings[6]: unknown key(s) ['colour']")
    assert errors[7].startswith("meetings[7].external_id duplicates meetings[0]")
    assert errors[8].startswith("meetings[8]: must be a mapping")
    assert isinstance(results[7].error, DuplicateMeetingError)
    assert results[7].error.first_index == 0
    assert results[3].external_id == "a" and results[3].user_id == USER
    assert all(r.attempts == 0 and not r.ok and r.permanent for r in results if r is not None)


def test_validate_all_counts() -> None:
    results, to_send = validate_all([spec("x"), spec("y"), spec("x")], prep)
    assert to_send == 2
    assert [r is None for r in results] == [True, True, False]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ((USER, "x"), (USER.upper(), "x"), True),
        ((USER, "x"), (OTHER, "x"), False),
        ((USER, "x"), (USER, "X"), False),
        (("adelev@contoso.example", "x"), ("AdeleV@Contoso.example", "x"), True),
    ],
    ids=["guid-case", "other-user", "external-id-case-sensitive", "upn-case"],
)
def test_identity_key(a: tuple[str, str], b: tuple[str, str], same: bool) -> None:
    ka = identity_key(prepare_request(MeetingSpec(a[1], user_id=a[0])))
    kb = identity_key(prepare_request(MeetingSpec(b[1], user_id=b[0])))
    assert (ka == kb) is same


def test_prepare_item_names_the_position() -> None:
    with pytest.raises(InvalidMeetingRequestError, match=r"^meetings\[4\]\.end_date_time: "):
        prepare_item(spec("x", end_date_time="2026-01-01T10:00:00Z"), 4, prep)


def test_duplicate_error_text() -> None:
    err = DuplicateMeetingError(7, 2, "ev-1", USER)
    assert str(err).startswith("meetings[7].external_id duplicates meetings[2]")
    assert err.field == "meetings[7].external_id"


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
    (outcome,) = classify_batch_response([(0, USER)], {"responses": [entry]})
    assert (outcome.kind, outcome.status, outcome.retry_after) == (kind, status, retry_after)
    if kind == ItemKind.OK:
        assert outcome.created is (status == 201)
        assert outcome.meeting == {"id": "MSo1", "joinWebUrl": "https://teams.example/l/1"}
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
def test_trim_meeting(keep: tuple[str, ...] | None, expected: dict[str, Any]) -> None:
    assert trim_meeting(MEETING, keep) == expected


def test_the_hook_default_fields_match() -> None:
    from airflow_provider_meetings.graph.batch import DEFAULT_MEETING_FIELDS
    from airflow_provider_meetings.hooks.online_meetings import BULK_MEETING_FIELDS

    assert BULK_MEETING_FIELDS == DEFAULT_MEETING_FIELDS


def test_result_to_dict_is_json_and_secret_free() -> None:
    ok = BulkItemResult(0, "e", USER, meeting={"id": "m", "joinWebUrl": "u"}, created=True, attempts=1)
    failed = BulkItemResult(1, "f", USER, error=GraphAPIError(403, "Forbidden", "no"), attempts=1)
    text = json.dumps([ok.to_dict(), failed.to_dict()])
    assert "secret" not in text
    assert ok.to_dict()["meeting_id"] == "m" and ok.to_dict()["join_web_url"] == "u"
    assert failed.to_dict()["error_status"] == 403 and failed.to_dict()["permanent"] is True
    assert ok.ok and not ok.permanent and not failed.ok and failed.permanent


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
    delete = PreparedRequest(f"users/{USER}/onlineMeetings/m1", None, USER, method="DELETE", external_id="ev-1")
    payload = build_batch_payload([(0, prepare_item(patch, 0, prep)), (1, prepare_item(delete, 1, prep))])
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
    assert (outcome.kind, outcome.status, outcome.meeting) == (ItemKind.OK, 204, None)


def test_validation_without_dedupe_sends_repeats() -> None:
    same = PreparedRequest(f"users/{USER}/onlineMeetings/m1", None, USER, method="GET", external_id="a")
    _, to_send = validate_all([same, same], prep, dedupe=False)
    assert to_send == 2
