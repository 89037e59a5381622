"""The transport without a network: settings pinned per request, errors mapped, answers as data.

A real ``requests.Session`` with a transport adapter that records what it was given (and
can raise what urllib3 would raise) stands in for the network.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_meetings.graph.errors import ConnectionConfigError, TransportError
from airflow_provider_meetings.graph.transport import Transport, recording_exchanges


class RecordingAdapter(requests.adapters.BaseAdapter):
    """Answers ``status`` (or raises ``error``) and remembers the arguments requests gave it."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None, error: Exception | None = None):
        super().__init__()
        self.status, self.headers, self.error = status, headers or {}, error
        self.calls: list[dict[str, Any]] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        response = requests.Response()
        response.status_code = self.status
        response.headers.update(self.headers)
        response.request = request
        response.url = request.url
        response._content = b'{"ok": true}'
        return response

    def close(self) -> None:
        pass


def transport_with(adapter: RecordingAdapter, **settings: Any) -> Transport:
    transport = Transport(**{"verify": True, "proxies": None, "timeout": 7.5, **settings})
    transport.session.mount("https://", adapter)
    return transport


@pytest.mark.parametrize(
    ("verify", "env", "expected_verify"),
    [
        pytest.param(
            "/etc/ca/emulator.pem",
            {"REQUESTS_CA_BUNDLE": "/wrong.pem"},
            "/etc/ca/emulator.pem",
            id="path beats REQUESTS_CA_BUNDLE",
        ),
        pytest.param(
            "/etc/ca/emulator.pem",
            {"CURL_CA_BUNDLE": "/wrong.pem"},
            "/etc/ca/emulator.pem",
            id="path beats CURL_CA_BUNDLE",
        ),
        pytest.param(False, {"REQUESTS_CA_BUNDLE": "/wrong.pem"}, False, id="false beats REQUESTS_CA_BUNDLE"),
        pytest.param(True, {"REQUESTS_CA_BUNDLE": "/corp.pem"}, "/corp.pem", id="true lets the environment choose"),
    ],
)
def test_settings_are_pinned_for_graph_and_msal(monkeypatch, verify, env, expected_verify):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    adapter = RecordingAdapter()
    transport = transport_with(adapter, verify=verify, proxies={"https": "http://proxy.local:3128"})

    # MSAL calls post() with its own (ignored) timeout; Graph calls go through send().
    transport.msal_client.post("https://login.example/token", data={"a": "b"}, timeout=None)
    transport.send("POST", "https://graph.example/v1.0/x", json={})

    assert len(adapter.calls) == 2
    for call in adapter.calls:
        assert call["verify"] == expected_verify
        assert call["timeout"] == 7.5
        assert call["proxies"]["https"] == "http://proxy.local:3128"


def test_an_answer_carries_status_headers_and_retry_after():
    transport = transport_with(RecordingAdapter(429, {"Retry-After": "2.5", "Content-Type": "application/json"}))

    answer = transport.send("GET", "https://graph.example/v1.0/x")
    assert (answer.status, answer.retry_after, answer.content_type, answer.json()) == (
        429,
        2.5,
        "application/json",
        {"ok": True},
    )
    assert not hasattr(transport.session, "last_retry_after")  # nothing about answers on the session


