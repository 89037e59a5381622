"""The plan of a bulk sync or cancel (``BulkSync``): which requests follow createOrGet, and how
both steps' answers make each item's result. Pure: the answers are made up here."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_meetings.graph.batch import validate_all
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidMeetingRequestError
from airflow_provider_meetings.meetings.bulk import BulkSync, cancel_items
from airflow_provider_meetings.meetings.request import MeetingSpec, prepare_request
from airflow_provider_meetings.meetings.results import BulkItemResult

ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
START, END = "2027-01-04T08:00:00.0000000Z", "2027-01-04T09:00:00.0000000Z"


def prepare(spec: MeetingSpec):
    return prepare_request(spec, default_user_id=ADELE)


def meeting(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"m{n}",
        "joinWebUrl": f"https://teams.example/{n}",
        "subject": "S",
        "startDateTime": START,
        "endDateTime": END,
        "participants": {"organizer": {"upn": "adelev@contoso.example"}, "attendees": []},
        **fields,
    }


def found(index: int, external_id: str, *, created: bool, **fields: Any) -> BulkItemResult:
    """Step 1's result: 201 or 200 with the meeting."""
    return BulkItemResult(
        index,
        external_id,
        ADELE,
        meeting=meeting(index, **fields),
        created=created,
        attempts=1,
        status=201 if created else 200,
    )


def answered(index: int, status: int, body: dict[str, Any] | None = None, attempts: int = 1) -> BulkItemResult:
    """Step 2's result for its ``index``-th request."""
    if status >= 400:
        return BulkItemResult(index, "x", ADELE, error=GraphAPIError(status, "E", "e"), attempts=attempts)
    return BulkItemResult(index, "x", ADELE, meeting=body, created=False, attempts=attempts, status=status)


SAME = {
    "external_id": "same",
    "subject": "S",
    "start_date_time": "2027-01-04T08:00:00Z",
    "end_date_time": "2027-01-04T09:00:00Z",
}


def test_items_as_step_one_sends_them() -> None:
    plan = BulkSync(
        [
            {**SAME, "cancelled": True},
            {**SAME, "cancelled": False},
            {**SAME, "cancelled": None},
            {**SAME, "cancelled": 1},
            MeetingSpec("spec"),
        ],
        prepare=prepare,
        update_existing=True,
        meeting_fields=("id",),
    )
    assert plan.specs[0] == {"external_id": "same"}  # a cancelled item: only what identifies it
    assert plan.specs[1] == plan.specs[2] == {k: v for k, v in SAME.items()}
    assert plan.cancelled == [True, False, False, False, False]
    assert plan.first_fields == ("id", "joinWebUrl", "subject", "startDateTime", "endDateTime", "participants")
    results, to_send = validate_all(plan.specs, plan.prepare, dedupe=False)
    assert to_send == 4
    assert (
        str(results[3].error)
        == "meetings[3].cancelled: must be true or false, got int 1; nothing was sent for this item"
    )


@pytest.mark.parametrize(
    ("update_existing", "cancelled", "fields", "expected"),
    [
        pytest.param(False, False, ("id", "joinWebUrl"), ("id", "joinWebUrl"), id="createOrGet: the caller's fields"),
        pytest.param(False, True, ("joinWebUrl",), ("joinWebUrl", "id"), id="cancel needs the id"),
        pytest.param(True, False, None, None, id="all fields"),
    ],
)
def test_step_one_keeps_what_step_two_needs(update_existing, cancelled, fields, expected) -> None:
    plan = BulkSync(
        [{"external_id": "a", "cancelled": cancelled}],
        prepare=prepare,
        update_existing=update_existing,
        meeting_fields=fields,
    )
    assert plan.first_fields == expected


