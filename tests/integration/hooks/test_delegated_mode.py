"""Delegated mode through real MSAL against the emulator: public and confidential clients'
refresh tokens, Entra's refusals with advice, and rotated tokens kept for the next redemption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest

from airflow_provider_meetings.graph.errors import AuthenticationError

pytestmark = pytest.mark.integration


def token_requests(hook: Any) -> list[dict[str, str]]:
    """The forms the hook will send to the token endpoint (recorded as they are answered)."""
    forms: list[dict[str, str]] = []

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        request = response.request
        if request.url.endswith("/oauth2/v2.0/token"):
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            forms.append(dict(parse_qsl(body or "")))

    hook.client.transport.session.hooks["response"].append(record)
    return forms


def access_token_claims(token: str) -> dict[str, Any]:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


def test_public_refresh_token_is_redeemed_without_a_credential(make_hook, graph_emulator):
    import msal

    hook = make_hook(password=None, refresh_token=graph_emulator.public_refresh_token, default_user_id=None)
    sent = token_requests(hook)
    result = hook.create_or_get_meeting("public-client-1")

    assert result.created
    assert graph_emulator.meetings()[0]["user_id"] == graph_emulator.user("adelev")["id"]
    assert isinstance(hook.client.tokens.app, msal.PublicClientApplication)
    [form] = sent
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == graph_emulator.public_refresh_token
    assert not {"client_secret", "client_assertion"} & set(form)
    assert access_token_claims(hook.get_access_token())["appidacr"] == "0"  # a public client
    ok, message = hook.test_connection()
    assert ok and "delegated (refresh token) as a public client" in message


def test_federated_token_file_of_the_environment_does_not_make_it_confidential(
    make_hook, graph_emulator, monkeypatch, tmp_path
):
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("not-a-jwt-and-never-read")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    hook = make_hook(password=None, refresh_token=graph_emulator.public_refresh_token, default_user_id=None)

    assert hook.create_or_get_meeting("public-on-aks").created
    assert hook.settings.public_client


def test_confidential_refresh_token_is_redeemed_with_the_secret(make_hook, graph_emulator):
    import msal

    hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None)
    sent = token_requests(hook)

    assert hook.create_or_get_meeting("confidential-client-1").created
    assert isinstance(hook.client.tokens.app, msal.ConfidentialClientApplication)
    assert sent[0]["client_secret"] == graph_emulator.client_secret


@pytest.mark.parametrize(
    ("overrides", "code", "advice"),
    [
        pytest.param(
            {"public": True},
            "AADSTS700025",
            ["Client is public", "minted by a public client", "remove the client secret (password)"],
            id="public token with a secret",
        ),
        pytest.param(
            {"password": None},
            "AADSTS7000218",
            ["belongs to a confidential client", "client secret as the connection's password", "login --conn-id"],
            id="confidential token without a credential",
        ),
    ],
)
def test_refresh_token_of_the_other_kind_of_client_is_refused_with_advice(
    make_hook, graph_emulator, overrides, code, advice
):
    public = overrides.pop("public", False)
    token = graph_emulator.public_refresh_token if public else graph_emulator.refresh_token
    hook = make_hook(refresh_token=token, default_user_id=None, **overrides)
    hook.sleep = lambda seconds: pytest.fail(f"a permanent refusal was retried ({seconds}s wait)")

    with pytest.raises(AuthenticationError) as caught:
        hook.create_or_get_meeting("never")

    error = caught.value
    assert error.aadsts_code == code and error.permanent
    for fragment in advice:
        assert fragment in str(error)
    assert token not in str(error) and token not in repr(error)
    assert graph_emulator.stats()["token_requests"] == 1
    assert graph_emulator.meetings() == []


@pytest.mark.parametrize("kind", ["public", "confidential"])
def test_expired_refresh_token_says_how_to_re_mint(make_hook, graph_emulator, kind):
    if kind == "public":
        hook = make_hook(password=None, refresh_token=graph_emulator.public_refresh_token, default_user_id=None)
    else:
        hook = make_hook(refresh_token=graph_emulator.refresh_token, default_user_id=None)
    graph_emulator.expire_refresh_tokens()

    with pytest.raises(AuthenticationError) as caught:
        hook.create_or_get_meeting("never")

    text = str(caught.value)
    assert caught.value.aadsts_code == "AADSTS700082"
    assert "refresh token expired" in text and "90 days" in text
    assert f"'airflow-provider-meetings login --conn-id {hook.conn_id}'" in text
    assert "set token_cache_path" in text
    ok, message = hook.test_connection()
    assert not ok and "AADSTS700082" in message and "login --conn-id" in message


@pytest.mark.parametrize("kind", ["public", "confidential"])
def test_the_newest_rotated_refresh_token_is_redeemed_next(make_hook, graph_emulator, kind):
    """One hook: after a 401, the token is renewed with the refresh token the last redemption returned."""
    first = graph_emulator.public_refresh_token if kind == "public" else graph_emulator.refresh_token
    overrides = {"password": None} if kind == "public" else {}
    hook = make_hook(refresh_token=first, default_user_id=None, **overrides)
    sent = token_requests(hook)
    before = set(graph_emulator.issued_refresh_tokens())

    hook.create_or_get_meeting("rotation-1")
    [rotated] = [t for t in graph_emulator.issued_refresh_tokens() if t not in before]
    graph_emulator.expire_tokens()  # Graph answers 401: the hook renews its token once
    hook.create_or_get_meeting("rotation-2")

    assert [form["refresh_token"] for form in sent] == [first, rotated]
    assert len(set(graph_emulator.issued_refresh_tokens()) - before) == 2


def test_delegated_hook_warns_that_without_a_cache_the_token_ends_in_90_days(make_hook, graph_emulator, hook_logs):
    hook = make_hook(password=None, refresh_token=graph_emulator.public_refresh_token, default_user_id=None)
    hook.create_or_get_meeting("warned-1")
    hook.create_or_get_meeting("warned-2")

    warnings = [m for m in hook_logs.messages("warning") if "without token_cache_path" in m]
    assert len(warnings) == 1  # once per hook
    assert "90 days" in warnings[0] and f"login --conn-id {hook.conn_id}" in warnings[0]


# -- refresh tokens with a short life: the cache keeps the lineage alive --------------------------


#: Two gaps outlast a refresh token; one gap, with the time a task takes on a loaded machine
#: (parallel test workers), stays well inside it (2.5 s of 6).
REFRESH_LIFETIME = 6
TASK_GAP = 3.5


@pytest.fixture(scope="module")
def short_lived() -> Iterator[Any]:
    """Refresh tokens living 6 s; access tokens 200 s, which MSAL renews at once (under 5 minutes)."""
    from meetings_emulator import run_emulator

    with run_emulator(token_lifetime=200, refresh_token_lifetime=REFRESH_LIFETIME) as emulator:
        yield emulator


def test_with_the_cache_each_task_redeems_the_newest_token_and_outlives_the_first(make_hook, short_lived, tmp_path):
    """Three "tasks" (fresh hooks) 3.5 s apart: the connection's token has expired by the third,
    but each task redeemed the newest rotated token, and that one is still valid."""
    import time

    short_lived.reset(tokens=True)
    cache = str(tmp_path / "token-cache.json")
    public = short_lived.public_refresh_token
    conn = {"password": None, "refresh_token": public, "default_user_id": None, "token_cache_path": cache}
    redeemed: list[str] = []
    for task in range(3):
        if task:
            time.sleep(TASK_GAP)
        newest = (short_lived.issued_refresh_tokens() or [public])[-1]
        hook = make_hook(short_lived, **conn)
        sent = token_requests(hook)
        assert hook.create_or_get_meeting(f"lineage-{task}").created
        [form] = sent
        assert form["refresh_token"] == newest
        redeemed.append(form["refresh_token"])
    assert redeemed[0] == public and len(set(redeemed)) == 3

    # Without the cache, the third task would have redeemed the connection's token: expired.
    with pytest.raises(AuthenticationError, match="AADSTS700082"):
        make_hook(short_lived, **{**conn, "token_cache_path": None}).create_or_get_meeting("no-cache")
