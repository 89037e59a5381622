"""An in-memory transport that answers from a handler function, for tests of the retry rules.

In the style of httpx's ``MockTransport(handler)``: the handler gets each request as a
:class:`MockRequest` and returns an :class:`~airflow_provider_meetings.graph.answer.HttpAnswer`
(or raises :class:`~airflow_provider_meetings.graph.errors.TransportError` for "no answer").
It stands in for :class:`~airflow_provider_meetings.graph.transport.Transport` wherever the
client sends, single calls and ``$batch`` alike, so a rule is tested in milliseconds without
sockets, TLS or the emulator. :class:`MockTokens` stands in for the token source.

Pure: no requests, no msal, no network.
"""

from __future__ import annotations

import json as jsonlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_meetings.graph.answer import HttpAnswer, StreamedAnswer, header
from airflow_provider_meetings.graph.retry import RetryPolicy


@dataclass(frozen=True)
class MockRequest:
    """One request as the handler sees it.

    :param method: HTTP method
    :param url: the absolute URL
    :param headers: the request headers
    :param json: the JSON body, or ``None``
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None

    @property
    def path(self) -> str:
        """The URL's path, e.g. ``/v1.0/users/x/onlineMeetings/createOrGet``."""
        return urlsplit(self.url).path

    @property
    def token(self) -> str | None:
        """The bearer token it carries, if any."""
        value = header(self.headers, "Authorization") or ""
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None


def json_answer(status: int, body: Any = None, *, headers: Mapping[str, str] | None = None) -> HttpAnswer:
    """An answer with a JSON body (none for ``None``), e.g. ``json_answer(201, {"id": "m"})``.

    :param status: HTTP status
    :param body: what to encode as JSON
    :param headers: more headers, e.g. ``{"Retry-After": "2"}``
    """
    all_headers = dict(headers or {})
    content = b""
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
        content = jsonlib.dumps(body).encode()
    return HttpAnswer(status, all_headers, content)


def graph_error_answer(
    status: int, code: str, message: str = "", *, headers: Mapping[str, str] | None = None
) -> HttpAnswer:
    """An answer with Graph's error body ``{"error": {"code", "message"}}``."""
    return json_answer(status, {"error": {"code": code, "message": message or code}}, headers=headers)


Handler = Callable[[MockRequest], Any]


class MockTransport:
    """A transport whose answers come from ``handler``; every request is kept in :attr:`requests`.

    Thread-safe (the bulk engine sends from worker threads): the handler is called under a lock.

    :param handler: the request's answer; may raise ``TransportError`` (no answer)
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        #: what was sent, in order
        self.requests: list[MockRequest] = []
        self._lock = threading.Lock()

    def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None) -> HttpAnswer:
        """Answer one request from the handler."""
        request = MockRequest(method, url, dict(headers or {}), json)
        with self._lock:
            self.requests.append(request)
            answer = self.handler(request)
        return answer if answer.url else replace(answer, url=url)

    def stream(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, chunk_size: int = 1 << 20
    ) -> StreamedAnswer:
        """Answer one request from the handler, its body in chunks of ``chunk_size``.

        The handler may return a :class:`~airflow_provider_meetings.graph.answer.StreamedAnswer`
        itself (e.g. one whose chunks raise ``TransportError`` part way: a dropped connection).
        """
        request = MockRequest(method, url, dict(headers or {}))
        with self._lock:
            self.requests.append(request)
            answer = self.handler(request)
        if isinstance(answer, StreamedAnswer):
            return answer
        content = answer.content
        chunks = iter([content[i : i + chunk_size] for i in range(0, len(content), chunk_size)])
        return StreamedAnswer(answer.status, answer.headers, chunks, answer.url or url)

    def ensure_pool(self, size: int) -> None:
        """Nothing to pool in memory."""

    def close(self) -> None:
        """Nothing to close."""


class MockTokens:
    """A token source that hands out ``token-0``, then ``token-1`` after each :meth:`invalidate`."""

    def __init__(self) -> None:
        self.generation = 0
        #: how often a token was asked for, and how often one was forgotten
        self.gets = 0
        self.invalidations = 0

    def get(self, policy: RetryPolicy | None = None) -> str:
        """The current token."""
        self.gets += 1
        return f"token-{self.generation}"

    def invalidate(self) -> None:
        """Forget the token: the next one is new."""
        self.invalidations += 1
        self.generation += 1
