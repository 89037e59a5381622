"""Organizers by UPN, the pure parts: which values are looked up, the requests, the error texts,
and a bulk call's bookkeeping (the lookups themselves run against the emulator in
``tests/integration/hooks/test_organizers_by_upn.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_meetings.graph.batch import MAX_BULK_ITEMS, BatchItemResult
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    InvalidRequestError,
    RetriesExhaustedError,
    TransportError,
)
from airflow_provider_meetings.meetings.bulk import BulkPlan, DuplicateMeetingError
from airflow_provider_meetings.meetings.organizers import (
    OrganizerDirectory,
    OrganizerLookupDeniedError,
    OrganizerLookupError,
    OrganizerNotFoundError,
    lookup_error,
    lookup_request,
    needs_lookup,
    object_id_from,
    with_object_id,
)
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest, prepare_request
from airflow_provider_meetings.meetings.results import BulkItemResult

ADELE = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ALEX = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"


def prep(spec: MeetingSpec) -> PreparedRequest:
    return prepare_request(spec, default_user_id="adelev@contoso.example")


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        pytest.param(ADELE, False, id="object id"),
        pytest.param(ADELE.upper(), False, id="object id upper case"),
        pytest.param(None, False, id="/me"),
        pytest.param("adelev@contoso.example", True, id="UPN"),
    ],
)
def test_needs_lookup(user_id: str | None, expected: bool) -> None:
    assert needs_lookup(user_id) is expected


def test_lookup_request_is_a_get_without_body() -> None:
    request = lookup_request("AdeleV@contoso.example")
    assert (request.method, request.path, request.body, request.user_id) == (
        "GET",
        "users/AdeleV%40contoso.example?$select=id",
        None,
        None,
    )
    assert request.operation == "GET users"


def test_with_object_id_keeps_the_rest_of_the_path() -> None:
    patch = PreparedRequest(
        path="users/adelev%40contoso.example/onlineMeetings/MSo1",
        body={"subject": "x"},
        user_id="adelev@contoso.example",
    )
    resolved = with_object_id(patch, ADELE)
    assert (resolved.path, resolved.user_id, resolved.body) == (f"users/{ADELE}/onlineMeetings/MSo1", ADELE, patch.body)


def test_with_object_id_refuses_a_path_of_another_user() -> None:
    request = PreparedRequest(path="me/onlineMeetings/createOrGet", body={}, user_id="adelev@contoso.example")
    with pytest.raises(ValueError, match="is not a path below"):
        with_object_id(request, ADELE)


# -- error texts ------------------------------------------------------------------------------


def graph_error(status: int, code: str, message: str = "m") -> GraphAPIError:
    return GraphAPIError(status, code, message, request_id="rid-1")


def test_403_in_delegated_mode_offers_me() -> None:
    error = lookup_error("a@contoso.com", graph_error(403, "Authorization_RequestDenied"), delegated=True)
    assert isinstance(error, OrganizerLookupDeniedError) and error.permanent
    assert str(error) == (
        "organizer 'a@contoso.com' is a user principal name and the app may not look up its object id: "
        "Microsoft Graph answered 403 Authorization_RequestDenied to GET /users/a@contoso.com. To fix, grant "
        "the app the delegated permission User.ReadBasic.All and consent to it (it needs no admin consent), leave "
        "user_id empty to act as the signed-in user (/me), or give organizers by their Entra object id, which needs "
        "no lookup (request-id rid-1)"
    )


def test_404_is_not_found() -> None:
    error = lookup_error("a@contoso.com", graph_error(404, "Request_ResourceNotFound"))
    assert isinstance(error, OrganizerNotFoundError) and error.permanent
    assert (error.status, error.code, error.request_id, error.upn) == (
        404,
        "Request_ResourceNotFound",
        "rid-1",
        "a@contoso.com",
    )


def test_other_graph_answers_keep_graphs_message() -> None:
    error = lookup_error("a@contoso.com", graph_error(400, "BadRequest", "Invalid filter clause"))
    assert type(error) is OrganizerLookupError and error.permanent
    assert str(error) == (
        "organizer 'a@contoso.com' (a user principal name) could not be resolved to its object id: "
        "Microsoft Graph answered 400 BadRequest to GET /users/a@contoso.com: Invalid filter clause (request-id rid-1)"
    )


@pytest.mark.parametrize(
    "cause",
    [
        pytest.param(RetriesExhaustedError("GET", 7, 300.0, GraphAPIError(429, "TooManyRequests", "x")), id="429s"),
        pytest.param(TransportError("timeout", "https://graph.microsoft.com/v1.0/users/x", "read"), id="timeout"),
    ],
)
def test_transient_failures_stay_transient(cause: BaseException) -> None:
    error = lookup_error("a@contoso.com", cause)
    assert type(error) is OrganizerLookupError and not error.permanent
    assert (
        str(error)
        == f"organizer 'a@contoso.com' (a user principal name) could not be resolved to its object id: {cause}"
    )


@pytest.mark.parametrize("answer", [{"id": "not-a-guid"}, {}, [], None], ids=["not a guid", "no id", "list", "none"])
def test_an_answer_without_an_object_id_is_an_error(answer: Any) -> None:
    with pytest.raises(OrganizerLookupError, match="the answer to GET /users/a@contoso.com had no object id"):
        object_id_from(answer, "a@contoso.com")


# -- the directory and a bulk call's bookkeeping -------------------------------------------------


def test_directory_keys_ignore_case() -> None:
    directory = OrganizerDirectory()
    directory.remember("AdeleV@Contoso.example", ADELE)
    assert directory.get("adelev@contoso.example") == ADELE and len(directory) == 1


ITEMS: list[Any] = [
    {"external_id": "e0", "user_id": "alexw@contoso.example"},
    {"external_id": "e0", "user_id": "AlexW@contoso.example"},  # item 0 again, in other case
    {"external_id": "e2"},  # the default organizer, a UPN
    {"external_id": "e3", "user_id": ALEX},
    {"external_id": "e4", "user_id": "ghost@contoso.example"},
    {"external_id": "", "user_id": "other@contoso.example"},  # invalid: not looked up
    MeetingSpec("e0", user_id=ALEX),  # the same meeting as item 0, by object id
]


def plan() -> BulkPlan:
    return BulkPlan(ITEMS, prepare=prep, update_existing=False, meeting_fields=None)


def test_bulk_collects_the_upns_of_valid_items() -> None:
    assert plan().upns == [
        "alexw@contoso.example",
        "AlexW@contoso.example",
        "adelev@contoso.example",
        "ghost@contoso.example",
    ]


def test_bulk_over_the_item_limit_is_refused_before_any_lookup() -> None:
    with pytest.raises(InvalidRequestError, match="one bulk call takes at most"):
        BulkPlan(
            [{"external_id": "x", "user_id": "a@contoso.com"}] * (MAX_BULK_ITEMS + 1),
            prepare=prep,
            update_existing=False,
            meeting_fields=None,
        )


def test_bulk_sends_resolved_items_and_refuses_the_others() -> None:
    directory = OrganizerDirectory()
    directory.remember("alexw@contoso.example", ALEX)
    directory.remember("adelev@contoso.example", ADELE)
    not_found = lookup_error("ghost@contoso.example", graph_error(404, "Request_ResourceNotFound"))
    bulk = plan()
    requests, refused = bulk.first_step(directory, {"ghost@contoso.example": not_found})
    sent = [requests[i] for i in range(len(ITEMS)) if i not in refused]
    # What the engine would return for the items it sends: their organizer's object id.
    first = [
        refused.get(i) or BatchItemResult(i, requests[i].key, requests[i].user_id, body={}, http_status=201)
        for i in range(len(ITEMS))
    ]
    bulk.second_step(first)
    annotated = bulk.results([])

    assert [r.path for r in sent] == [
        f"users/{ALEX}/onlineMeetings/createOrGet",
        f"users/{ADELE}/onlineMeetings/createOrGet",
        f"users/{ALEX}/onlineMeetings/createOrGet",
    ]  # e0, e2 and e3; e1 and the last item repeat e0
    assert [type(r.error).__name__ if r.error else None for r in annotated] == [
        None,
        "DuplicateMeetingError",
        None,
        None,
        "OrganizerNotFoundError",
        "InvalidRequestError",
        "DuplicateMeetingError",
    ]
    assert annotated[4].error is not_found and annotated[4].attempts == 0
    assert isinstance(annotated[6].error, DuplicateMeetingError) and annotated[6].error.first_index == 0
    assert [(r.user_id, r.given_user_id) for r in annotated] == [
        (ALEX, "alexw@contoso.example"),
        (ALEX, "AlexW@contoso.example"),
        (ADELE, "adelev@contoso.example"),
        (ALEX, ALEX),
        (None, "ghost@contoso.example"),
        (None, "other@contoso.example"),
        (ALEX, ALEX),
    ]


def test_bulk_refuses_a_upn_that_was_not_looked_up() -> None:
    _, refused = plan().first_step(OrganizerDirectory())
    result = refused[0]
    assert isinstance(result.error, OrganizerLookupError)
    assert "'alexw@contoso.example' (a user principal name) was not looked up" in str(result.error)


def test_results_carry_what_was_given_and_the_object_id() -> None:
    result = BulkItemResult(
        0, "e0", ALEX, meeting={"id": "m"}, created=True, http_status=201, given_user_id="alexw@contoso.example"
    )
    as_xcom = json.loads(json.dumps(result.to_dict()))
    assert (as_xcom["user_id"], as_xcom["given_user_id"]) == (ALEX, "alexw@contoso.example")
