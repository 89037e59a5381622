"""The connection check's pure parts: reading claims, the permission rule, the report, scrubbing."""

from __future__ import annotations

import base64
import json

import pytest

from airflow_provider_meetings.diagnostics import check as cc
from airflow_provider_meetings.graph.errors import AuthenticationError
from airflow_provider_meetings.graph.settings import parse_connection


def jwt_of(claims: object) -> str:
    def part(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def settings(**extra: object):
    return parse_connection(
        login="8a2d4c6e-1b3f-4e5a-9c7d-2f4b6d8e0a13",
        password="a-secret-value",
        host=None,
        extra={"tenant_id": "contoso.example", **extra},
    )


def check_with(claims: dict | None, **extra: object) -> cc._Check:
    check = cc._Check(hook=None)  # type: ignore[arg-type]  # steps 3 and 4 read only settings and claims
    check.settings = settings(**extra)
    check.claims = claims
    check.probe_sent = True  # no Graph request in a unit test
    return check


@pytest.mark.parametrize(
    ("token", "claims"),
    [
        pytest.param(
            jwt_of({"aud": "https://graph.microsoft.com", "roles": ["A"]}),
            {"aud": "https://graph.microsoft.com", "roles": ["A"]},
            id="jwt",
        ),
        pytest.param("opaque-access-token", None, id="not a jwt"),
        pytest.param("a.b.c.d.e", None, id="encrypted (jwe)"),
        pytest.param("eyJ0eXAiOiJKV1QifQ.!!!.sig", None, id="bad base64"),
        pytest.param(jwt_of(["not", "an", "object"]), None, id="payload not an object"),
    ],
)
def test_read_claims_without_verifying(token, claims):
    assert cc.read_claims(token) == claims


@pytest.mark.parametrize(
    ("claims", "delegated", "outcome"),
    [
        pytest.param({"roles": ["OnlineMeetings.ReadWrite.All"]}, False, "passed", id="app role"),
        pytest.param({"roles": ["onlinemeetings.readwrite.all"]}, False, "passed", id="case-insensitive"),
        pytest.param({}, False, "permission_missing", id="no roles claim"),
        pytest.param({"roles": ["OnlineMeetings.Read.All"]}, False, "permission_missing", id="read only"),
        pytest.param({"scp": "OnlineMeetings.ReadWrite"}, False, "permission_missing", id="delegated scope on app"),
        pytest.param({"scp": "User.Read OnlineMeetings.ReadWrite"}, True, "passed", id="delegated scope"),
        pytest.param({"scp": "User.Read"}, True, "scope_missing", id="delegated without scope"),
        pytest.param(None, False, "skipped", id="not a jwt"),
    ],
)
def test_permission_rule(claims, delegated, outcome):
    check = check_with(claims, **({"refresh_token": "a-refresh-token"} if delegated else {}))
    try:
        result = cc.step_permission(check)
    except cc._Failed as failure:
        assert failure.problem == outcome
        return
    assert ("skipped" if result.skipped else "passed") == outcome
    if outcome == "skipped":
        assert not check.roles_checked
        assert "not a JWT" in result.message


@pytest.mark.parametrize(
    ("extra", "aud", "problem"),
    [
        pytest.param({}, "https://graph.microsoft.com", None, id="global"),
        pytest.param({}, cc.GRAPH_APP_ID, None, id="graph by app id"),
        pytest.param({"cloud": "usgov"}, "https://graph.microsoft.us", None, id="usgov"),
        pytest.param({"cloud": "usgov"}, "https://graph.microsoft.com", "token_audience", id="token of another cloud"),
        pytest.param({"cloud": "dod"}, None, None, id="token not readable"),
    ],
)
def test_audience_rule_without_graph(extra, aud, problem):
    check = check_with({"aud": aud} if aud else None, **extra)
    try:
        cc.step_audience(check)
    except cc._Failed as failure:
        assert failure.problem == problem
        return
    assert problem is None


def test_host_of_another_cloud_fails_before_any_request():
    check = check_with(None)
    check.settings = parse_connection(
        login="app", password="a-secret-value", host="https://dod-graph.microsoft.us", extra={"tenant_id": "t"}
    )
    with pytest.raises(cc._Failed) as failed:
        cc.step_audience(check)
    assert failed.value.problem == "cloud_mismatch"
    assert "set the extra cloud to 'dod'" in failed.value.fix


@pytest.mark.parametrize(
    ("error", "number"),
    [
        pytest.param(
            AuthenticationError("invalid_client", "AADSTS7000222: expired", error_codes=[7000222]), 7000222, id="codes"
        ),
        pytest.param(AuthenticationError("invalid_client", "AADSTS700027: Client assertion failed"), 700027, id="text"),
        pytest.param(
            AuthenticationError("invalid_authority", "Unable to get authority configuration"), None, id="none"
        ),
    ],
)
def test_aadsts_number(error, number):
    assert cc._aadsts(error) == number


def test_proxy_is_named_without_its_credentials():
    named = cc._proxy_for(settings(proxies={"https": "http://svc-user:pr0xy-Secret@proxy.corp:3128"}))

    assert named == "proxy.corp:3128 (from the extra proxies)"


def test_scrub_replaces_every_secret():
    assert cc._scrub("a s3cret-value and token-abc", ["s3cret-value", "token-abc", ""]) == "a *** and ***"
    assert cc._scrub(None, ["x"]) is None


def report(*statuses: cc.Status) -> cc.CheckReport:
    steps = tuple(
        cc.StepResult(
            n,
            key,
            title,
            status,
            "" if status is cc.Status.NOT_RUN else f"finding {n}.",
            "do this." if status is cc.Status.FAILED else None,
            "some_problem" if status is cc.Status.FAILED else None,
        )
        for n, ((key, title, _), status) in enumerate(zip(cc.STEPS, statuses, strict=True), start=1)
    )
    return cc.CheckReport("meetings", steps)


def test_report_of_a_failure():
    failed = report(cc.Status.PASSED, cc.Status.FAILED, *[cc.Status.NOT_RUN] * 3)

    assert not failed.ok and failed.failure is failed.steps[1]
    assert failed.summary() == "Check 2/5 (Access token from Entra ID) failed: finding 2. Fix: do this."
    data = failed.to_json()
    assert (data["ok"], data["failed_step"], data["problem"]) == (False, "token", "some_problem")
    assert [s["status"] for s in data["steps"]] == ["passed", "failed", "not run", "not run", "not run"]
    lines = cc.report_lines(failed)
    assert lines[3:6] == ["2. Access token from Entra ID: FAILED", "   finding 2.", "   Fix: do this."]
    assert lines[-1] == "FAILED at check 2 (Access token from Entra ID): some_problem."


def test_report_of_a_pass_with_a_skipped_step():
    passed = report(*[cc.Status.PASSED] * 4, cc.Status.SKIPPED)

    assert passed.ok
    assert (
        passed.summary() == "All 5 checks passed. 1. finding 1. 2. finding 2. 3. finding 3. 4. finding 4. 5. finding 5."
    )
    assert cc.report_lines(passed)[-1] == "OK: the connection 'meetings' passed every check."


def test_long_lines_keep_commands_whole():
    step = cc.StepResult(
        1, "x", "X", cc.Status.FAILED, "m.", "Run New-CsApplicationAccessPolicy -Identity " + "a " * 60, "p"
    )
    lines = cc.report_lines(cc.CheckReport("c", (step,)), width=60)

    assert any("New-CsApplicationAccessPolicy" in line for line in lines)
    assert all(len(line) <= 60 for line in lines[1:-1])
