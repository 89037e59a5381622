"""Every body the provider sends, checked against Microsoft's own models of the API version in use.

The oracle is the official SDK (``msgraph-sdk`` for v1.0, ``msgraph-beta-sdk`` for beta):
see ``graph_models.py``. A property the version does not define would be a 400 from Graph.
"""

from __future__ import annotations

import datetime

import pendulum
import pytest

from airflow_provider_meetings.graph.batch import build_batch_payload
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.meetings.request import (
    API_VERSIONS,
    PARTICIPANT_ROLES_BY_VERSION,
    MeetingSpec,
    build_create_or_get_body,
    prepare_request,
)

ORGANIZER = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c01"
ALEX = "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c02"
CREATE_OR_GET = "createOrGetPostRequestBody"
#: The keys of one request of a JSON batch (https://learn.microsoft.com/graph/json-batching,
#: "Explanation of a batch request format": id, method, url are required; headers, body and
#: dependsOn are optional). The envelope is {"requests": [...]}; no SDK model describes it.
BATCH_ENVELOPE_KEYS = {"requests"}
BATCH_REQUEST_KEYS = {"id", "method", "url", "headers", "body", "dependsOn"}

ATTENDEES = [
    "pat@contoso.example",  # a UPN string
    ALEX,  # an object id string
    {"upn": "megan@contoso.example"},
    {"identity": {"user": {"id": ALEX}}},
    {"upn": "alex@contoso.example", "identity": {"user": {"id": ALEX, "displayName": "Alex"}}, "role": "presenter"},
]


def everything(api_version: str) -> dict:
    """Every optional argument the API version accepts."""
    participants: dict = {"attendees": ATTENDEES, "organizer": {"identity": {"user": {"id": ORGANIZER}}}}
    arguments: dict = {
        "subject": "Office hours",
        "start_date_time": pendulum.datetime(2030, 1, 7, 9, tz="Europe/Paris"),
        "end_date_time": "2030-01-07T09:30:00.1234567+01:00",
        "participants": participants,
    }
    if api_version == "beta":
        participants["producers"] = ["producer@contoso.example"]
        participants["contributors"] = [{"identity": {"user": {"id": ALEX}}}]
        arguments["chat_info"] = {"threadId": "19:meeting_x@thread.v2", "messageId": "0", "replyChainMessageId": "0"}
    return arguments


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_create_or_get_body_with_everything(graph_contract, api_version):
    body = build_create_or_get_body(
        MeetingSpec("office-hours-2030-01-07", **everything(api_version)), api_version=api_version
    )
    assert set(body) >= {"externalId", "subject", "startDateTime", "endDateTime", "participants"}
    graph_contract.check(body, CREATE_OR_GET, api_version)


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(MeetingSpec("minimal"), id="minimal"),
        pytest.param(
            MeetingSpec("start-only", start_date_time=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)),
            id="start-only",
        ),
        pytest.param(
            MeetingSpec("attendee-strings", participants={"attendees": ["a@contoso.example", ALEX]}),
            id="attendee-strings",
        ),
    ],
)
def test_prepared_request_body(graph_contract, api_version, spec):
    prepared = prepare_request(spec, default_user_id=ORGANIZER, api_version=api_version)
    graph_contract.check(prepared.body, CREATE_OR_GET, api_version)


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_batch_payload(graph_contract, api_version):
    specs = [
        MeetingSpec("b-1", **everything(api_version)),
        MeetingSpec("b-2", user_id=ALEX, subject="Second"),
        MeetingSpec("b-3", user_id="megan@contoso.example"),
    ]
    items = [(i, prepare_request(s, default_user_id=ORGANIZER, api_version=api_version)) for i, s in enumerate(specs)]
    payload = build_batch_payload(items)
    assert set(payload) == BATCH_ENVELOPE_KEYS
    for request in payload["requests"]:
        assert set(request) <= BATCH_REQUEST_KEYS and {"id", "method", "url"} <= set(request)
        assert request["headers"]["Content-Type"] == "application/json"  # required with a body
        assert request["url"].endswith("/onlineMeetings/createOrGet") and request["method"] == "POST"
        graph_contract.check(request["body"], CREATE_OR_GET, api_version)


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_participant_roles_are_the_models(graph_contract, api_version):
    model = set(graph_contract.properties("meetingParticipants", api_version)) - {"@odata.type"}
    assert set(PARTICIPANT_ROLES_BY_VERSION[api_version]) == model


@pytest.mark.parametrize(
    "role", sorted(set(PARTICIPANT_ROLES_BY_VERSION["beta"]) - set(PARTICIPANT_ROLES_BY_VERSION["v1.0"]))
)
def test_what_v1_refuses_the_v1_model_lacks(graph_contract, role):
    # The refusal and the oracle agree: the body beta would send fails the v1.0 model.
    body = build_create_or_get_body(MeetingSpec("x", participants={role: [ALEX]}), api_version="beta")
    graph_contract.check(body, CREATE_OR_GET, "beta")
    assert graph_contract.violations(body, CREATE_OR_GET, "v1.0") == [
        f"participants.{role} is not a property of meetingParticipants in v1.0"
    ]
    with pytest.raises(InvalidRequestError, match=f"participants.{role}"):
        build_create_or_get_body(MeetingSpec("x", participants={role: [ALEX]}), api_version="v1.0")
