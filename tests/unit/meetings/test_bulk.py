"""The plan of a bulk call (``BulkPlan``): validation once, duplicates, which requests follow
createOrGet, and how both steps' answers make each item's result. Pure: the answers are made up here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_meetings.graph.batch import MAX_BULK_ITEMS, BatchItemResult
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.hooks.online_meetings import BULK_MEETING_FIELDS
from airflow_provider_meetings.meetings.bulk import (
    DEFAULT_MEETING_FIELDS,
    BulkPlan,
    DuplicateMeetingError,
    cancel_items,
    identity,
    identity_key,
)
from airflow_provider_meetings.meetings.organizers import OrganizerDirectory
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


def found(index: int, external_id: str, *, created: bool, **fields: Any) -> BatchItemResult:
    """Step 1's result: 201 or 200 with the meeting."""
    return BatchItemResult(
        index, external_id, ADELE, body=meeting(index, **fields), attempts=1, http_status=201 if created else 200
    )


def answered(index: int, status: int, body: dict[str, Any] | None = None, attempts: int = 1) -> BatchItemResult:
    """Step 2's result for its ``index``-th request."""
    if status >= 400:
        return BatchItemResult(index, "x", ADELE, error=GraphAPIError(status, "E", "e"), attempts=attempts)
    return BatchItemResult(index, "x", ADELE, body=body, attempts=attempts, http_status=status)


def BulkSync(items: list[Any], **kw: Any) -> BulkPlan:  # noqa: N802 - reads as the plan it makes
    """A plan whose step 1 has been built (no organizer to look up)."""
    plan = BulkPlan(items, **kw)
    plan.first_step(OrganizerDirectory())
    return plan


SAME = {
    "external_id": "same",
    "subject": "S",
    "start_date_time": "2027-01-04T08:00:00Z",
    "end_date_time": "2027-01-04T09:00:00Z",
}


def test_items_as_step_one_sends_them() -> None:
    plan = BulkPlan(
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
    requests, refused = plan.first_step(OrganizerDirectory())
    assert requests[0].body == {"externalId": "same"}  # a cancelled item: only what identifies it
    assert requests[1] == requests[2] == prepare(MeetingSpec(**SAME))
    assert plan.cancelled == [True, False, False, False, False]
    assert plan.first_fields == ("id", "joinWebUrl", "subject", "startDateTime", "endDateTime", "participants")
    assert sorted(refused) == [1, 2, 3]  # 1 and 2 repeat item 0
    assert (
        str(refused[3].error)
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
        BatchItemResult(5, "failed", ADELE, error=GraphAPIError(403, "Forbidden", "no policy"), attempts=1),
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
    assert [r.http_status for r in results] == [201, 200, 200, 204, 204, None, None]
    assert results[3].created is False and results[4].created is False  # nothing made by this call remains
    assert isinstance(results[5].error, GraphAPIError)
    assert isinstance(results[6].error, InvalidRequestError) and results[6].permanent


def test_without_update_existing_nothing_is_compared() -> None:
    plan = BulkSync(
        [{**SAME, "external_id": "other", "subject": "changed"}, SAME],
        prepare=prepare,
        update_existing=False,
        meeting_fields=None,
    )
    assert plan.second_step([found(0, "other", created=True), found(1, "same", created=False)]) == []
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
    step_one = [BatchItemResult(0, "same", ADELE, body={"subject": "S"}, attempts=1, http_status=200)]
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


# -- validation (once) and duplicates --------------------------------------------------------

OTHER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"


def first_step(items: list[Any]) -> list[Any]:
    plan = BulkPlan(items, prepare=prepare, update_existing=False, meeting_fields=None)
    requests, refused = plan.first_step(OrganizerDirectory())
    return [refused.get(index) or requests[index] for index in range(len(requests))]


def test_invalid_items_and_duplicates_are_refused_without_sending() -> None:
    items = [
        {"external_id": "a"},  # 0
        {"external_id": ""},  # 1 empty id
        {"external_id": "b", "user_id": "not a user"},  # 2
        {"external_id": "a"},  # 3 duplicate of 0 (default user)
        {"external_id": "a", "user_id": OTHER},  # 4 same id, other user: a different meeting
        {"external_id": "c", "start_date_time": "2026-01-01T10:00:00"},  # 5 naive
        {"external_id": "d", "colour": "red"},  # 6 unknown key
        {"external_id": "a", "user_id": ADELE.upper()},  # 7 duplicate of 0: object ids are case-insensitive
        "not a mapping",  # 8
        MeetingSpec("e"),  # 9
    ]
    step = first_step(items)
    assert [i for i, r in enumerate(step) if not isinstance(r, BatchItemResult)] == [0, 4, 9]
    errors = {i: str(r.error) for i, r in enumerate(step) if isinstance(r, BatchItemResult)}
    assert errors[1].startswith("meetings[1].external_id: is empty")
    assert errors[2].startswith("meetings[2].user_id: ")
    assert errors[3].startswith("meetings[3].external_id duplicates meetings[0]")
    assert errors[5].startswith("meetings[5].start_date_time: ")
    assert errors[6].startswith("meetings[6]: unknown key(s) ['colour']")
    assert errors[7].startswith("meetings[7].external_id duplicates meetings[0]")
    assert errors[8].startswith("meetings[8]: must be a mapping")
    assert isinstance(step[7].error, DuplicateMeetingError) and step[7].error.first_index == 0
    assert step[3].key == "a" and step[3].user_id == ADELE
    assert step[0].label == "meetings[0] external_id=a"


def test_items_are_checked_when_the_plan_is_made() -> None:
    plan = BulkPlan(
        [{"external_id": "a"}, {"external_id": ""}], prepare=prepare, update_existing=False, meeting_fields=None
    )
    assert list(plan.refused) == [1] and plan.given == [ADELE, None]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ((ADELE, "x"), (ADELE.upper(), "x"), True),
        ((ADELE, "x"), (OTHER, "x"), False),
        ((ADELE, "x"), (ADELE, "X"), False),
        (("adelev@contoso.example", "x"), ("AdeleV@Contoso.example", "x"), True),
    ],
    ids=["guid-case", "other-user", "external-id-case-sensitive", "upn-case"],
)
def test_identity_key(a: tuple[str, str], b: tuple[str, str], same: bool) -> None:
    ka = identity_key(prepare_request(MeetingSpec(a[1], user_id=a[0])))
    kb = identity_key(prepare_request(MeetingSpec(b[1], user_id=b[0])))
    assert (ka == kb) is same


