"""OnlineMeetingsHook through real MSAL and real HTTPS against the emulator."""

from __future__ import annotations

import email.utils
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from reliability_testlib import record_sleeps

from airflow_provider_meetings.graph.errors import (
    ApplicationAccessPolicyError,
    AuthenticationError,
    ConnectionConfigError,
    GraphAPIError,
    RetriesExhaustedError,
)

pytestmark = pytest.mark.integration

WRONG_SECRET = "wrong-secret-Zq8~value-that-must-not-leak"


def created_meetings(emu: Any) -> list[dict[str, Any]]:
    return emu.meetings()


# -- creating and reusing ---------------------------------------------------------------------


def test_first_call_creates_then_same_external_id_returns_same_meeting(make_hook, graph_emulator):
    hook = make_hook()
    first = hook.create_or_get_meeting("standup-2026-11-28", subject="Stand-up")
    second = hook.create_or_get_meeting("standup-2026-11-28", subject="Changed subject")

    assert (first.created, second.created) == (True, False)
    assert second.meeting["id"] == first.meeting["id"]
    assert first.join_url.startswith("https://")
    assert second.meeting["subject"] == "Stand-up"  # createOrGet does not update
    stored = created_meetings(graph_emulator)
    assert [(m["external_id"], m["user_id"]) for m in stored] == [
        ("standup-2026-11-28", graph_emulator.default_user_id)
    ]
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"201": 1, "200": 1}


def test_explicit_user_is_the_organizer(make_hook, graph_emulator):
    alex = graph_emulator.user("alexw")
    result = make_hook().create_or_get_meeting("review-1", user_id=alex["id"])

    assert [m["user_id"] for m in created_meetings(graph_emulator)] == [alex["id"]]
    assert result.meeting["participants"]["organizer"]["identity"]["user"]["id"] == alex["id"]


def test_same_external_id_for_two_users_makes_two_meetings(make_hook, graph_emulator):
    hook = make_hook()
    a = hook.create_or_get_meeting("shared-key")
    b = hook.create_or_get_meeting("shared-key", user_id=graph_emulator.user("meganb")["id"])

    assert a.created and b.created and a.meeting_id != b.meeting_id


def test_body_fields_reach_graph(make_hook, graph_emulator):
    result = make_hook().create_or_get_meeting(
        "planning-q4",
        subject="Planning",
        start_date_time="2026-11-28T10:00:00+01:00",
        end_date_time="2026-11-28T11:30:00+01:00",
        participants={"attendees": [graph_emulator.user("alexw")["userPrincipalName"]]},
    )
    meeting = result.meeting
    assert meeting["subject"] == "Planning"
    assert meeting["startDateTime"].startswith("2026-11-28T09:00:00")
    assert meeting["endDateTime"].startswith("2026-11-28T10:30:00")
    assert meeting["externalId"] == "planning-q4"


def test_delegated_refresh_token_uses_me(make_hook, graph_emulator):
    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None)
    result = hook.create_or_get_meeting("delegated-1")
    hook.create_or_get_meeting("delegated-2")

    organizer = graph_emulator.user("adelev")["id"]  # the refresh token's user
    assert result.created
    assert [m["user_id"] for m in created_meetings(graph_emulator)] == [organizer, organizer]
    assert graph_emulator.stats()["token_requests"] == 1


# -- tokens -------------------------------------------------------------------------------


def test_many_calls_cost_one_token_request(make_hook, graph_emulator):
    hook = make_hook()
    for n in range(5):
        hook.create_or_get_meeting(f"series-{n}")

    stats = graph_emulator.stats()
    assert stats["token_requests"] == 1
    assert stats["by_route"]["createOrGet"] == {"201": 5}


@pytest.mark.parametrize("mode", ["app", "delegated"])
def test_access_tokens_are_masked_in_logs(make_hook, graph_emulator, mode):
    from airflow.sdk._shared.secrets_masker import redact

    extras = {"refresh_token": graph_emulator.refresh_token} if mode == "delegated" else {}
    token = make_hook(**extras).get_access_token()

    assert redact(f"Bearer {token}") == "Bearer ***"


@pytest.fixture(scope="module")
def short_token_emulator():
    """Tokens living 200 s: fewer than the 5 minutes a cached token must have left."""
    from meetings_emulator import run_emulator

    with run_emulator(token_lifetime=200) as emu:
        yield emu


@pytest.mark.parametrize("mode", ["app", "delegated"])
def test_token_close_to_expiry_is_renewed(make_hook, short_token_emulator, mode):
    extras = {"refresh_token": short_token_emulator.refresh_token} if mode == "delegated" else {}
    hook = make_hook(short_token_emulator, **extras)
    before = short_token_emulator.stats()["token_requests"]
    for n in range(3):
        hook.create_or_get_meeting(f"short-{mode}-{n}")

    assert short_token_emulator.stats()["token_requests"] - before == 3


