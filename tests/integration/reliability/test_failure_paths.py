"""Failure paths as Entra ID and Graph really behave, through the real hook, MSAL and HTTPS.

Each test names the rule it holds the client to; the emulator produces the failure the way
Microsoft documents it (docs/emulator.md cites the pages).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reliability_testlib import record_sleeps

from airflow_provider_meetings.graph.errors import (
    AuthenticationError,
    ConnectionConfigError,
    RetriesExhaustedError,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def specs(n: int, prefix: str) -> list[dict[str, Any]]:
    return [{"external_id": f"{prefix}-{i:04d}"} for i in range(n)]


def stored(emu: Any) -> Counter[str]:
    return Counter(m["external_id"] for m in emu.meetings())


@pytest.fixture
def when_items_reached(graph_emulator: Any) -> Iterator[Callable[[int, Callable[[], Any]], None]]:
    """``when_items_reached(n, action)``: run ``action`` once ``n`` batch items reached Graph."""
    threads: list[threading.Thread] = []
    done = threading.Event()

    def arm(count: int, action: Callable[[], Any]) -> None:
        def watch() -> None:
            while not done.is_set():
                if graph_emulator.stats()["batch_items"] >= count:
                    action()
                    return
                time.sleep(0.002)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        threads.append(thread)

    yield arm
    done.set()
    for thread in threads:
        thread.join()


# -- the token endpoint fails in the middle of a bulk call --------------------------------------


def test_a_token_outage_stops_a_bulk_call_within_one_token_retry_cycle(make_hook, graph_emulator, when_items_reached):
    """Once the token retry bound is spent, nothing more is sent, every unfinished item fails
    with that transient error, and the items already done keep their success."""
    hook = make_hook(max_retries=3, max_retry_wait=4, timeout=2)

    def outage() -> None:
        graph_emulator.script({"status": 503, "retry_after": "1"}, target="token", times=1000)
        graph_emulator.expire_tokens()

    when_items_reached(40, outage)
    slept = record_sleeps(hook)
    results = hook.create_or_get_meetings(specs(200, "outage"), max_concurrency=1)

    assert len(results) == 200
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    assert len(done) >= 20 and failed  # the first batch, at least, was answered before the outage
    assert all(isinstance(r.error, RetriesExhaustedError) and not r.permanent for r in failed)
    assert all(str(r.error).startswith("token request gave up") for r in failed)
    # One token retry cycle (at most 3 waits within max_retry_wait), not one per batch left.
    assert len(slept) <= 3 and sum(slept) <= 4
    token_attempts = graph_emulator.stats()["token_requests"] + graph_emulator.stats()["faults_applied"]
    assert token_attempts <= 1 + 4 + 1
    counts = stored(graph_emulator)
    assert sorted(counts) == sorted(r.external_id for r in done) and set(counts.values()) == {1}


def test_the_bulk_operator_lets_task_retries_apply_after_a_token_outage(make_hook, graph_emulator):
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from airflow_provider_meetings.operators.online_meetings import BulkCreateOrGetOnlineMeetingsOperator

    hook = make_hook(max_retries=1, max_retry_wait=2)
    graph_emulator.script({"status": 503, "retry_after": "1"}, target="token", times=100)
    operator = BulkCreateOrGetOnlineMeetingsOperator(
        task_id="bulk", meetings=specs(3, "op-outage"), conn_id=hook.conn_id
    )

    class TI:
        def xcom_push(self, key: str, value: Any) -> None:
            self.pushed = (key, value)

    with pytest.raises(AirflowException) as caught:
        operator.execute({"ti": TI()})
    assert not isinstance(caught.value, AirflowFailException)
    assert "token request gave up" in str(caught.value)


# -- Graph asks for a pause longer than the budget ------------------------------------------------


def test_a_long_retry_after_ends_a_bulk_call_at_once(make_hook, graph_emulator, when_items_reached):
    hook = make_hook(max_retry_wait=20)
    when_items_reached(
        20, lambda: graph_emulator.script({"status": 429, "retry_after": "3600"}, match=r"\$batch", times=50)
    )

    started = time.monotonic()
    results = hook.create_or_get_meetings(specs(100, "long-pause"), max_concurrency=1)
    assert time.monotonic() - started < 5  # neither the hour nor max_retry_wait
    failed = [r for r in results if not r.ok]
    assert failed and all(isinstance(r.error, RetriesExhaustedError) for r in failed)
    assert all(r.error.asked_wait == 3600 and not r.permanent for r in failed)
    assert graph_emulator.stats()["batches"] <= 3


# -- one rule for 408 and 500 ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500])
def test_408_and_500_items_are_retried_in_bulk_as_in_single_calls(make_hook, graph_emulator, hook_logs, status):
    graph_emulator.script(status, match="createOrGet", times=2)
    results = make_hook().create_or_get_meetings(specs(5, f"s{status}"))

    assert all(r.ok for r in results)
    assert sum(r.attempts for r in results) == 7
    assert len([m for m in hook_logs.messages("info") if f": {status} " in m and "retry 1/6" in m]) == 2


# -- certificate thumbprints as people copy them ----------------------------------------------------


def _openssl_style(thumbprint: str) -> str:
    return "SHA1 Fingerprint=" + ":".join(thumbprint[i : i + 2] for i in range(0, 40, 2)).upper()


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(_openssl_style, id="openssl -fingerprint"),
        pytest.param(lambda t: " ".join(t[i : i + 4] for i in range(0, 40, 4)), id="spaces"),
        pytest.param(str.lower, id="lower case"),
    ],
)
def test_thumbprints_in_the_forms_people_copy_work(make_hook, graph_emulator, certificate_files, tmp_path, form):
    graph_emulator.add_certificate(certificate_files["cert_pem"])
    key_only = tmp_path / "key-only.pem"
    key_only.write_text(certificate_files["key_pem"])  # no certificate: the thumbprint is needed
    hook = make_hook(
        password=None, certificate_path=str(key_only), certificate_thumbprint=form(certificate_files["thumbprint"])
    )

    assert hook.create_or_get_meeting("thumbprint").created


def test_a_thumbprint_that_is_not_40_hex_digits_is_refused_before_any_request(make_hook, graph_emulator):
    hook = make_hook(password=None, certificate_path="/x.pem", certificate_thumbprint="AB:CD:EF")

    with pytest.raises(ConnectionConfigError) as caught:
        hook.create_or_get_meeting("never")
    assert caught.value.field == "certificate_thumbprint" and "40 hex digits" in str(caught.value)
    assert graph_emulator.stats()["connections"] == 0


# -- a proxy's page instead of the token endpoint's JSON ----------------------------------------------


@pytest.mark.parametrize("status", [200, 403, 407])
def test_a_non_json_token_answer_is_a_clear_authentication_error(make_hook, graph_emulator, status):
    hook = make_hook()
    graph_emulator.script({"kind": "non_json", "status": status}, target="token")

    with pytest.raises(AuthenticationError) as caught:
        hook.create_or_get_meeting("never")
    text = str(caught.value)
    assert caught.value.error == "invalid_response" and caught.value.status == status
    assert "/oauth2/v2.0/token" in text and f"HTTP {status}" in text and "text/html" in text
    assert graph_emulator.stats()["graph_requests"] == 0


def test_a_non_json_token_answer_mid_bulk_keeps_what_is_done(make_hook, graph_emulator, when_items_reached):
    hook = make_hook()

    def proxy_page() -> None:
        graph_emulator.script({"kind": "non_json", "status": 200}, target="token", times=100)
        graph_emulator.expire_tokens()

    when_items_reached(40, proxy_page)  # while the second batch is answered: the first is done
    results = hook.create_or_get_meetings(specs(100, "proxy"), max_concurrency=1)

    assert len(results) == 100
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    assert len(done) >= 20 and failed
    assert all(isinstance(r.error, AuthenticationError) and r.error.error == "invalid_response" for r in failed)
    assert sorted(stored(graph_emulator)) == sorted(r.external_id for r in done)


def test_a_hook_with_max_single_wait_hands_long_pauses_back_at_once(graph_emulator, monkeypatch):
    """What a deferrable task relies on: a pause longer than it wants to hold a worker for
    ends the call at once, saying how long Graph asked for."""
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    monkeypatch.setenv("AIRFLOW_CONN_MEETINGS_PATIENT", graph_emulator.connection_json(max_retry_wait=600))
    graph_emulator.script({"status": 429, "retry_after": "45"}, match="createOrGet")
    hook = OnlineMeetingsHook(conn_id="meetings_patient", max_single_wait=30)

    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError) as caught:
        hook.create_or_get_meeting("defer-me")
    assert time.monotonic() - started < 5 and caught.value.asked_wait == 45
    assert hook.create_or_get_meeting("defer-me").created  # the pause is over (no fault left)
    hook.close()
