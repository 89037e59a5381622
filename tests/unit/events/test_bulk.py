"""Bulk events (CalendarEventsApi.create_or_get_many) on a MockTransport: one batch per
organizer, throttling as flow control, order, and each item's error instead of raising."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from mock_graph_testlib import BatchesInFlight, app_settings

from airflow_provider_meetings.events.api import (
    CalendarAccessDeniedError,
    MissingJoinUrlError,
    prepare_calendar_event,
    prepare_calendar_lookup,
)
from airflow_provider_meetings.events.bulk import DuplicateEventError, EventBulkPlan
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.mock_transport import MockRequest, graph_error_answer, json_answer
from events.events_testlib import START
from events.test_api import FakeCalendar, api  # the one-event tests' fake mailbox

ORGANIZERS = [f"organizer{n}@contoso.example" for n in range(3)]


class BatchCalendar(BatchesInFlight):
    """Graph's ``$batch`` in front of a :class:`FakeCalendar`: items one after another, as
    Outlook counts them against the mailbox; notes batches in flight per mailbox."""

    def __init__(self, calendar: FakeCalendar, *, delay: float = 0.003) -> None:
        super().__init__()
        self.calendar = calendar
        self.delay = delay
        self.single_requests = 0
        #: per item: a status to answer once instead of the calendar's, by (method, external id)
        self.once: dict[tuple[str, str], int] = {}
        self.forbidden_users: set[str] = set()

    def __call__(self, request: MockRequest):
        if not request.path.endswith("/$batch"):
            self.single_requests += 1
            return self.calendar(request)
        users = {urlsplit(item["url"]).path.split("/")[2].lower() for item in request.json["requests"]}
        responses = self.in_flight_for(
            users, self.delay, lambda: [{"id": item["id"], **self._item(item)} for item in request.json["requests"]]
        )
        return json_answer(200, {"responses": responses})

    def _item(self, item: dict[str, Any]) -> dict[str, Any]:
        user = unquote(urlsplit(item["url"]).path.split("/")[2])
        if user in self.forbidden_users:
            answer = graph_error_answer(403, "ErrorAccessDenied", "Access is denied.")
        else:
            body = item.get("body") or {}
            key = next(
                (p["value"] for p in body.get("singleValueExtendedProperties", ()) if "ExternalId" in p["id"]), ""
            )
            status = self.once.pop((item["method"], key), None)
            answer = self.calendar(
                MockRequest(item["method"], "https://graph.microsoft.com/v1.0" + item["url"], {}, item.get("body"))
            )
            if status == 429:
                answer = graph_error_answer(
                    429,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                    headers={"Retry-After": "0"},
                )
            elif status is not None:
                answer = graph_error_answer(status, "ErrorConflict")  # carried out, then answered 409
        return {
            "status": answer.status,
            "headers": dict(answer.headers),
            "body": answer.json() if answer.content else None,
        }


def item(n: int, user: str = ORGANIZERS[0], **overrides: Any) -> dict[str, Any]:
    start = START + timedelta(hours=n)
    data = {
        "external_id": f"interview-{n}",
        "subject": f"Interview {n}",
        "start": start,
        "end": start + timedelta(minutes=45),
        "user_id": user,
        "attendees": [f"candidate{n}@contoso.example"],
    }
    data.update(overrides)
    return data


def run(graph: BatchCalendar, items: list[Any], *, update_existing: bool = False, max_concurrency: int = 10):
    events_api, _ = api(graph)
    conn = app_settings()
    plan = EventBulkPlan(
        items,
        prepare=lambda spec: prepare_calendar_event(spec, conn),
        prepare_lookup=lambda external_id, user_id: prepare_calendar_lookup(external_id, conn, user_id=user_id),
        update_existing=update_existing,
    )
    return events_api.create_or_get_many(plan, max_concurrency=max_concurrency)


def test_one_batch_per_organizer_organizers_side_by_side_results_in_order() -> None:
    graph = BatchCalendar(FakeCalendar())
    items = [item(n, ORGANIZERS[n % 3]) for n in range(90)]
    # One batch at a time, so the fake records batches in the order the engine sends them (with
    # several in flight, a thread that starts late records its batch after a later one: the
    # first three recorded were organizers 0, 1, 0 on a loaded machine).
    results = run(graph, items, max_concurrency=1)
    assert [r.external_id for r in results] == [i["external_id"] for i in items]
    assert [(r.status, r.error) for r in results] == [("created", None)] * 90
    assert all(len(users) == 1 for users in graph.batches)
    assert len(set().union(*graph.batches[:3])) == 3  # the first three batches: three organizers
    assert graph.single_requests == 0  # everything went in $batch
    again = run(graph, items)
    assert {r.status for r in again} == {"existing"} and len(graph.calendar.events) == 90


def test_mailbox_concurrency_429s_are_flow_control_not_item_failures() -> None:
    graph = BatchCalendar(FakeCalendar())
    # three items of the first batch (the pacer then holds sending for one window: ~1 s)
    graph.once = {("POST", f"interview-{n}"): 429 for n in (0, 5, 10)}
    results = run(graph, [item(n) for n in range(40)])
    assert [r.error for r in results if not r.ok] == []
    assert len(graph.calendar.events) == 40  # the deterministic transactionId: nothing twice
    assert max(r.attempts for r in results) == 3  # lookup, throttled POST, POST again


def test_update_cancel_not_found_and_refused_items_in_one_call() -> None:
    graph = BatchCalendar(FakeCalendar())
    run(graph, [item(n) for n in range(4)])
    moved = item(1, start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1))
    results = run(
        graph,
        [
            item(0),
            moved,
            {"external_id": "interview-2", "user_id": ORGANIZERS[0], "cancelled": True, "comment": "Filled"},
            {"external_id": "nope", "user_id": ORGANIZERS[0], "cancelled": True},
            item(9, start="2030-03-05T09:00:00"),  # naive
            item(0),  # a repeat
            {"external_id": "x", "subject": "s", "colour": "red"},
            "not a mapping",
            item(3, body="<p>Bring your laptop</p>"),
        ],
        update_existing=True,
    )
    assert [r.status for r in results] == [
        "unchanged",
        "updated",
        "cancelled",
        "not_found",
        None,
        None,
        None,
        None,
        "updated",
    ]
    assert isinstance(results[4].error, InvalidRequestError) and "events[4].start" in str(results[4].error)
    assert isinstance(results[5].error, DuplicateEventError) and results[5].attempts == 0
    assert "colour" in str(results[6].error) and "events[7]" in str(results[7].error)
    assert graph.calendar.cancelled[0][1] == {"comment": "Filled"}
    assert [sorted(p) for p in graph.calendar.patches] == [
        ["end", "start"],
        ["body", "singleValueExtendedProperties"],
    ]
    assert results[1].join_url and results[1].to_dict()["status"] == "updated"
    again = run(graph, [item(3, body="<p>Bring your laptop</p>")], update_existing=True)
    assert again[0].status == "unchanged"  # the body hash was read back and matched


def test_a_409_after_a_post_finds_the_event() -> None:
    graph = BatchCalendar(FakeCalendar())
    graph.once = {("POST", "interview-1"): 409}
    results = run(graph, [item(0), item(1)])
    assert [(r.status, r.error) for r in results] == [("created", None), ("created", None)]
    assert results[1].event_id and len(graph.calendar.events) == 2


@pytest.mark.parametrize("on_reread", [True, False])
def test_a_missing_join_link_is_read_again_then_an_item_error(on_reread: bool) -> None:
    graph = BatchCalendar(FakeCalendar(join_url=False, join_url_on_reread=on_reread))
    results = run(graph, [item(0), item(1)])
    if on_reread:
        assert all(r.ok and r.join_url for r in results)
    else:
        assert all(isinstance(r.error, MissingJoinUrlError) for r in results)
        assert results[0].to_dict()["permanent"] is True


def test_403_names_the_permission_for_that_organizer_only() -> None:
    graph = BatchCalendar(FakeCalendar())
    graph.forbidden_users = {ORGANIZERS[1]}
    results = run(graph, [item(n, ORGANIZERS[n % 2]) for n in range(6)])
    assert [r.ok for r in results] == [True, False] * 3
    assert all(isinstance(r.error, CalendarAccessDeniedError) and r.attempts == 1 for r in results if not r.ok)
    assert "Calendars.ReadWrite" in str(results[1].error)


def test_too_many_items_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(InvalidRequestError, match="at most"):
        run(BatchCalendar(FakeCalendar()), [item(0)] * 10_001)


def test_a_cancelled_item_booked_again_moves_on_a_transaction_id_generation() -> None:
    # The fake answers a cancelled event's transactionId with a 409 (Graph's answer is not
    # documented; the emulator's is the cancelled event: tests/integration).
    graph = BatchCalendar(FakeCalendar())
    run(graph, [item(n) for n in range(3)])
    cancel = {"external_id": "interview-1", "user_id": ORGANIZERS[0], "cancelled": True}
    for _ in range(2):
        assert [r.status for r in run(graph, [cancel])] == ["cancelled"]
        again = run(graph, [item(n) for n in range(3)])
        assert [(r.status, r.error) for r in again] == [("existing", None), ("created", None), ("existing", None)]
    posted = graph.calendar.posted
    assert len(posted) == 3 + 2 + 3 and len(set(posted)) == 5  # generations 0 | 0, 1 | 0, 1, 2
    assert len(graph.calendar.events) == 3


def test_occurrence_cancels_are_checked_before_anything_is_sent() -> None:
    conn = app_settings()
    cancel = {"external_id": "class", "user_id": ORGANIZERS[0], "cancelled": True}
    plan = EventBulkPlan(
        [
            {**cancel, "occurrence_date": "2030-04-02"},
            {**cancel, "occurrence_date": "2030-04-09"},  # another day of the same series
            {**cancel, "occurrence_date": "2030-04-02"},  # the same day again
            {**cancel, "occurrence_date": "April 2nd"},
            {**cancel, "occurrence_date": START},  # a datetime, not a day
            {**item(0), "occurrence_date": "2030-04-02"},  # not a cancel
            cancel,  # the whole series, beside its days
        ],
        prepare=lambda spec: prepare_calendar_event(spec, conn),
        prepare_lookup=lambda external_id, user_id: prepare_calendar_lookup(external_id, conn, user_id=user_id),
    )
    assert sorted(plan.items) == [0, 1, 6]
    assert [str(d) for d in (plan.items[0].occurrence, plan.items[1].occurrence)] == ["2030-04-02", "2030-04-09"]
    assert plan.items[6].occurrence is None
    errors = {index: str(result.error) for index, result in plan.refused.items()}
    assert isinstance(plan.refused[2].error, DuplicateEventError) and "on 2030-04-02" in errors[2]
    assert "events[3].occurrence_date" in errors[3] and "YYYY-MM-DD" in errors[3]
    assert "events[4].occurrence_date" in errors[4] and "not a datetime" in errors[4]
    assert "occurrence_date goes with cancelled: true" in errors[5]


def test_the_same_organizer_in_another_case_is_a_repeat():
    conn = app_settings()
    plan = EventBulkPlan(
        [item(0), item(0, user=ORGANIZERS[0].upper()), item(0, user=ORGANIZERS[1])],
        prepare=lambda spec: prepare_calendar_event(spec, conn),
        prepare_lookup=lambda external_id, user_id: prepare_calendar_lookup(external_id, conn, user_id=user_id),
    )
    assert sorted(plan.items) == [0, 2]
    assert isinstance(plan.refused[1].error, DuplicateEventError)
