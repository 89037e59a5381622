"""$batch, rate limiting, latency and scripted faults."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from emulator_testlib import GRAPH_SCOPE, create_or_get, create_path, make_app, make_session, side_by_side

from meetings_emulator.config import MEGAN_ID, NOPOLICY_ID, ORGANIZER_ID

pytestmark = pytest.mark.integration

Graph = Callable[..., Any]
ADELE = create_path(ORGANIZER_ID)
JSON = {"Content-Type": "application/json"}


def item(i: int | str, external_id: str, user: str = ORGANIZER_ID) -> dict[str, Any]:
    return {
        "id": str(i),
        "method": "POST",
        "url": create_path(user),
        "headers": JSON,
        "body": {"externalId": external_id},
    }


def test_batch_creates_and_reports_per_item(graph: Graph, emu: Any) -> None:
    graph("POST", ADELE, json={"externalId": "b1"})
    requests_ = [
        item(1, "b1"),
        item(2, "b2"),
        item(3, "b3", NOPOLICY_ID),
        item(4, "b4", MEGAN_ID),
        {"id": "5", "method": "POST", "url": ADELE, "headers": JSON, "body": {}},
    ]
    response = graph("POST", "/$batch", json={"requests": requests_})
    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.json()["responses"]}
    assert {k: v["status"] for k, v in by_id.items()} == {"1": 200, "2": 201, "3": 403, "4": 201, "5": 400}
    assert by_id["2"]["body"]["externalId"] == "b2"
    assert by_id["3"]["body"]["error"]["code"] == "Forbidden"
    stats = emu.stats()
    assert stats["batches"] == 1 and stats["batch_items"] == 5
    assert stats["by_route"]["createOrGet"] == {"201": 3, "200": 1, "403": 1, "400": 1}


def test_batch_item_urls_are_relative_to_the_version_root(graph: Graph) -> None:
    # json-batching: "while the absolute URL is https://graph.microsoft.com/v1.0/users, this
    # url is /users". A version segment in the item's url is a segment Graph does not resolve
    # (as reported: microsoftgraph/msgraph-sdk-javascript#1178).
    created = graph("POST", ADELE, json={"externalId": "bg"}).json()
    response = graph(
        "POST",
        "/$batch",
        json={
            "requests": [
                {"id": "a", "method": "GET", "url": f"/users/{ORGANIZER_ID}/onlineMeetings/{created['id']}"},
                {"id": "b", "method": "POST", "url": ADELE, "headers": JSON, "body": {"externalId": "bg"}},
                {"id": "c", "method": "POST", "url": f"/v1.0{ADELE}", "headers": JSON, "body": {"externalId": "bg"}},
            ]
        },
    )
    answers = {r["id"]: r for r in response.json()["responses"]}
    assert (answers["a"]["status"], answers["a"]["body"]["id"]) == (200, created["id"])
    assert (answers["b"]["status"], answers["b"]["body"]["id"]) == (200, created["id"])
    assert answers["c"]["status"] == 400
    assert answers["c"]["body"]["error"]["message"] == "Resource not found for the segment 'v1.0'."


@pytest.mark.parametrize(
    "requests_",
    [
        pytest.param([item(i, f"x{i}") for i in range(21)], id="more-than-20"),
        pytest.param([item(1, "a"), item(1, "b")], id="duplicate-ids"),
        pytest.param([item("x", "a"), item("X", "b")], id="duplicate-ids-without-case"),
        pytest.param([{**item(1, "a"), "url": f"https://graph.microsoft.com/v1.0{ADELE}"}], id="absolute-url"),
        pytest.param([{"id": "1", "method": "POST", "url": ADELE, "body": {"externalId": "a"}}], id="no-content-type"),
        pytest.param([], id="empty"),
    ],
)
def test_batch_errors(graph: Graph, emu: Any, requests_: list[dict[str, Any]]) -> None:
    response = graph("POST", "/$batch", json={"requests": requests_})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert emu.meetings() == []


def test_batch_of_20_is_fine(graph: Graph, emu: Any) -> None:
    response = graph("POST", "/$batch", json={"requests": [item(i, f"x{i}") for i in range(20)]})
    assert [r["status"] for r in response.json()["responses"]] == [201] * 20
    assert len(emu.meetings()) == 20


def test_batch_requires_a_token(graph: Graph) -> None:
    assert graph("POST", "/$batch", token=None, json={"requests": [item(1, "a")]}).status_code == 401


def test_throttled_batch_is_424_with_every_item_response(graph: Graph, emu: Any) -> None:
    # https://learn.microsoft.com/graph/throttling, "Throttling and batching": throttled items
    # fail with 429 and "the batch itself fails with a status code of 424 (Failed Dependency)".
    emu.set_rate_limit(3, retry_after=2)
    response = graph("POST", "/$batch", json={"requests": [item(i, f"r{i}") for i in range(5)]})
    assert response.status_code == 424
    assert response.headers["Content-Type"].startswith("application/json")
    items = sorted(response.json()["responses"], key=lambda r: r["id"])
    assert [r["status"] for r in items] == [201, 201, 201, 429, 429]
    assert items[0]["body"]["externalId"] == "r0"
    assert items[3]["headers"]["Retry-After"] == "2"
    assert items[3]["body"]["error"]["code"] == "TooManyRequests"
    assert sorted(m["external_id"] for m in emu.meetings()) == ["r0", "r1", "r2"]  # the others were done
    stats = emu.stats()
    assert stats["throttled"] == 2
    assert stats["by_route"]["$batch"] == {"424": 1}


def test_batch_without_throttled_items_is_200_even_with_failed_items(graph: Graph) -> None:
    response = graph("POST", "/$batch", json={"requests": [item(1, "ok"), item(2, "nopolicy", NOPOLICY_ID)]})
    assert response.status_code == 200
    assert sorted(r["status"] for r in response.json()["responses"]) == [201, 403]


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        pytest.param({"status": 429, "retry_after": "3"}, 429, id="429"),
        pytest.param({"status": 503, "retry_after": "1"}, 503, id="503"),
    ],
)
def test_scripted_envelope_fault_has_no_responses(graph: Graph, emu: Any, fault: Any, status: int) -> None:
    emu.script(fault, match=r"\$batch")
    response = graph("POST", "/$batch", json={"requests": [item(1, "env")]})
    assert response.status_code == status
    assert response.headers["Retry-After"] == fault["retry_after"]
    assert "responses" not in response.json() and response.json()["error"]["innerError"]["request-id"]
    assert emu.meetings() == []


def test_rate_limit_top_level_and_window(graph: Graph, emu: Any) -> None:
    emu.set_rate_limit(2)
    codes = [graph("POST", ADELE, json={"externalId": f"w{i}"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    time.sleep(1.05)
    assert graph("POST", ADELE, json={"externalId": "w3"}).status_code == 201


def test_rate_limit_counts_throttled_requests(graph: Graph, emu: Any) -> None:
    # Graph "continues to log resource usage while a client is being throttled"
    # (https://learn.microsoft.com/graph/throttling): knocking keeps a client throttled.
    emu.set_rate_limit(2, retry_after=1)
    assert [graph("POST", ADELE, json={"externalId": f"k{i}"}).status_code for i in range(2)] == [201, 201]
    knocks = []
    for i in range(7):  # four requests a second for 1.75 s, against a limit of two
        knocks.append(graph("POST", ADELE, json={"externalId": f"knock{i}"}).status_code)
        time.sleep(0.25)
    assert knocks == [429] * 7
    time.sleep(1.05)  # a quiet second
    assert graph("POST", ADELE, json={"externalId": "after-pause"}).status_code == 201


@pytest.mark.parametrize(("retry_after", "header"), [(2.128, "2.128"), (0.5, "0.5"), (3.0, "3"), (3, "3")])
def test_rate_limit_decimal_retry_after(graph: Graph, emu: Any, retry_after: float, header: str) -> None:
    emu.set_rate_limit(1, retry_after=retry_after)
    graph("POST", ADELE, json={"externalId": "d0"})
    assert graph("POST", ADELE, json={"externalId": "d1"}).headers["Retry-After"] == header
    batch = graph("POST", "/$batch", json={"requests": [item(1, "d2")]})
    assert batch.json()["responses"][0]["headers"]["Retry-After"] == header
    assert emu.stats()["rate_limit_retry_after"] == float(retry_after)


def test_rate_limit_without_retry_after(graph: Graph, emu: Any) -> None:
    emu.set_rate_limit(1, retry_after=None)
    graph("POST", ADELE, json={"externalId": "n0"})
    throttled = graph("POST", ADELE, json={"externalId": "n1"})
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers


def test_latency_is_added_once_per_request_and_concurrent(graph: Graph, emu: Any, app_token: str) -> None:
    emu.set_latency(200)
    start = time.monotonic()
    graph("POST", "/$batch", json={"requests": [item(i, f"l{i}") for i in range(5)]})
    assert 0.2 <= time.monotonic() - start < 0.6

    start = time.monotonic()
    side_by_side(lambda i: create_or_get(emu, app_token, f"c{i}", ORGANIZER_ID), 10)
    assert time.monotonic() - start < 1.5  # ten 200 ms requests in parallel, not 2 s
    assert len(emu.meetings()) == 15


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [
        pytest.param({"status": 429, "retry_after": "2"}, 429, "2", id="429-seconds"),
        pytest.param({"status": 429}, 429, None, id="429-no-retry-after"),
        pytest.param(503, 503, None, id="503"),
        pytest.param({"status": 504}, 504, None, id="504"),
    ],
)
def test_scripted_status(graph: Graph, emu: Any, fault: Any, status: int, retry_after: str | None) -> None:
    emu.script(fault, times=2)
    for _ in range(2):
        response = graph("POST", ADELE, json={"externalId": "f"})
        assert response.status_code == status
        assert response.headers.get("Retry-After") == retry_after
        assert response.json()["error"]["innerError"]["request-id"]
    assert emu.meetings() == []  # "before": nothing was processed
    assert graph("POST", ADELE, json={"externalId": "f"}).status_code == 201


def test_scripted_http_date_retry_after(graph: Graph, emu: Any) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    emu.script({"status": 429, "retry_after": when})
    assert graph("POST", ADELE, json={"externalId": "d"}).headers["Retry-After"] == when


def test_scripted_status_after_processing(graph: Graph, emu: Any) -> None:
    emu.script(503, when="after")
    assert graph("POST", ADELE, json={"externalId": "after"}).status_code == 503
    assert len(emu.meetings()) == 1
    assert graph("POST", ADELE, json={"externalId": "after"}).status_code == 200


@pytest.mark.parametrize(("when", "stored"), [("before", 0), ("after", 1)])
def test_drop(graph: Graph, emu: Any, when: str, stored: int) -> None:
    emu.script("drop", when=when)
    with pytest.raises(requests.ConnectionError):
        graph("POST", ADELE, json={"externalId": "drop"})
    assert len(emu.meetings()) == stored
    retry = graph("POST", ADELE, json={"externalId": "drop"})
    assert retry.status_code == (200 if stored else 201)


@pytest.mark.parametrize(("when", "stored_at_timeout"), [("before", 0), ("after", 1)])
def test_slow(graph: Graph, emu: Any, when: str, stored_at_timeout: int) -> None:
    emu.script("slow", seconds=0.6, when=when)
    with pytest.raises(requests.Timeout):
        graph("POST", ADELE, json={"externalId": "slow"}, timeout=0.2)
    assert len(emu.meetings()) == stored_at_timeout
    time.sleep(0.6)
    assert len(emu.meetings()) == 1  # a slow request is still processed
    assert graph("POST", ADELE, json={"externalId": "slow"}).status_code == 200


@pytest.mark.parametrize(("fault", "status"), [("non_json", 502), ({"kind": "non_json", "status": 403}, 403)])
def test_non_json(graph: Graph, emu: Any, fault: Any, status: int) -> None:
    emu.script(fault)
    response = graph("POST", ADELE, json={"externalId": "html"})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<title>{status} " in response.text
    assert emu.meetings() == []


@pytest.mark.parametrize("status", [200, 403, 407])
def test_token_endpoint_answering_html(emu: Any, status: int) -> None:
    # A proxy or captive portal in the way: an HTML page with a status below 500, which MSAL
    # reads as JSON (only 5xx make it raise for status first) and so fails to parse.
    emu.script({"kind": "non_json", "status": status}, target="token", times=2)
    raw = make_session(emu.ca_path).post(
        f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token", data={"grant_type": "client_credentials"}, timeout=5
    )
    assert raw.status_code == status
    assert raw.headers["Content-Type"].startswith("text/html") and raw.text.startswith("<html>")
    assert ("Proxy-Authenticate" in raw.headers) == (status == 407)
    with pytest.raises(ValueError):  # json.JSONDecodeError from MSAL's json.loads
        make_app(emu).acquire_token_for_client(GRAPH_SCOPE)
    assert emu.pending_faults() == []
    assert "access_token" in make_app(emu).acquire_token_for_client(GRAPH_SCOPE)


def test_fault_match_and_per_item_in_batch(graph: Graph, emu: Any) -> None:
    emu.script({"status": 429, "retry_after": "1"}, match="createOrGet", times=1)
    response = graph("POST", "/$batch", json={"requests": [item(1, "m1"), item(2, "m2")]})
    assert response.status_code == 424  # a throttled item fails the envelope with 424
    statuses = sorted((r["id"], r["status"]) for r in response.json()["responses"])
    assert statuses == [("1", 429), ("2", 201)]
    assert emu.stats()["faults_applied"] == 1


def test_faults_on_token_endpoint(emu: Any) -> None:
    emu.script(503, target="token")
    app = make_app(emu)
    from msal.exceptions import MsalServiceError

    with pytest.raises(MsalServiceError, match="503"):
        app.acquire_token_for_client(GRAPH_SCOPE)
    emu.script("drop", target="token")
    with pytest.raises(requests.ConnectionError):
        make_session(emu.ca_path).post(f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token", data={}, timeout=5)
    assert emu.pending_faults() == []
    # a fresh app: MSAL replays the 503 from memory for a few seconds
    assert "access_token" in make_app(emu).acquire_token_for_client(GRAPH_SCOPE)


def test_reset_clears_everything(graph: Graph, emu: Any) -> None:
    graph("POST", ADELE, json={"externalId": "r"})
    emu.set_latency(50)
    emu.set_rate_limit(1)
    emu.script(503, times=5)
    emu.revoke_policy(ORGANIZER_ID)
    emu.reset()
    stats = emu.stats()
    assert (stats["meetings"], stats["latency_ms"], stats["rate_limit"], stats["pending_faults"]) == (0, 0.0, None, 0)
    assert graph("POST", ADELE, json={"externalId": "r"}).status_code == 201


@pytest.mark.parametrize("order", ["reverse", "shuffle"])
def test_batch_answers_in_another_order_keep_ids(graph: Graph, emu: Any, order: str) -> None:
    emu.set_batch_order(order)
    ids = [str(i) for i in range(1, 11)]
    response = graph("POST", "/$batch", json={"requests": [item(i, f"order-{i}") for i in ids]})
    responses = response.json()["responses"]
    assert {r["id"]: r["body"]["externalId"] for r in responses} == {i: f"order-{i}" for i in ids}
    if order == "reverse":
        assert [r["id"] for r in responses] == list(reversed(ids))
    emu.reset()
    assert emu.stats()["batch_order"] == "inorder"


def test_scripted_401_is_graphs_expired_token_answer(graph: Graph, emu: Any) -> None:
    emu.script(401)
    response = graph("POST", ADELE, json={"externalId": "x401"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_scripted_401_carries_the_challenge_of_a_real_expiry(graph: Graph, emu: Any) -> None:
    # One builder of the expired-token answer: its WWW-Authenticate names the authorize
    # endpoint, which the claims-challenge page makes required (learn.microsoft.com/entra/
    # identity-platform/claims-challenge); the scripted one used to send error="invalid_token" only.
    emu.script(401)
    scripted = graph("POST", ADELE, json={"externalId": "x401"})
    emu.expire_tokens()
    expired = graph("POST", ADELE, json={"externalId": "x401"})
    assert scripted.status_code == expired.status_code == 401
    assert scripted.json()["error"]["message"] == expired.json()["error"]["message"]
    assert scripted.headers["WWW-Authenticate"] == expired.headers["WWW-Authenticate"]
    assert f'authorization_uri="{emu.url}/common/oauth2/authorize"' in scripted.headers["WWW-Authenticate"]


def test_issued_tokens_lists_what_was_handed_out(graph: Graph, emu: Any) -> None:
    token = graph("POST", ADELE, json={"externalId": "tok"}).request.headers["Authorization"].split()[1]
    assert token in emu.issued_tokens()


def test_random_faults_hit_envelopes_and_calls_but_not_batch_items(graph: Graph, emu: Any) -> None:
    from meetings_emulator import EmulatorClient

    client = EmulatorClient(emu.url, emu.ca_path)  # the control endpoint, as a process's test would use it
    assert client.set_random_faults(1.0, [503], seed=1)["rate"] == 1.0
    assert graph("POST", ADELE, json={"externalId": "r1"}).status_code == 503
    envelope = graph("POST", "/$batch", json={"requests": [item(1, "r2")]})
    assert envelope.status_code == 503 and "responses" not in envelope.json()
    client.set_random_faults(1.0, [503], match="createOrGet")  # the envelope does not match: its items are spared
    envelope = graph("POST", "/$batch", json={"requests": [item(1, "r3")]})
    assert envelope.status_code == 200 and envelope.json()["responses"][0]["status"] == 201
    assert client.set_random_faults(0.5, [503])["applied"] == 0
    client.clear_faults()
    assert graph("POST", ADELE, json={"externalId": "r4"}).status_code == 201
    assert emu.stats()["faults_applied"] == 2
