"""GraphRestClient.download on a MockTransport: chunks into a sink, drops resumed or restarted."""

from __future__ import annotations

import pytest
from mock_graph_testlib import FAST, client_on

from airflow_provider_meetings.graph.answer import StreamedAnswer
from airflow_provider_meetings.graph.download import content_range_start, expected_total
from airflow_provider_meetings.graph.errors import GraphAPIError, RetriesExhaustedError, TransportError
from airflow_provider_meetings.graph.mock_transport import graph_error_answer

BODY = bytes(range(256)) * 40  # 10,240 bytes


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.restarts = 0

    @property
    def written(self) -> int:
        return len(self.data)

    def write(self, chunk: bytes) -> None:
        self.data += chunk

    def restart(self) -> None:
        self.restarts += 1
        self.data.clear()


def streamed(status: int, body: bytes, *, start: int = 0, drop_after: int | None = None, ranged: bool = False):
    """An answer carrying body[start:], dropping after ``drop_after`` bytes of it."""
    part = body[start:]
    headers = {"Content-Type": "video/mp4", "Content-Length": str(len(part))}
    if ranged:
        headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"

    def chunks():
        sent = 0
        for i in range(0, len(part), 1000):
            piece = part[i : i + 1000]
            if drop_after is not None and sent + len(piece) > drop_after:
                yield piece[: drop_after - sent]
                raise TransportError("dropped", "https://graph/x", "Connection broken")
            sent += len(piece)
            yield piece

    return StreamedAnswer(status, headers, chunks(), "https://graph/x")


def test_a_body_arrives_in_chunks_into_the_sink() -> None:
    client, transport, _ = client_on(lambda r: streamed(200, BODY))
    sink = Sink()
    outcome = client.download("users/u/x/content", sink, headers={"Accept": "*/*"})
    assert bytes(sink.data) == BODY and outcome.size == len(BODY) and outcome.content_type == "video/mp4"
    assert transport.requests[0].headers["Accept"] == "*/*"
    assert "Range" not in transport.requests[0].headers


def test_an_absolute_url_goes_only_to_the_graph_host_with_the_token() -> None:
    client, transport, _ = client_on(lambda r: streamed(200, BODY))
    on_graph = f"{client.settings.graph_base}/users/u/x/content"
    client.download(on_graph, Sink())
    assert transport.requests[0].url == on_graph
    with pytest.raises(GraphAPIError) as caught:
        client.download("https://files.example.net/users/u/x/content", Sink())
    assert caught.value.code == "UntrustedUrl" and "files.example.net" in str(caught.value)
    assert len(transport.requests) == 1  # nothing, and no token, went to the other host


def test_a_drop_mid_stream_resumes_with_range_where_the_server_honours_it() -> None:
    def handler(request):
        asked = request.headers.get("Range")
        if asked is None:
            return streamed(200, BODY, drop_after=3000)
        start = int(asked.removeprefix("bytes=").rstrip("-"))
        return streamed(206, BODY, start=start, ranged=True)

    client, transport, _ = client_on(handler)
    sink = Sink()
    outcome = client.download("users/u/x/content", sink)
    assert bytes(sink.data) == BODY and sink.restarts == 0
    assert outcome.resumed == 1 and outcome.restarted == 0
    assert transport.requests[1].headers["Range"] == "bytes=3000-"


def test_a_server_that_ignores_range_makes_the_sink_start_over() -> None:
    calls = []

    def handler(request):
        calls.append(request.headers.get("Range"))
        return streamed(200, BODY, drop_after=2500 if len(calls) == 1 else None)

    client, _, _ = client_on(handler)
    sink = Sink()
    outcome = client.download("users/u/x/content", sink)
    assert bytes(sink.data) == BODY and sink.restarts == 1 and outcome.restarted == 1
    assert calls == [None, "bytes=2500-"]


def test_a_body_shorter_than_its_length_is_a_drop_not_a_success() -> None:
    def handler(request):
        answer = streamed(200, BODY)
        return StreamedAnswer(200, {"Content-Length": str(len(BODY) + 10)}, answer.chunks, answer.url)

    client, transport, _ = client_on(handler)
    with pytest.raises(RetriesExhaustedError) as caught:
        client.download("users/u/x/content", Sink())
    assert isinstance(caught.value.last_error, TransportError) and "ended after" in str(caught.value)
    assert len(transport.requests) == 1 + FAST.max_retries


def test_drops_are_bounded_by_the_retry_policy() -> None:
    client, transport, _ = client_on(lambda r: streamed(200, BODY, drop_after=10))
    with pytest.raises(RetriesExhaustedError):
        client.download("users/u/x/content", Sink())
    assert len(transport.requests) == 1 + FAST.max_retries


def test_an_error_answer_is_permanent_and_a_401_gets_one_fresh_token() -> None:
    answers = iter([graph_error_answer(401, "InvalidAuthenticationToken"), graph_error_answer(403, "Forbidden", "no")])
    client, transport, tokens = client_on(lambda r: next(answers))
    with pytest.raises(GraphAPIError) as caught:
        client.download("users/u/x/content", Sink())
    assert caught.value.status == 403 and tokens.invalidations == 1 and len(transport.requests) == 2


def test_a_second_401_is_final_even_with_a_retried_failure_between() -> None:
    """One fresh token per call (graph/retry.py), counted across retries, as for a single call."""
    answers = iter(
        [
            graph_error_answer(401, "InvalidAuthenticationToken"),
            graph_error_answer(503, "ServiceNotAvailable", headers={"Retry-After": "0"}),
            graph_error_answer(401, "InvalidAuthenticationToken"),
            streamed(200, BODY),
        ]
    )
    client, transport, tokens = client_on(lambda r: next(answers))
    sink = Sink()
    with pytest.raises(GraphAPIError) as caught:
        client.download("users/u/x/content", sink)
    assert caught.value.status == 401 and tokens.invalidations == 1 and len(transport.requests) == 3
    assert sink.written == 0


def test_a_transient_error_answer_is_retried() -> None:
    answers = iter([graph_error_answer(503, "ServiceNotAvailable"), streamed(200, BODY)])
    client, _, _ = client_on(lambda r: next(answers))
    sink = Sink()
    client.download("users/u/x/content", sink)
    assert bytes(sink.data) == BODY


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("bytes 10-99/100", (10, 100)), ("bytes 0-9/*", (0, None)), ("items 1-2/3", None), (None, None)],
)
def test_content_range(value, parsed) -> None:
    assert content_range_start(value) == parsed


def test_expected_total_from_length_or_range() -> None:
    assert expected_total(200, {"content-length": "5"}, 0) == 5
    assert expected_total(206, {"Content-Range": "bytes 3-4/5"}, 3) == 5
    assert expected_total(200, {}, 0) is None