def test_expired_token_mid_run_is_refreshed_once(make_hook, graph_emulator, hook_logs):
    hook = make_hook()
    hook.create_or_get_meeting("before-expiry")
    graph_emulator.expire_tokens()
    result = hook.create_or_get_meeting("after-expiry")

    assert result.created
    stats = graph_emulator.stats()
    assert stats["token_requests"] == 2
    assert stats["by_route"]["createOrGet"] == {"201": 2, "401": 1}
    assert "401 InvalidAuthenticationToken, getting a fresh token" in hook_logs.text


def test_second_401_in_a_row_is_raised(make_hook):
    from meetings_emulator import run_emulator

    # Tokens that are expired the moment they are issued: the fresh token fails too.
    with run_emulator(token_lifetime=0) as emu:
        hook = make_hook(emu)
        with pytest.raises(GraphAPIError) as caught:
            hook.create_or_get_meeting("never")
        assert (caught.value.status, caught.value.code) == (401, "InvalidAuthenticationToken")
        assert emu.stats()["token_requests"] == 2
        assert emu.stats()["by_route"]["createOrGet"] == {"401": 2}


# -- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pem", "with_password", "with_thumbprint"),
    [
        pytest.param("plain", False, False, id="key+cert, thumbprint computed"),
        pytest.param("encrypted", True, False, id="encrypted key with private_key_password"),
        pytest.param("plain", False, True, id="thumbprint from extra"),
    ],
)
def test_certificate_credential(make_hook, graph_emulator, certificate_files, pem, with_password, with_thumbprint):
    graph_emulator.add_certificate(certificate_files["cert_pem"])
    extras: dict[str, Any] = {"password": None, "certificate_path": certificate_files["paths"][pem]}
    if with_password:
        extras["private_key_password"] = certificate_files["password"]
    if with_thumbprint:
        extras["certificate_thumbprint"] = certificate_files["thumbprint"]
    hook = make_hook(**extras)

    assert hook.create_or_get_meeting("cert-meeting").created
    assert graph_emulator.stats()["token_requests"] == 1


@pytest.mark.parametrize(
    ("pem", "extras", "field", "text"),
    [
        pytest.param("missing", {}, "certificate_path", "cannot read", id="file missing"),
        pytest.param("cert_only", {}, "certificate_path", "no PEM private key", id="no key in file"),
        pytest.param("encrypted", {}, "private_key_password", "is required", id="encrypted key without password"),
        pytest.param(
            "encrypted",
            {"private_key_password": "not-the-passphrase"},
            "private_key_password",
            "wrong password",
            id="wrong password",
        ),
    ],
)
def test_unusable_certificate_is_a_config_error(make_hook, graph_emulator, certificate_files, pem, extras, field, text):
    path = certificate_files["paths"].get(pem, "/nonexistent/app.pem")
    hook = make_hook(password=None, certificate_path=path, **extras)

    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("cert-meeting")
    assert caught.value.field == field
    assert text in str(caught.value) and path in str(caught.value)
    key_body = certificate_files["key_pem"].splitlines()[1]
    assert key_body not in str(caught.value)
    assert graph_emulator.stats()["token_requests"] == 0


def test_federated_credential_rereads_the_rotating_token_file(
    make_hook, graph_emulator, tmp_path, monkeypatch, write_federated_token
):
    issuer, subject = "https://oidc.example/cluster-1", "system:serviceaccount:airflow:worker"
    graph_emulator.add_federated_credential(issuer, subject)
    token_file = tmp_path / "azure-identity-token"
    write_federated_token(token_file, issuer=issuer, subject=subject)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    hook = make_hook(password=None)  # no secret, no certificate: the environment's token file
    assert hook.settings.credential_kind == "federated"

    assert hook.create_or_get_meeting("federated-1").created

    token_file.unlink()  # rotation in progress: the next token request must read the file
    hook.invalidate_token()
    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("federated-2")
    assert caught.value.field == "federated_token_file"

    write_federated_token(token_file, issuer=issuer, subject=subject)
    assert hook.create_or_get_meeting("federated-2").created
    assert graph_emulator.stats()["token_requests"] == 2


def test_wrong_secret_is_an_authentication_error_without_the_secret(make_hook, graph_emulator, hook_logs):
    hook = make_hook(password=WRONG_SECRET)

    with pytest.raises(AuthenticationError) as caught:
        hook.create_or_get_meeting("never")
    error = caught.value
    assert error.permanent and error.error == "invalid_client"
    assert error.aadsts_code == "AADSTS7000215"
    assert "AADSTS7000215" in str(error)
    assert WRONG_SECRET not in str(error) and WRONG_SECRET not in repr(error)
    assert WRONG_SECRET not in hook_logs.text and WRONG_SECRET not in repr(hook)
    assert graph_emulator.stats()["graph_requests"] == 0


