"""Graph answers as Microsoft's pages write them, driven in-process through ``dispatch.answer``:
the 429 body (throttling, "Sample response"), ``$batch`` item URLs, ids and ``dependsOn``
(json-batching), the 405 text and the segment an unknown path names."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from meetings_emulator.config import ORGANIZER_ID, EmulatorConfig
from meetings_emulator.dispatch import answer
from meetings_emulator.messages import HttpRequest, Reply
from meetings_emulator.service import EmulatorService

ADELE = f"/users/{ORGANIZER_ID}/onlineMeetings/createOrGet"
JSON = {"Content-Type": "application/json"}


class Graph:
    """One emulator in this process, with an app token for its Graph."""

    def __init__(self, **config: Any) -> None:
        self.service = EmulatorService(EmulatorConfig(**config))
        cfg = self.service.config
        form = {
            "grant_type": "client_credentials",
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "scope": "https://graph.microsoft.com/.default",
        }
        reply = self.send("POST", f"/{cfg.tenant_id}/oauth2/v2.0/token", urlencode(form).encode(), raw=True)
        assert reply.status == 200, reply.body
        self.token = reply.body["access_token"]

    def send(self, method: str, path: str, body: Any = None, *, raw: bool = False) -> Reply:
        headers = {"content-type": "application/x-www-form-urlencoded"} if raw else {"content-type": "application/json"}
        if not raw:
            headers["authorization"] = f"Bearer {self.token}"
        data = body if raw else (b"" if body is None else json.dumps(body).encode())
        target, _, query = path.partition("?")
        return answer(self.service, HttpRequest(method, path, target, query, headers, data))

    def graph(self, method: str, path: str, body: Any = None) -> Reply:
        return self.send(method, "/v1.0" + path, body)

    def batch(self, *items: dict[str, Any]) -> Reply:
        return self.graph("POST", "/$batch", {"requests": list(items)})


@pytest.fixture
def emu() -> Graph:
    return Graph()


def create(item_id: str, external_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "method": "POST",
        "url": ADELE,
        "headers": JSON,
        "body": {"externalId": external_id},
        **extra,
    }


def by_id(reply: Reply) -> dict[str, dict[str, Any]]:
    assert reply.status in (200, 424), reply.body
    return {r["id"]: r for r in reply.body["responses"]}


# -- 1. the throttling 429 -----------------------------------------------------------------


def test_the_rate_limit_429_is_the_throttling_pages_sample(emu: Graph) -> None:
    emu.service.set_rate_limit(1, retry_after=2.128)
    assert emu.graph("POST", ADELE, {"externalId": "a"}).status == 201
    throttled = emu.graph("POST", ADELE, {"externalId": "b"})
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "2.128"
    error = throttled.body["error"]
    assert (error["code"], error["message"]) == ("TooManyRequests", "Please retry again later.")
    inner = error["innerError"]
    assert {k: inner[k] for k in ("code", "message", "status")} == {
        "code": "429",
        "message": "Please retry after",
        "status": "429",
    }
    assert inner["request-id"] == throttled.headers["request-id"]
    assert inner["client-request-id"] == throttled.headers["client-request-id"] and inner["date"]


def test_a_scripted_429_is_the_same_answer(emu: Graph) -> None:
    emu.service.script({"status": 429, "retry_after": "3"})
    error = emu.graph("POST", ADELE, {"externalId": "a"}).body["error"]
    assert error["message"] == "Please retry again later." and error["innerError"]["status"] == "429"


def test_the_mailbox_concurrency_429_keeps_its_code_and_graphs_general_shape() -> None:
    from meetings_emulator.mailboxes import MailboxConcurrency

    error = MailboxConcurrency(None)
    body = error.body("r", "c")["error"]
    assert (error.status, body["code"], error.headers) == (429, "ApplicationThrottled", {})
    assert set(body["innerError"]) == {"date", "request-id", "client-request-id"}


# -- 2. $batch item URLs -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/v1.0", "/beta", "v1.0"])
def test_a_version_prefixed_item_url_is_an_unknown_segment(emu: Graph, prefix: str) -> None:
    item = {**create("b", "x"), "url": f"{prefix}{ADELE}"}
    answers = by_id(emu.batch(create("a", "ok"), item))
    assert answers["a"]["status"] == 201
    error = answers["b"]["body"]["error"]
    segment = prefix.strip("/")
    assert (answers["b"]["status"], error["code"]) == (400, "BadRequest")
    assert error["message"] == f"Resource not found for the segment '{segment}'."
    assert [m["external_id"] for m in emu.service.list_meetings()] == ["ok"]


@pytest.mark.parametrize(
    "url",
    [
        f"https://graph.microsoft.com/v1.0{ADELE}",
        f"https://graph.microsoft.com{ADELE}",
        f"http://127.0.0.1/v1.0{ADELE}",
    ],
)
def test_an_absolute_item_url_fails_the_whole_batch(emu: Graph, url: str) -> None:
    reply = emu.batch(create("a", "ok"), {**create("b", "x"), "url": url})
    assert reply.status == 400
    assert reply.body["error"]["code"] == "BadRequest"
    assert reply.body["error"]["message"] == "Invalid batch payload format."
    assert emu.service.list_meetings() == []  # nothing ran


def test_relative_item_urls_with_and_without_the_slash(emu: Graph) -> None:
    answers = by_id(emu.batch(create("a", "x"), {**create("b", "y"), "url": ADELE.lstrip("/")}))
    assert answers["a"]["status"] == answers["b"]["status"] == 201


# -- 3. ids unique without case --------------------------------------------------------------


def test_ids_differing_only_in_case_fail_the_batch(emu: Graph) -> None:
    reply = emu.batch(create("item", "x"), create("ITEM", "y"))
    assert reply.status == 400 and reply.body["error"]["code"] == "BadRequest"
    assert emu.service.list_meetings() == []


# -- 4. dependsOn ----------------------------------------------------------------------------


def test_an_item_runs_after_the_items_it_depends_on(emu: Graph) -> None:
    # Listed 3, 2, 1; 3 depends on 2 and 2 on 1 ("run in the order request 1 then request 2 ...").
    answers = by_id(
        emu.batch(
            create("3", "third", dependsOn=["2"]),
            create("2", "second", dependsOn=["1"]),
            create("1", "first"),
        )
    )
    assert [answers[i]["status"] for i in ("1", "2", "3")] == [201, 201, 201]
    assert [m["external_id"] for m in emu.service.list_meetings()] == ["first", "second", "third"]
    assert list(answers) == ["3", "2", "1"]  # answers listed as the requests were


def test_dependents_of_a_failed_item_answer_424_and_do_not_run(emu: Graph) -> None:
    bad = {"id": "1", "method": "POST", "url": ADELE, "headers": JSON, "body": {}}  # 400: no externalId
    answers = by_id(
        emu.batch(
            bad,
            create("2", "never", dependsOn=["1"]),
            create("3", "never-either", dependsOn=["2"]),
            create("4", "independent"),
        )
    )
    assert {i: r["status"] for i, r in answers.items()} == {"1": 400, "2": 424, "3": 424, "4": 201}
    assert answers["2"]["body"]["error"]["innerError"]["request-id"]
    assert [m["external_id"] for m in emu.service.list_meetings()] == ["independent"]


def test_depends_on_matches_ids_without_case(emu: Graph) -> None:
    answers = by_id(emu.batch(create("b", "second", dependsOn=["A"]), create("a", "first")))
    assert answers["a"]["status"] == answers["b"]["status"] == 201
    assert [m["external_id"] for m in emu.service.list_meetings()] == ["first", "second"]


@pytest.mark.parametrize(
    "depends",
    [
        pytest.param([["nobody"], None], id="unknown-id"),
        pytest.param([["b"], ["a"]], id="cycle"),
        pytest.param([["a"], None], id="itself"),
        pytest.param(["b", None], id="not-a-list"),
    ],
)
def test_a_bad_depends_on_fails_the_batch(emu: Graph, depends: list[Any]) -> None:
    items = [create("a", "x"), create("b", "y")]
    for item, value in zip(items, depends, strict=True):
        if value is not None:
            item["dependsOn"] = value
    reply = emu.batch(*items)
    assert reply.status == 400 and reply.body["error"]["message"] == "Invalid batch payload format."
    assert emu.service.list_meetings() == []


# -- 5. 405 and unknown paths ---------------------------------------------------------------


def test_a_method_a_known_path_does_not_serve_is_jsons_batchings_405(emu: Graph) -> None:
    reply = emu.graph("DELETE", f"/users/{ORGANIZER_ID}")
    assert reply.status == 405
    error = reply.body["error"]
    assert (error["code"], error["message"]) == (
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )


@pytest.mark.parametrize(
    ("path", "segment"),
    [
        (f"/users/{ORGANIZER_ID}/nothing", "nothing"),
        ("/me/nothing", "nothing"),
        (f"/users/{ORGANIZER_ID}/onlineMeetings/m1/nothing", "nothing"),
        (f"/users/{ORGANIZER_ID}/events/e1/nothing/deeper", "nothing"),
        (f"/users/{ORGANIZER_ID}/calendar/nothing", "nothing"),
        ("/nothing/users", "nothing"),
        ("/v1.0/users", "v1.0"),
    ],
)
def test_an_unknown_path_names_the_segment_that_did_not_resolve(emu: Graph, path: str, segment: str) -> None:
    reply = emu.graph("GET", path)
    assert reply.status == 400 and reply.body["error"]["code"] == "BadRequest"
    assert reply.body["error"]["message"] == f"Resource not found for the segment '{segment}'."
