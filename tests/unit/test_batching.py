"""The bulk engine's pure parts, and its scheduling against an in-memory fake transport."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from airflow_provider_meetings.batching import (
    FAILED,
    MAX_BATCH_ITEMS,
    MAX_BULK_ITEMS,
    OK,
    RETRY,
    UNAUTHORIZED,
    BulkEngine,
    BulkItemResult,
    BulkProgress,
    DuplicateMeetingError,
    FlowController,
    batch_item_id,
    build_batch_payload,
    chunked,
    classify_batch_response,
    identity_key,
    prepare_item,
    trim_meeting,
    validate_all,
)
from airflow_provider_meetings.exceptions import (
    GraphAPIError,
    InvalidMeetingRequestError,
    RetriesExhaustedError,
)
from airflow_provider_meetings.meeting_request import MeetingSpec, prepare_request
from airflow_provider_meetings.retry import RetryPolicy

USER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
OTHER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
FAST = RetryPolicy(max_retries=3, max_total_wait=5, backoff_base=0.001, backoff_max=0.002)


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
        (_entry(0, 201, MEETING), OK, 201, None),
        (_entry(0, 200, MEETING), OK, 200, None),
        (_entry(0, 429, _err("TooManyRequests"), {"Retry-After": "3"}), RETRY, 429, 3.0),
        (_entry(0, 429, _err("TooManyRequests"), {"retry-after": "2"}), RETRY, 429, 2.0),
        (_entry(0, 503, _err("ServiceNotAvailable")), RETRY, 503, None),
        (_entry(0, 502, "<html>bad gateway</html>"), RETRY, 502, None),
        (_entry(0, 504, _err("GatewayTimeout")), RETRY, 504, None),
        (_entry(0, 403, _err("Forbidden")), FAILED, 403, None),
        (_entry(0, 404, _err("NotFound")), FAILED, 404, None),
        (_entry(0, 400, _err("BadRequest")), FAILED, 400, None),
        (_entry(0, 401, _err("InvalidAuthenticationToken")), UNAUTHORIZED, 401, None),
        (_entry(0, 200, None), FAILED, 200, None),
        (_entry(9, 201, MEETING), RETRY, 0, None),
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
def test_classify_batch_response(entry: dict[str, Any], kind: str, status: int, retry_after: float | None) -> None:
    (outcome,) = classify_batch_response([(0, USER)], {"responses": [entry]})
    assert (outcome.kind, outcome.status, outcome.retry_after) == (kind, status, retry_after)
    if kind == OK:
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
    assert [o.kind for o in outcomes] == [OK, FAILED, OK]


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
    from airflow_provider_meetings.batching import DEFAULT_MEETING_FIELDS
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


# -- flow control ----------------------------------------------------------------------------


def test_aimd_concurrency_halves_on_throttling_and_grows_back() -> None:
    flow = FlowController(8)
    assert flow.concurrency == 8 and flow.batch_size == 20 and flow.delay(20, 0.0) == 0
    hold = flow.on_batch_done(1.0, sent_at=0.9, accepted=20, throttled=0)
    assert hold == 0 and flow.concurrency == 8
    flow.concurrency = 4
    for t in range(4):
        flow.on_batch_done(2.0 + t / 10, sent_at=1.9, accepted=20, throttled=0)
    assert flow.concurrency == 5
    flow.on_batch_done(3.0, sent_at=2.9, accepted=0, throttled=0, failed=True)
    assert flow.concurrency == 2
    # A second failure of a batch sent before that decrease does not halve again.
    flow.on_batch_done(3.1, sent_at=2.95, accepted=0, throttled=0, failed=True)
    assert flow.concurrency == 2


def test_first_throttle_estimates_the_limit_holds_and_paces() -> None:
    flow = FlowController(4, margin=0.95)
    flow.on_batch_done(0.10, sent_at=0.0, accepted=20, throttled=0)
    flow.on_batch_done(0.11, sent_at=0.0, accepted=20, throttled=0)
    hold = flow.on_batch_done(0.12, sent_at=0.0, accepted=10, throttled=10, retry_after=1.0)
    assert hold == 1.0  # the window is full: wait it out once
    assert flow.rate == pytest.approx(50 * 0.95)
    assert flow.batch_size == 5  # about 0.1 s of items
    assert flow.concurrency >= 1
    # Answers to batches sent before the decrease do not lower the rate again.
    flow.on_batch_done(0.13, sent_at=0.05, accepted=0, throttled=20, retry_after=1.0)
    assert flow.rate == pytest.approx(47.5) and flow.decreases == 1


def test_an_early_429_is_measured_over_the_time_since_sending_began() -> None:
    flow = FlowController(4, margin=1.0)
    flow.on_sent(20, 0.0)
    hold = flow.on_batch_done(0.1, sent_at=0.0, accepted=19, throttled=1, retry_after=1.0)
    assert hold == 1.0
    assert flow.rate == pytest.approx(190.0)  # 19 items in 0.1 s, not 19 in a second
    assert flow.batch_size == 19


def test_pacer_spaces_items_at_the_rate() -> None:
    flow = FlowController(4)
    flow.rate = 50.0
    flow._tokens_at = 0.0
    assert flow.batch_size == 5
    assert flow.delay(5, 0.0) == pytest.approx(0.1)
    assert flow.delay(5, 0.1) == 0.0
    flow.on_sent(5, 0.1)
    assert flow.delay(5, 0.1) == pytest.approx(0.1)
    # Idle time does not bank more than one batch.
    assert flow.delay(5, 10.0) == 0.0
    flow.on_sent(5, 10.0)
    assert flow.delay(5, 10.0) == pytest.approx(0.1)


def test_rate_probes_up_and_comes_down_on_the_next_throttle() -> None:
    flow = FlowController(4, margin=0.95, probe=0.02)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=50, throttled=30, retry_after=1.0)
    assert flow.rate == pytest.approx(47.5)
    start = flow.rate
    t = 1.2
    while t < 6.0:
        flow.on_batch_done(t, sent_at=t - 0.1, accepted=5, throttled=0)
        t += 0.1
    assert flow.rate > start * 1.07
    # 52 accepted in the last second, with 429s: the estimate pulls the rate below it.
    for k in range(10):
        flow.on_batch_done(6.0 + k / 10, sent_at=5.9 + k / 10, accepted=5, throttled=0)
    flow.on_batch_done(7.0, sent_at=6.95, accepted=2, throttled=3, retry_after=1.0)
    assert flow.rate == pytest.approx(min(start * 1.1, 52) * 0.95, rel=0.1)
    assert flow.rate < 52


def test_with_nothing_accepted_the_rate_halves() -> None:
    flow = FlowController(4)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=100, throttled=1, retry_after=1.0)
    before = flow.rate
    flow.on_batch_done(5.0, sent_at=4.9, accepted=0, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(before * 0.5)


def test_one_decrease_per_window() -> None:
    flow = FlowController(4, margin=1.0)
    flow.on_batch_done(0.1, sent_at=0.0, accepted=100, throttled=1, retry_after=1.0)
    assert flow.rate == pytest.approx(100)
    # Sent during the hold, or within a window after the decrease: ignored.
    flow.on_batch_done(1.5, sent_at=1.05, accepted=0, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(100) and flow.decreases == 1
    flow.on_batch_done(2.5, sent_at=2.4, accepted=40, throttled=5, retry_after=1.0)
    assert flow.rate == pytest.approx(40) and flow.decreases == 2


# -- the engine against a fake transport -----------------------------------------------------


class FakeTransport:
    """Answers batches from a script: ``behaviour(external_id, attempt) -> (status, headers)``."""

    def __init__(
        self,
        behaviour: Callable[[str, int], tuple[int, dict[str, str]]] | None = None,
        *,
        batch_status: list[int | BaseException] | None = None,
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
        self.token = 0

    def send_batch(self, payload: Mapping[str, Any]) -> tuple[int, Mapping[str, str], Any]:
        with self.lock:
            requests = payload["requests"]
            assert len(requests) <= MAX_BATCH_ITEMS
            assert len({r["id"] for r in requests}) == len(requests)
            self.batch_sizes.append(len(requests))
            if self.batch_status:
                top = self.batch_status.pop(0)
                if isinstance(top, BaseException):
                    raise top
                if top != 200:
                    return top, {"Retry-After": "0"}, _err("TooManyRequests" if top == 429 else "X")
            responses = []
            for r in requests:
                eid = r["body"]["externalId"]
                attempt = self.attempts.get(eid, 0)
                self.attempts[eid] = attempt + 1
                status, headers = self.behaviour(eid, attempt)
                if status == 401 and self.token > 0:
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
            return 200, {}, {"responses": responses}

    def refresh_token(self) -> None:
        self.refreshes += 1
        self.token += 1


def engine(transport: FakeTransport, **kw: Any) -> BulkEngine:
    kw.setdefault("retry_policy", FAST)
    kw.setdefault("prepare", prep)
    kw.setdefault("transient_errors", (ConnectionError,))
    # A short assumed window keeps the throttling tests fast.
    kw.setdefault("controller", FlowController(kw.get("max_concurrency", 4), min_window=0.05))
    return BulkEngine(transport, **kw)


def test_results_come_back_in_input_order_across_batches() -> None:
    transport = FakeTransport()
    specs = [spec(f"e{i}") for i in range(45)]
    results = engine(transport).run(specs)
    assert [r.index for r in results] == list(range(45))
    assert [r.external_id for r in results] == [f"e{i}" for i in range(45)]
    assert all(r.ok and r.created and r.attempts == 1 for r in results)
    assert sorted(transport.batch_sizes) == [5, 20, 20]
    assert results[7].meeting == {"id": "m-e7", "joinWebUrl": "https://t/e7"}


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
    assert not results[1].permanent


def test_permanent_errors_are_final_and_invalid_items_never_sent() -> None:
    transport = FakeTransport(lambda eid, attempt: (403, {}) if eid == "forbidden" else (201, {}))
    specs = [spec("a"), spec("forbidden"), spec(""), spec("a"), spec("b")]
    results = engine(transport).run(specs)
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert transport.attempts == {"a": 1, "forbidden": 1, "b": 1}
    assert results[1].error.status == 403 and results[1].permanent
    assert "duplicates meetings[0]" in str(results[3].error)


def test_a_401_gets_one_token_refresh_for_the_whole_batch() -> None:
    transport = FakeTransport(lambda eid, attempt: (401, {}) if attempt == 0 else (201, {}))
    eng = engine(transport)
    results = eng.run([spec(f"e{i}") for i in range(5)])
    assert all(r.ok for r in results)
    assert transport.refreshes == 1 and eng.stats.token_refreshes == 1


def test_a_second_401_after_the_refresh_is_final() -> None:
    transport = FakeTransport(lambda eid, attempt: (401, {}))
    transport.token = -10  # the fake keeps refusing even after refreshes
    results = engine(transport).run([spec("a")])
    assert results[0].error.status == 401 and transport.refreshes == 1


def test_whole_batch_failures_retry_every_item() -> None:
    transport = FakeTransport(batch_status=[ConnectionError("reset"), 429, 503])
    eng = engine(transport)
    results = eng.run([spec(f"e{i}") for i in range(3)])
    assert all(r.ok and r.created for r in results)
    assert all(r.attempts >= 2 for r in results)
    assert sum(r.attempts for r in results) == sum(transport.batch_sizes)
    assert eng.stats.throttled == transport.batch_sizes[1]


def test_whole_batch_permanent_error_fails_every_item() -> None:
    transport = FakeTransport(batch_status=[400])
    results = engine(transport).run([spec("a"), spec("b")])
    assert [r.error.status for r in results] == [400, 400]


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
    assert [r.external_id for r in results] == ["g0", "g1", "g2"]


def test_concurrency_bounds_batches_in_flight() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    class Slow(FakeTransport):
        def send_batch(self, payload: Mapping[str, Any]) -> tuple[int, Mapping[str, str], Any]:
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            release.wait(0.02)
            try:
                return super().send_batch(payload)
            finally:
                with lock:
                    in_flight -= 1

    results = engine(Slow(), max_concurrency=3).run([spec(f"e{i}") for i in range(200)])
    assert all(r.ok for r in results)
    assert 1 < peak <= 3


def test_a_list_over_the_documented_size_is_refused_before_anything_is_sent() -> None:
    transport = FakeTransport()
    specs = (spec(f"e{i}") for i in range(MAX_BULK_ITEMS + 1))
    with pytest.raises(
        InvalidMeetingRequestError, match=r"meetings: has 10,001 items; one bulk call takes at most 10,000"
    ):
        engine(transport).run(specs)
    assert transport.batch_sizes == []


def test_a_list_of_the_documented_size_is_accepted() -> None:
    transport = FakeTransport(shuffle=False)
    results = engine(transport, max_concurrency=8).run([spec(f"e{i}") for i in range(MAX_BULK_ITEMS)])
    assert len(results) == MAX_BULK_ITEMS and all(r.ok for r in results)