# -- errors from Graph -----------------------------------------------------------------------


def test_user_without_access_policy(make_hook, graph_emulator):
    nopolicy = graph_emulator.user("nopolicy")["id"]

    with pytest.raises(ApplicationAccessPolicyError) as caught:
        make_hook().create_or_get_meeting("no-policy", user_id=nopolicy)
    text = str(caught.value)
    assert caught.value.status == 403 and caught.value.permanent
    assert nopolicy in text and "Grant-CsApplicationAccessPolicy" in text
    assert graph_emulator.stats()["by_route"]["createOrGet"] == {"403": 1}  # not retried


def test_a_400_is_raised_without_retry(make_hook, graph_emulator):
    graph_emulator.script(400)

    with pytest.raises(GraphAPIError) as caught:
        make_hook().create_or_get_meeting("bad")
    assert (caught.value.status, caught.value.code, caught.value.permanent) == (400, "UnknownError", True)
    assert caught.value.request_id
    assert graph_emulator.stats()["graph_requests"] == 1


@pytest.mark.parametrize("status", [408, 500])
def test_408_and_500_are_transient_as_in_bulk(make_hook, graph_emulator, hook_logs, status):
    """One rule for single and bulk calls: a 408 or a 500 is retried, and when it outlasts
    the bound the error is transient, so the operator lets task retries apply."""
    graph_emulator.script(status, times=3)
    hook = make_hook(max_retries=2, max_retry_wait=5)

    with pytest.raises(RetriesExhaustedError) as caught:
        hook.create_or_get_meeting("server-error")
    assert not caught.value.permanent and caught.value.status == status
    assert graph_emulator.stats()["graph_requests"] == 3
    assert hook_logs.text.count(f"createOrGet external_id=server-error: {status} ") == 2

    graph_emulator.script(status)
    assert hook.create_or_get_meeting("server-error").created


# -- retries --------------------------------------------------------------------------------


def http_date_in(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


@pytest.mark.parametrize(
    ("fault", "log_text"),
    [
        pytest.param(
            {"status": 429, "retry_after": "1"},
            "429 TooManyRequests, throttled, retry in 1.0s (Retry-After), 299.0s of 300s waiting left",
            id="429 Retry-After seconds",
        ),
        pytest.param(
            {"status": 429, "retry_after": "http-date"},
            "429 TooManyRequests, throttled, retry in",
            id="429 Retry-After HTTP-date",
        ),
        pytest.param(
            {"status": 503, "retry_after": "1"},
            "503 ServiceNotAvailable, retry 1/6 in 1.0s (Retry-After)",
            id="503 Retry-After",
        ),
        pytest.param({"status": 504}, "504 GatewayTimeout, retry 1/6 in", id="504 backoff"),
        pytest.param({"status": 502, "kind": "non_json"}, "502 HTTP502, retry 1/6 in", id="502 proxy page"),
        pytest.param("drop", "connection dropped, retry 1/6 in", id="dropped connection"),
    ],
)
def test_transient_failures_are_retried_and_logged(make_hook, graph_emulator, hook_logs, fault, log_text):
    if isinstance(fault, dict) and fault.get("retry_after") == "http-date":
        fault = {**fault, "retry_after": http_date_in(2)}
    graph_emulator.script(fault)
    hook = make_hook(timeout=5)
    slept = record_sleeps(hook)

    result = hook.create_or_get_meeting("flaky")

    assert result.created
    assert "createOrGet external_id=flaky: " + log_text in hook_logs.text
    assert len(slept) == 1 and 0.4 <= slept[0] <= 2.0
    assert graph_emulator.stats()["faults_applied"] == 1


def test_timeout_is_retried(make_hook, graph_emulator, hook_logs):
    graph_emulator.script("slow", seconds=1.5)
    hook = make_hook(timeout=0.5)

    result = hook.create_or_get_meeting("slow-one")
    assert "createOrGet external_id=slow-one: timed out, retry 1/6 in" in hook_logs.text
    # Let the abandoned slow request finish here rather than in the next test's counters.
    deadline = time.monotonic() + 3
    while graph_emulator.stats()["graph_requests"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # The abandoned request or the retry created it (which one depends on timing): once.
    assert [m["meeting"]["id"] for m in created_meetings(graph_emulator)] == [result.meeting_id]


def test_retry_after_fault_applied_after_creation_still_reports_the_meeting(make_hook, graph_emulator):
    # The meeting is created, then the answer is lost: the retry gets it back (200).
    graph_emulator.script(504, when="after", retry_after="1")
    result = make_hook().create_or_get_meeting("lost-answer")

    assert result.created is False
    assert [m["external_id"] for m in created_meetings(graph_emulator)] == ["lost-answer"]


def test_throttling_spends_the_waiting_budget_not_the_attempts(make_hook, graph_emulator, hook_logs):
    """429s do not use up max_retries; the call stops when the next Retry-After no longer
    fits into what is left of max_retry_wait, without sleeping it first."""
    graph_emulator.script({"status": 429, "retry_after": "1"}, times=10)
    hook = make_hook(max_retries=1, max_retry_wait=2.5)
    waits = record_sleeps(hook)

    with pytest.raises(RetriesExhaustedError) as caught:
        hook.create_or_get_meeting("throttled")

    error = caught.value
    assert (error.attempts, error.waited, error.asked_wait) == (3, 2.0, 1.0)
    assert not error.permanent
    assert isinstance(error.last_error, GraphAPIError) and error.last_error.status == 429
    assert "createOrGet external_id=throttled gave up after 3 attempts and 2.0s of waiting" in str(error)
    assert "asked to wait 1.0s more, beyond max_retry_wait" in str(error)
    assert waits == [1.0, 1.0]  # and not a third wait before giving up
    assert hook_logs.text.count("429 TooManyRequests, throttled, retry in 1.0s") == 2


def test_a_retry_after_beyond_the_budget_fails_at_once(make_hook, graph_emulator):
    graph_emulator.script({"status": 429, "retry_after": "3600"})
    hook = make_hook(max_retry_wait=20)

    slept = record_sleeps(hook)
    with pytest.raises(RetriesExhaustedError) as caught:
        hook.create_or_get_meeting("long-pause")
    assert slept == []  # neither the hour nor what is left of max_retry_wait
    assert (caught.value.attempts, caught.value.waited, caught.value.asked_wait) == (1, 0.0, 3600.0)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 503, "retry_after": "1"}, id="token endpoint 503"),
        pytest.param("drop", id="token endpoint dropped connection"),
    ],
)
def test_token_endpoint_outage_is_retried(make_hook, graph_emulator, hook_logs, fault):
    graph_emulator.script(fault, target="token")

    assert make_hook().create_or_get_meeting("after-outage").created
    assert "token request: " in hook_logs.text and "retry 1/6 in" in hook_logs.text
    assert graph_emulator.stats()["token_requests"] >= 1