def test_msal_answers_are_recorded_for_the_running_call_only():
    transport = transport_with(RecordingAdapter(200, {"Content-Type": "text/html; charset=utf-8"}))

    transport.msal_client.post("https://login.example/t/oauth2/v2.0/token?x=1")  # outside: not recorded
    with recording_exchanges() as exchanges:
        transport.msal_client.post("https://login.example/t/oauth2/v2.0/token?x=1")
    assert [(e.url, e.status, e.content_type) for e in exchanges] == [
        ("https://login.example/t/oauth2/v2.0/token", 200, "text/html")
    ]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(requests.exceptions.ConnectTimeout("slow"), "timeout", id="connect timeout"),
        pytest.param(requests.exceptions.ReadTimeout("slow"), "timeout", id="read timeout"),
        pytest.param(requests.exceptions.ChunkedEncodingError("cut"), "dropped", id="cut mid-answer"),
        pytest.param(requests.exceptions.ConnectionError("Connection aborted.", "reset"), "dropped", id="aborted"),
        pytest.param(requests.exceptions.ConnectionError("[Errno 111] Connection refused"), "connection", id="refused"),
        pytest.param(requests.exceptions.ProxyError("proxy down"), "proxy", id="proxy"),
        # The rest of requests' errors: a bulk call must never see requests' own exceptions.
        pytest.param(requests.exceptions.ContentDecodingError("bad gzip"), "connection", id="broken gzip"),
        pytest.param(requests.exceptions.TooManyRedirects("30 redirects"), "connection", id="redirect loop"),
    ],
)
def test_errors_without_an_answer_are_transient(error, kind):
    transport = transport_with(RecordingAdapter(error=error))

    with pytest.raises(TransportError) as caught:
        transport.send("POST", "https://graph.example/v1.0/$batch?secret=no")
    assert caught.value.kind == kind and not caught.value.permanent
    assert caught.value.url == "https://graph.example/v1.0/$batch"


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.InvalidSchema("Missing dependencies for SOCKS support."),
        requests.exceptions.MissingSchema("no scheme"),
        requests.exceptions.InvalidURL("bad"),
    ],
)
def test_an_unusable_url_is_a_config_error_not_retried(error):
    transport = transport_with(RecordingAdapter(error=error))

    with pytest.raises(ConnectionConfigError, match="proxies") as caught:
        transport.send("POST", "https://graph.example/v1.0/$batch")
    assert caught.value.permanent


def test_an_untrusted_certificate_is_a_config_error():
    error = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    transport = transport_with(RecordingAdapter(error=error))

    with pytest.raises(ConnectionConfigError) as caught:
        transport.send("GET", "https://graph.example/v1.0/x")
    assert caught.value.field == "verify" and "graph.example" in str(caught.value)


def test_the_pool_grows_to_the_bulk_concurrency():
    transport = Transport(verify=True, proxies=None, timeout=1, pool_size=4)
    transport.ensure_pool(16)
    assert transport.session.get_adapter("https://graph.example/")._pool_maxsize == 16
    transport.ensure_pool(8)  # never shrinks
    assert transport.pool_size == 16


class StreamingAdapter(requests.adapters.BaseAdapter):
    """Answers with a body read lazily from ``body``, which may fail part way (a dropped connection)."""

    def __init__(self, body: Any, status: int = 200) -> None:
        super().__init__()
        self.body, self.status = body, status
        self.calls: list[dict[str, Any]] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        from urllib3.response import HTTPResponse

        self.calls.append(kwargs)
        raw = HTTPResponse(
            body=self.body, status=self.status, headers={"Content-Type": "video/mp4"}, preload_content=False
        )
        return self.build_response(request, raw)

    def build_response(self, request: Any, raw: Any) -> Any:
        return requests.adapters.HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


class BrokenBody:
    """A socket file that gives ``good`` bytes, then a reset connection."""

    def __init__(self, good: bytes) -> None:
        self.good = good

    def read(self, amount: int = -1, *args: Any) -> bytes:
        if self.good:
            chunk, self.good = self.good[:amount], self.good[amount:]
            return chunk
        raise ConnectionResetError(104, "Connection reset by peer")

    def close(self) -> None:
        pass

    closed = False


def test_a_stream_is_read_in_chunks_as_it_is_iterated():
    import io

    adapter = StreamingAdapter(io.BytesIO(b"x" * 10_000))
    transport = Transport(verify=True, proxies=None, timeout=7.5)
    transport.session.mount("https://", adapter)
    answer = transport.stream("GET", "https://graph.example/v1.0/x", headers={"Accept": "*/*"}, chunk_size=4096)
    assert adapter.calls[0]["stream"] is True and adapter.calls[0]["timeout"] == 7.5
    assert answer.status == 200 and answer.header("content-type") == "video/mp4"
    assert [len(chunk) for chunk in answer.chunks] == [4096, 4096, 1808]
    answer.close()


def test_a_drop_while_a_stream_is_read_is_a_transient_transport_error():
    adapter = StreamingAdapter(BrokenBody(b"y" * 5000))
    transport = Transport(verify=True, proxies=None, timeout=7.5)
    transport.session.mount("https://", adapter)
    answer = transport.stream("GET", "https://graph.example/v1.0/x?secret=1", chunk_size=1000)
    received = bytearray()
    with pytest.raises(TransportError) as caught:
        for chunk in answer.chunks:
            received += chunk
    assert caught.value.kind == "dropped" and not caught.value.permanent
    assert "secret" not in str(caught.value) and len(received) == 5000