def test_outcomes_and_the_requests_that_follow() -> None:
    items = [
        {**SAME, "external_id": "new"},
        {**SAME, "external_id": "same"},
        {**SAME, "external_id": "moved", "start_date_time": "2027-01-05T08:00:00Z", "end_date_time": None},
        {"external_id": "gone", "cancelled": True},
        {"external_id": "never", "cancelled": True},
        {**SAME, "external_id": "failed"},
        {**SAME, "external_id": "other-organizer", "participants": {"organizer": {"upn": "meganb@contoso.example"}}},
    ]
    plan = BulkSync(items, prepare=prepare, update_existing=True, meeting_fields=("id",))
    step_one = [
        found(0, "new", created=True),
        found(1, "same", created=False),
        found(2, "moved", created=False),
        found(3, "gone", created=False),
        found(4, "never", created=True),
        BulkItemResult(5, "failed", ADELE, error=GraphAPIError(403, "Forbidden", "no policy"), attempts=1),
        found(6, "other-organizer", created=False),
    ]

    requests = plan.second_step(step_one)

    assert [(r.method, r.path, r.body) for r in requests] == [
        (
            "PATCH",
            f"users/{ADELE}/onlineMeetings/m2",
            {"startDateTime": "2027-01-05T08:00:00.0000000Z", "endDateTime": "2027-01-05T09:00:00.0000000Z"},
        ),
        ("DELETE", f"users/{ADELE}/onlineMeetings/m3", None),
        ("DELETE", f"users/{ADELE}/onlineMeetings/m4", None),
    ]
    results = plan.results(
        [
            answered(0, 200, meeting(2, startDateTime="2027-01-05T08:00:00.0000000Z"), attempts=2),
            answered(1, 204),
            answered(2, 204),
        ]
    )
    assert [r.outcome for r in results] == ["created", "unchanged", "updated", "cancelled", "not_found", None, None]
    assert [r.meeting for r in results] == [{"id": "m0"}, {"id": "m1"}, {"id": "m2"}, None, None, None, None]
    assert [r.attempts for r in results] == [1, 1, 3, 2, 2, 1, 1]
    assert [r.status for r in results] == [201, 200, 200, 204, 204, None, None]
    assert results[3].created is False and results[4].created is False  # nothing made by this call remains
    assert isinstance(results[5].error, GraphAPIError)
    assert isinstance(results[6].error, InvalidMeetingRequestError) and results[6].permanent


def test_without_update_existing_nothing_is_compared() -> None:
    plan = BulkSync([{**SAME, "subject": "changed"}, SAME], prepare=prepare, update_existing=False, meeting_fields=None)
    assert plan.second_step([found(0, "same", created=True), found(1, "same", created=False)]) == []
    assert [r.outcome for r in plan.results([])] == ["created", "existing"]


@pytest.mark.parametrize(
    ("status", "outcome", "ok"),
    [
        pytest.param(204, "cancelled", True, id="deleted"),
        pytest.param(404, "cancelled", True, id="gone already"),
        pytest.param(403, None, False, id="refused"),
        pytest.param(503, None, False, id="transient"),
    ],
)
def test_delete_answers(status: int, outcome: str | None, ok: bool) -> None:
    plan = BulkSync(
        [{"external_id": "x", "cancelled": True}], prepare=prepare, update_existing=False, meeting_fields=()
    )
    assert len(plan.second_step([found(0, "x", created=False)])) == 1
    (result,) = plan.results([answered(0, status)])
    assert (result.outcome, result.ok, result.meeting) == (outcome, ok, None)


def test_a_failed_patch_is_the_item_s_error() -> None:
    plan = BulkSync([{**SAME, "subject": "new"}], prepare=prepare, update_existing=True, meeting_fields=("id",))
    assert len(plan.second_step([found(0, "same", created=False)])) == 1
    (result,) = plan.results([answered(0, 503, attempts=4)])
    assert (result.ok, result.permanent, result.outcome, result.attempts) == (False, False, None, 5)


def test_an_answer_without_a_meeting_id_is_an_error() -> None:
    plan = BulkSync([{**SAME, "subject": "new"}], prepare=prepare, update_existing=True, meeting_fields=("id",))
    step_one = [BulkItemResult(0, "same", ADELE, meeting={"subject": "S"}, created=False, attempts=1, status=200)]
    assert plan.second_step(step_one) == []
    (result,) = plan.results([])
    assert isinstance(result.error, GraphAPIError) and result.error.code == "InvalidResponse"


def test_cancel_items() -> None:
    assert cancel_items(
        ["a", {"external_id": "b", "user_id": "u@contoso.example", "subject": "x"}, MeetingSpec("c")], user_id=ADELE
    ) == [
        {"external_id": "a", "user_id": ADELE, "cancelled": True},
        {"external_id": "b", "user_id": "u@contoso.example", "cancelled": True},
        {"external_id": "c", "user_id": ADELE, "cancelled": True},
    ]
