from __future__ import annotations

import json
import pickle

import pytest

from airflow_provider_meetings.graph.errors import (
    ApplicationAccessPolicyError,
    AuthenticationError,
    GraphAPIError,
    RetriesExhaustedError,
    authentication_error_from_msal,
    describe_error,
    error_fields,
    graph_error_from_response,
    is_not_found,
    is_permanent,
)


def graph_body(code: str, message: str) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {"request-id": "rid-1", "date": "2026-11-28T07:00:00", "client-request-id": "c"},
            }
        }
    ).encode()


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        pytest.param(400, "BadRequest", True, id="400"),
        pytest.param(401, "InvalidAuthenticationToken", True, id="401"),
        pytest.param(404, "NotFound", True, id="404"),
        pytest.param(429, "TooManyRequests", False, id="429"),
        pytest.param(502, "BadGateway", False, id="502"),
        pytest.param(503, "ServiceUnavailable", False, id="503"),
        pytest.param(504, "GatewayTimeout", False, id="504"),
    ],
)
def test_graph_error_facts_and_permanence(status, code, permanent):
    error = graph_error_from_response(status, {"Content-Type": "application/json"}, graph_body(code, "msg"))
    assert type(error) is GraphAPIError
    assert (error.status, error.code, error.message, error.request_id) == (status, code, "msg", "rid-1")
    assert is_permanent(error) is permanent
    assert "request-id rid-1" in str(error)


@pytest.mark.parametrize(
    "message",
    ["No Application Access Policy found for this app.", "no application access policy found for this app"],
)
def test_access_policy_403_names_user_and_fix(message):
    error = graph_error_from_response(403, {}, graph_body("Forbidden", message), user_id="adele@contoso.com")
    assert isinstance(error, ApplicationAccessPolicyError)
    assert "'adele@contoso.com'" in str(error)
    assert "Grant-CsApplicationAccessPolicy" in str(error)
    assert is_permanent(error)


def test_other_403_is_plain():
    error = graph_error_from_response(403, {}, graph_body("Forbidden", "Insufficient privileges"))
    assert type(error) is GraphAPIError


def test_404_hint_names_user():
    error = graph_error_from_response(404, {}, graph_body("NotFound", "nope"), user_id="pat@contoso.com")
    assert "'pat@contoso.com'" in str(error) and "object id" in str(error)


def test_non_json_body_from_proxy():
    html = b"<html><body><h1>502 Bad Gateway</h1>" + b"x" * 500 + b"</body></html>"
    error = graph_error_from_response(502, {"Content-Type": "text/html", "request-id": "r9"}, html)
    assert error.code == "HTTP502"
    assert "text/html" in str(error) and "502 Bad Gateway" in str(error)
    assert len(str(error)) < 500
    assert error.request_id == "r9"
    assert not is_permanent(error)


def test_batch_item_body_is_a_dict():
    body = json.loads(graph_body("TooManyRequests", "slow down"))
    error = graph_error_from_response(429, {"Retry-After": "3"}, body, retry_after=3.0)
    assert (error.code, error.retry_after) == ("TooManyRequests", 3.0)


def test_empty_body():
    error = graph_error_from_response(504, None, b"")
    assert error.status == 504 and not is_permanent(error)


def test_authentication_error_from_msal_dict():
    result = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c",
        "error_codes": [7000215],
        "correlation_id": "corr-1",
    }
    error = authentication_error_from_msal(result)
    assert isinstance(error, AuthenticationError)
    assert error.aadsts_code == "AADSTS7000215"
    assert str(error) == (
        "Entra ID refused the token request: invalid_client: AADSTS7000215: Invalid client secret provided. "
        "(correlation id corr-1)"
    )
    assert is_permanent(error)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(
            AuthenticationError("invalid_client", "AADSTS7000222: expired", error_codes=[7000222]),
            "AADSTS7000222",
            id="both",
        ),
        pytest.param(AuthenticationError("invalid_grant", "", error_codes=[700082]), "AADSTS700082", id="codes only"),
        pytest.param(
            AuthenticationError("invalid_client", "AADSTS700027: Client assertion failed"), "AADSTS700027", id="text"
        ),
        pytest.param(
            AuthenticationError("invalid_authority", "Unable to get authority configuration"), None, id="none"
        ),
        pytest.param(AuthenticationError("invalid_client", "AADSTSxyz: not a code"), None, id="no number"),
    ],
)
def test_aadsts_code_reads_error_codes_then_the_description(error, code):
    assert error.aadsts_code == code