# -- TLS ----------------------------------------------------------------------------------


@pytest.fixture
def wrong_ca_bundle(tmp_path: Path) -> str:
    import trustme

    path = tmp_path / "unrelated-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_connection_verify_path_wins_over_ca_bundle_environment(
    make_hook, graph_emulator, monkeypatch, wrong_ca_bundle, variable
):
    monkeypatch.setenv(variable, wrong_ca_bundle)

    assert make_hook().create_or_get_meeting("tls-pinned").created  # verify=<emulator CA> (default)


def test_ca_bundle_environment_applies_when_verify_is_true(make_hook, monkeypatch, wrong_ca_bundle):
    """Control for the test above: the wrong bundle really breaks TLS when it is not overridden.

    An untrusted certificate is a configuration error, raised at once rather than retried.
    """
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wrong_ca_bundle)
    hook = make_hook(verify=True)
    hook.sleep = lambda seconds: pytest.fail(f"an untrusted certificate was retried ({seconds}s wait)")

    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("tls-env")
    assert caught.value.field == "verify" and "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_verify_false_warns_once_and_silences_urllib3(make_hook, hook_logs):
    hook = make_hook(verify=False)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hook.create_or_get_meeting("insecure-1")
        hook.create_or_get_meeting("insecure-2")

    assert [w for w in caught if "Unverified HTTPS" in str(w.message)] == []
    assert hook_logs.text.count("verify=false") == 1


# -- test_connection --------------------------------------------------------------------------


def test_test_connection_success(make_hook, graph_emulator):
    ok, message = make_hook().test_connection()

    assert ok
    for fact in (graph_emulator.client_id, graph_emulator.tenant_id, "global cloud", graph_emulator.url):
        assert fact in message
    # One read-only lookup for the organizer and one read of their calendar's Teams provider
    # (tests/integration/connection_check has the rest).
    assert graph_emulator.stats()["by_route"] == {"listMeetings": {"200": 1}, "getCalendar": {"200": 1}}
    assert graph_emulator.meetings() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"password": WRONG_SECRET}, "AADSTS7000215", id="wrong secret"),
        pytest.param({"tenant_id": "00000000-0000-0000-0000-00000000dead"}, "tenant_id", id="unknown tenant"),
        pytest.param({"login": ""}, "login", id="no client id"),
    ],
)
def test_test_connection_failure(make_hook, overrides, expected):
    ok, message = make_hook(**overrides).test_connection()

    assert not ok
    assert expected in message
    assert WRONG_SECRET not in message
