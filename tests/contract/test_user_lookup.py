"""The organizer lookup (``GET /users/{upn}?$select=id``) checked against Microsoft's own user model.

A lookup has no body; what it names is the ``$select`` list, so every selected property must
be one the API version's ``user`` defines (Graph answers 400 for an unknown one).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_meetings.graph.batch import build_batch_payload
from airflow_provider_meetings.meetings.organizers import LOOKUP_SELECT, lookup_request, with_object_id
from airflow_provider_meetings.meetings.request import API_VERSIONS, MeetingSpec, prepare_request

ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
UPNS = ["adelev@contoso.example", "o'brien+teams@contoso.example"]
BATCH_REQUEST_KEYS = {"id", "method", "url", "headers", "body", "dependsOn"}


def selected(path: str) -> list[str]:
    (select,) = parse_qs(urlsplit(path).query)["$select"]
    return select.split(",")


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("upn", UPNS)
def test_lookup_selects_properties_of_the_user_model(graph_contract, api_version, upn):
    request = lookup_request(upn)
    assert (request.method, request.body) == ("GET", None)
    assert urlsplit(request.path).path == "users/" + upn.replace("@", "%40").replace("'", "%27").replace("+", "%2B")
    user = graph_contract.properties("user", api_version)
    assert selected(request.path) == list(LOOKUP_SELECT) == ["id"]
    assert all(name in user for name in selected(request.path))


def test_an_unknown_property_would_fail_the_oracle(graph_contract):
    # The check above can fail: the oracle knows which names the user model lacks.
    assert "objectId" not in graph_contract.properties("user", "v1.0")


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_lookups_as_batch_items_have_no_body_and_no_headers(graph_contract, api_version):
    payload = build_batch_payload([(i, lookup_request(upn)) for i, upn in enumerate(UPNS)])
    user = graph_contract.properties("user", api_version)
    for request in payload["requests"]:
        assert set(request) == {"id", "method", "url"} <= BATCH_REQUEST_KEYS
        assert request["method"] == "GET" and request["url"].startswith("/users/")
        assert all(name in user for name in selected(request["url"]))


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_the_resolved_request_is_the_object_id_request(graph_contract, api_version):
    by_upn = prepare_request(MeetingSpec("x", user_id=UPNS[0], subject="S"), api_version=api_version)
    by_id = prepare_request(MeetingSpec("x", user_id=ORGANIZER, subject="S"), api_version=api_version)

    resolved = with_object_id(by_upn, ORGANIZER)

    assert resolved == by_id
    graph_contract.check(resolved.body, "createOrGetPostRequestBody", api_version)