def test_entra_outage_is_transient():
    assert not is_permanent(authentication_error_from_msal({"error": "temporarily_unavailable"}))


def test_retries_exhausted_says_what_and_how_long():
    last = graph_error_from_response(503, {}, graph_body("ServiceUnavailable", "busy"))
    error = RetriesExhaustedError("createOrGet external_id=e1", 7, 63.25, last)
    assert str(error).startswith("createOrGet external_id=e1 gave up after 7 attempts and 63.2s of waiting")
    assert "503 ServiceUnavailable" in str(error)
    assert not is_permanent(error)


def test_plain_exceptions_are_not_permanent():
    assert not is_permanent(ConnectionError("reset"))


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        (GraphAPIError(404, "ErrorItemNotFound", "The specified object was not found in the store."), True),
        (graph_error_from_response(404, {}, graph_body("NotFound", "gone")), True),
        (GraphAPIError(403, "Forbidden", "no"), False),
        (GraphAPIError(410, "Gone", "x"), False),
        (None, False),  # a batch item that succeeded
        (ConnectionError("reset"), False),
    ],
    ids=["404", "404 parsed", "403", "410", "none", "no answer"],
)
def test_is_not_found_is_a_graph_404_only(error, gone):
    """The one test of "404 means already gone" that meetings/ and events/ share (DELETE, cancel)."""
    assert is_not_found(error) is gone


@pytest.mark.parametrize(
    ("error", "fields"),
    [
        pytest.param(None, {"error": None, "error_status": None, "error_code": None, "permanent": None}, id="ok"),
        pytest.param(
            GraphAPIError(403, "Forbidden", "no policy"),
            {"error": "Microsoft Graph answered 403 Forbidden: no policy", "error_status": 403},
            id="graph",
        ),
        pytest.param(
            RetriesExhaustedError("createOrGet external_id=e1", 3, 4.0, GraphAPIError(429, "TooManyRequests", "slow")),
            {"error_status": 429, "error_code": "TooManyRequests", "permanent": False},
            id="exhausted",
        ),
        pytest.param(
            ConnectionResetError("peer"),
            {"error": "peer", "error_status": None, "error_code": None, "permanent": False},
            id="network",
        ),
    ],
)
def test_error_fields_of_a_bulk_item(error, fields):
    got = error_fields(error)
    assert set(got) == {"error", "error_status", "error_code", "permanent"}
    assert {key: got[key] for key in fields} == fields
    if isinstance(error, GraphAPIError):
        assert got["error_code"] == "Forbidden" and got["permanent"] is True
    json.dumps(got)  # XCom: plain JSON


@pytest.mark.parametrize(
    ("error", "text"),
    [
        pytest.param(GraphAPIError(429, "TooManyRequests", "slow down"), "429 TooManyRequests", id="graph"),
        pytest.param(
            AuthenticationError("temporarily_unavailable", "AADSTS50196: loop\nTrace ID: x", permanent=False),
            "temporarily_unavailable AADSTS50196: loop",
            id="entra",
        ),
        pytest.param(ConnectionResetError("peer"), "ConnectionResetError", id="network"),
    ],
)
def test_describe_error(error, text):
    assert describe_error(error) == text


def test_authentication_error_hinted_copied_and_pickled_keeps_its_facts():
    error = AuthenticationError(
        "invalid_grant",
        "AADSTS70008: The refresh token has expired.\r\nTrace ID: x",
        error_codes=[70008],
        correlation_id="c-1",
        status=400,
    )
    hinted = error.with_hint("Sign in again")
    assert str(hinted) == str(error) + ". Sign in again"
    assert error.hint is None  # the original is unchanged
    for again in (hinted.with_hint("Run login"), pickle.loads(pickle.dumps(hinted))):
        assert (again.error, again.aadsts_code, again.error_codes, again.correlation_id, again.status) == (
            "invalid_grant",
            "AADSTS70008",
            [70008],
            "c-1",
            400,
        )
        assert str(again).count("Entra ID refused") == 1
    assert str(hinted.with_hint("Run login")).endswith("(correlation id c-1). Run login")
