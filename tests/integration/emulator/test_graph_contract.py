"""The emulator answers as Graph does for properties an API version does not define, and GET /users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from emulator_testlib import GRAPH_SCOPE, assert_graph_error, create_path, make_app, make_session

from meetings_emulator import run_emulator
from meetings_emulator.config import ALEX_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
ADELE = create_path(ORGANIZER_ID)
JSON = {"Content-Type": "application/json"}
NOT_DEFINED = (
    "The property '{name}' does not exist on type 'microsoft.graph.{type}'. Make sure to only use "
    "property names that are defined by the type or mark the type as open type."
)


@pytest.mark.parametrize(
    ("body", "version", "message"),
    [
        pytest.param(
            {"externalId": "x", "participants": {"producers": [{"upn": "alexw@contoso.example"}]}},
            "v1.0",
            NOT_DEFINED.format(name="producers", type="meetingParticipants"),
            id="producers-on-v1",
        ),
        pytest.param(
            {"externalId": "x", "participants": {"contributors": []}},
            "v1.0",
            NOT_DEFINED.format(name="contributors", type="meetingParticipants"),
            id="contributors-on-v1",
        ),
        pytest.param(
            {"externalId": "x", "participants": {"attendees": [{"upn": "a@contoso.example", "email": "a"}]}},
            "beta",
            NOT_DEFINED.format(name="email", type="meetingParticipantInfo"),
            id="attendee-property",
        ),
        pytest.param(
            {"externalId": "x", "participants": {"attendees": [{"identity": {"user": {"mail": "a"}}}]}},
            "v1.0",
            NOT_DEFINED.format(name="mail", type="identity"),
            id="deep",
        ),
        pytest.param(
            {"externalId": "x", "title": "t"},
            "v1.0",
            "The parameter 'title' in the request payload is not a valid parameter for the operation 'createOrGet'.",
            id="unknown-parameter",
        ),
    ],
)
def test_undefined_property_is_bad_request(graph: Graph, emu: Any, body: dict, version: str, message: str) -> None:
    assert_graph_error(graph("POST", ADELE, json=body, version=version), 400, "BadRequest", message)
    assert emu.meetings() == []


def test_beta_defines_producers_and_contributors(graph: Graph) -> None:
    participants = {"producers": [{"upn": "alexw@contoso.example"}], "contributors": []}
    response = graph("POST", ADELE, json={"externalId": "beta-roles", "participants": participants}, version="beta")
    assert response.status_code == 201


def test_undefined_property_in_a_batch_item(graph: Graph) -> None:
    bad = {"externalId": "b", "participants": {"producers": []}}
    requests_ = [{"id": "1", "method": "POST", "url": ADELE, "headers": JSON, "body": bad}]
    [item] = graph("POST", "/$batch", json={"requests": requests_}).json()["responses"]
    assert item["status"] == 400
    assert item["body"]["error"]["message"] == NOT_DEFINED.format(name="producers", type="meetingParticipants")


USER_FIELDS = {
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
}


@pytest.mark.parametrize("key", [ORGANIZER_ID, "adelev@contoso.example", "AdeleV@contoso.example"])
def test_get_user_by_id_or_upn(graph: Graph, emu: Any, key: str) -> None:
    response = graph("GET", f"/users/{key}")
    assert response.status_code == 200
    user = response.json()
    assert set(user) == USER_FIELDS | {"@odata.context"}
    assert (user["id"], user["userPrincipalName"], user["displayName"]) == (
        ORGANIZER_ID,
        "adelev@contoso.example",
        "Adele Vance",
    )
    assert user["@odata.context"].endswith("/v1.0/$metadata#users/$entity")
    selected = graph("GET", f"/users/{key}", params={"$select": "id"})
    assert selected.json() == {"@odata.context": f"{emu.url}/v1.0/$metadata#users(id)/$entity", "id": ORGANIZER_ID}
    assert emu.stats()["by_route"]["getUser"] == {"200": 2}


def test_get_user_errors(graph: Graph) -> None:
    missing = graph("GET", "/users/nobody@contoso.example", params={"$select": "id"})
    assert_graph_error(
        missing,
        404,
        "Request_ResourceNotFound",
        "Resource 'nobody@contoso.example' does not exist or one of its queried reference-property objects are not present.",
    )
    assert_graph_error(graph("GET", f"/users/{ORGANIZER_ID}", params={"$select": "id,shoeSize"}), 400, "BadRequest")
    assert_graph_error(
        graph("DELETE", f"/users/{ORGANIZER_ID}"),
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )


def test_get_user_as_a_batch_item(graph: Graph) -> None:
    requests_ = [
        {"id": "a", "method": "GET", "url": "/users/alexw@contoso.example?$select=id"},
        {"id": "b", "method": "GET", "url": "/users/ghost@contoso.example?$select=id"},
    ]
    answers = {r["id"]: r for r in graph("POST", "/$batch", json={"requests": requests_}).json()["responses"]}
    assert answers["a"]["status"] == 200 and answers["a"]["body"]["id"] == ALEX_ID
    assert answers["b"]["status"] == 404 and answers["b"]["body"]["error"]["code"] == "Request_ResourceNotFound"


def test_delegated_token_reads_only_its_own_user(graph: Graph, delegated_token: str) -> None:
    # The seeded delegated scopes are OnlineMeetings.ReadWrite and User.Read (not User.Read.All).
    assert graph("GET", f"/users/{ORGANIZER_ID}", token=delegated_token).status_code == 200
    assert_graph_error(
        graph("GET", f"/users/{ALEX_ID}", token=delegated_token),
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )


@pytest.mark.parametrize(
    ("scopes", "reads_others"),
    [
        pytest.param(("User.ReadBasic.All",), True, id="User.ReadBasic.All (least privileged)"),
        pytest.param(("User.Read.All",), True, id="User.Read.All"),
        pytest.param(("User.Read",), False, id="User.Read (own user only)"),
        pytest.param(("OnlineMeetings.ReadWrite",), False, id="no user permission"),
    ],
)
def test_delegated_user_read_permissions(scopes: tuple[str, ...], reads_others: bool) -> None:
    # https://learn.microsoft.com/graph/api/user-get#permissions: delegated User.ReadBasic.All
    # (least privileged) or User.Read.All read any user; User.Read only the signed-in user.
    with run_emulator(delegated_scopes=scopes) as emu:
        token = make_app(emu).acquire_token_by_refresh_token(emu.refresh_token, GRAPH_SCOPE)["access_token"]
        session = make_session(emu.ca_path)
        headers = {"Authorization": f"Bearer {token}"}

        def get(key: str) -> Any:
            return session.get(f"{emu.url}/v1.0/users/{key}?$select=id", headers=headers, timeout=10)

        other = get("alexw@contoso.example")
        if reads_others:
            assert other.status_code == 200 and other.json()["id"] == ALEX_ID
            assert get("ghost@contoso.example").status_code == 404
        else:
            assert_graph_error(
                other, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
            assert get("ghost@contoso.example").status_code == 403  # existence is not revealed
        own = get(ORGANIZER_ID)
        assert own.status_code == (403 if scopes == ("OnlineMeetings.ReadWrite",) else 200)


def test_app_token_without_user_read_all_is_denied() -> None:
    with run_emulator(app_roles=("OnlineMeetings.ReadWrite.All",)) as emu:
        token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        session = make_session(emu.ca_path)
        headers = {"Authorization": f"Bearer {token}"}
        response = session.get(f"{emu.url}/v1.0/users/alexw@contoso.example?$select=id", headers=headers, timeout=10)
        assert_graph_error(
            response, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
        # the same token still creates meetings: the role it holds is enough for that
        created = session.post(f"{emu.url}/v1.0{ADELE}", json={"externalId": "x"}, headers=headers, timeout=10)
        assert created.status_code == 201