def test_identity_of_me_is_one_key() -> None:
    assert identity(None, "x") == identity("", "x") != identity(ADELE, "x")


def test_errors_name_the_position() -> None:
    (result,) = first_step([{"external_id": "x", "end_date_time": "2026-01-01T10:00:00Z"}])
    assert str(result.error).startswith("meetings[0].end_date_time: ")


def test_duplicate_error_text() -> None:
    err = DuplicateMeetingError(7, 2, "ev-1", ADELE)
    assert str(err).startswith("meetings[7].external_id duplicates meetings[2]")
    assert err.field == "meetings[7].external_id"


def test_too_many_items_are_refused_before_anything_else() -> None:
    with pytest.raises(InvalidRequestError, match="one bulk call takes at most"):
        BulkPlan(
            [{"external_id": "x"}] * (MAX_BULK_ITEMS + 1), prepare=prepare, update_existing=False, meeting_fields=None
        )


def test_the_hook_default_fields_match() -> None:
    assert BULK_MEETING_FIELDS == DEFAULT_MEETING_FIELDS


def test_result_to_dict_is_json_and_secret_free() -> None:
    ok = BulkItemResult(
        0, "e", ADELE, meeting={"id": "m", "joinWebUrl": "u"}, created=True, attempts=1, http_status=201
    )
    failed = BulkItemResult(1, "f", ADELE, error=GraphAPIError(403, "Forbidden", "no"), attempts=1)
    text = json.dumps([ok.to_dict(), failed.to_dict()])
    assert "secret" not in text
    assert ok.to_dict()["meeting_id"] == "m" and ok.to_dict()["join_web_url"] == "u"
    assert ok.to_dict()["status"] is None  # the outcome, not the HTTP status
    assert failed.to_dict()["error_status"] == 403 and failed.to_dict()["permanent"] is True
    assert ok.ok and not ok.permanent and not failed.ok and failed.permanent
