"""Reading the check's own access token without verifying it."""

from __future__ import annotations

import pytest

from airflow_provider_meetings.diagnostics.claims import (
    claim_name,
    granted,
    holds,
    names,
    read_claims,
    signed_in_user_id,
)

OID = "6e8d2b1a-3c4f-4a5b-9d7e-1f2a3b4c5d6e"


@pytest.mark.parametrize(
    ("claims", "readable"),
    [
        pytest.param({"aud": "https://graph.microsoft.com", "roles": ["A"]}, True, id="jwt"),
        pytest.param(["not", "an", "object"], False, id="payload not an object"),
    ],
)
def test_read_claims_of_a_jwt(jwt_of, claims, readable):
    assert read_claims(jwt_of(claims)) == (claims if readable else None)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("opaque-access-token", id="not a jwt"),
        pytest.param("a.b.c.d.e", id="encrypted (jwe)"),
        pytest.param("eyJ0eXAiOiJKV1QifQ.!!!.sig", id="bad base64"),
    ],
)
def test_unreadable_tokens_have_no_claims(token):
    assert read_claims(token) is None


def test_permission_names_of_scp_and_roles():
    assert names("User.Read OnlineMeetings.ReadWrite") == ["User.Read", "OnlineMeetings.ReadWrite"]
    assert names(["OnlineMeetings.ReadWrite.All"]) == ["OnlineMeetings.ReadWrite.All"]
    assert names(None) == []
    assert holds(["onlinemeetings.readwrite.all"], "OnlineMeetings.ReadWrite.All")


@pytest.mark.parametrize(
    ("claims", "user"),
    [
        pytest.param({"oid": OID}, OID, id="oid"),
        pytest.param({"oid": "not-a-guid"}, None, id="not an object id"),
        pytest.param({}, None, id="no oid"),
        pytest.param(None, None, id="token not readable"),
    ],
)
def test_signed_in_user_is_the_oid_claim(claims, user):
    assert signed_in_user_id(claims) == user


# -- granted(): the one reading of a token's permissions -----------------------------------------


@pytest.mark.parametrize(
    ("claims", "delegated", "expected"),
    [
        pytest.param({"roles": ["A.Read.All", "B"], "scp": "C D"}, False, ["A.Read.All", "B"], id="app: roles"),
        pytest.param({"roles": ["A.Read.All"], "scp": "C D"}, True, ["C", "D"], id="delegated: scp"),
        pytest.param({"scp": "C"}, False, [], id="app without roles"),
        pytest.param({}, True, [], id="delegated without scp"),
        pytest.param(None, True, [], id="no readable token"),
    ],
)
def test_granted_reads_the_claim_of_the_tokens_kind(claims, delegated, expected):
    assert granted(claims, delegated) == expected
    assert claim_name(delegated) == ("scp" if delegated else "roles")


def test_holds_compares_without_case():
    carried = granted({"scp": "onlinemeetings.readwrite User.Read"}, delegated=True)

    assert holds(carried, "OnlineMeetings.ReadWrite") and not holds(carried, "Calendars.ReadWrite")
