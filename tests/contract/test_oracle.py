"""The oracle itself: it must be able to fail, and name where."""

from __future__ import annotations

import pytest
from graph_models import ContractViolation

VERSIONS = ("v1.0", "beta")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(
            {"externalId": "x", "title": "t"},
            "title is not a property of createOrGetPostRequestBody in {v}",
            id="top-level",
        ),
        pytest.param(
            {"externalId": "x", "participants": {"attendees": [{"upn": "a", "email": "a"}]}},
            "participants.attendees[0].email is not a property of meetingParticipantInfo in {v}",
            id="in-a-list",
        ),
        pytest.param(
            {"externalId": "x", "participants": {"organizer": {"identity": {"user": {"mail": "a"}}}}},
            "participants.organizer.identity.user.mail is not a property of identity in {v}",
            id="deep",
        ),
        pytest.param({"externalId": 5}, "externalId: expected str, got int 5", id="wrong-primitive"),
        pytest.param(
            {"externalId": "x", "startDateTime": "tomorrow"},
            "startDateTime: 'tomorrow' is not an ISO-8601 date-time",
            id="bad-datetime",
        ),
        pytest.param(
            {"externalId": "x", "participants": {"attendees": {}}},
            "participants.attendees: expected a list, got dict",
            id="not-a-list",
        ),
        pytest.param(
            {"externalId": "x", "participants": []},
            "participants: expected a meetingParticipants object, got list",
            id="not-an-object",
        ),
    ],
)
def test_violations_name_the_path(graph_contract, version, body, problem):
    assert graph_contract.violations(body, "createOrGetPostRequestBody", version) == [problem.format(v=version)]
    with pytest.raises(ContractViolation, match="is not|expected"):
        graph_contract.check(body, "createOrGetPostRequestBody", version)


def test_producers_exist_only_in_beta(graph_contract):
    body = {"externalId": "x", "participants": {"producers": [{"upn": "a@contoso.example"}]}}
    assert graph_contract.violations(body, "createOrGetPostRequestBody", "beta") == []
    with pytest.raises(
        ContractViolation, match=r"^participants\.producers is not a property of meetingParticipants in v1\.0$"
    ):
        graph_contract.check(body, "createOrGetPostRequestBody", "v1.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_enums_and_derived_types(graph_contract, version):
    ok = {"allowedPresenters": "organizer", "participants": {"attendees": [{"role": "presenter"}]}}
    assert graph_contract.violations(ok, "onlineMeeting", version) == []
    assert graph_contract.violations({"allowedPresenters": "nobody"}, "onlineMeeting", version)[0].startswith(
        "allowedPresenters: 'nobody' is not a value of onlineMeetingPresenters"
    )
    derived = {"user": {"@odata.type": "#microsoft.graph.communicationsUserIdentity", "id": "x", "tenantId": "t"}}
    assert graph_contract.violations(derived, "identitySet", version) == []
    assert graph_contract.violations({"user": {"id": "x", "tenantId": "t"}}, "identitySet", version) == [
        f"user.tenantId is not a property of identity in {version}"
    ]
