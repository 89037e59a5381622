"""One HTTP answer as plain data: what the transport returns and the engines read.

Pure (neither requests nor msal): the bulk engine and the tests build and read these
without a network. Everything a retry decision needs travels with the answer itself
(status, headers, ``Retry-After``), never on a shared session.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_meetings.graph.errors import GraphAPIError
from airflow_provider_meetings.graph.retry import parse_retry_after


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A header's value, whatever the case of its name (``$batch`` items use plain dicts)."""
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if str(key).lower() == lowered:
            return str(value)
    return None


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, without parameters and in lower case, e.g.
    ``application/json`` for ``application/json; charset=utf-8`` (``""`` when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def url_without_query(url: str) -> str:
    """Where a request went, for errors and logs: scheme, host and path (a query may carry
    a filter's values, and a download URL a signature)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class AnswerHead:
    """What a whole and a streamed answer both tell before their body: the status and the
    headers, read the same way."""

    status: int
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    @property
    def retry_after(self) -> float | None:
        """``Retry-After`` in seconds (either legal form), or ``None``."""
        return parse_retry_after(self.header("Retry-After"))

    @property
    def content_type(self) -> str:
        """The media type without parameters, e.g. ``application/json`` (``""`` when absent)."""
        return media_type(self.header("Content-Type"))

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        return header(self.headers, name)


@dataclass(frozen=True)
class HttpAnswer(AnswerHead):
    """Status, headers and body of one HTTP answer.

    :param status: HTTP status
    :param headers: response headers (any case)
    :param content: the raw body
    :param url: the URL the request went to
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    url: str = ""

    def json(self) -> Any:
        """The decoded JSON body, or ``None`` when the body is empty or not JSON."""
        if not self.content.strip():
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    def json_object(self, what: str) -> dict[str, Any]:
        """The JSON object of a 2xx answer, e.g. the resource a POST or PATCH returned.

        :param what: the resource, named in the error (``onlineMeeting``, ``event``)
        :raises GraphAPIError: ``InvalidResponse`` when the body is no JSON object
        """
        body = self.json()
        if not isinstance(body, dict):
            raise GraphAPIError(self.status, "InvalidResponse", f"the answer was not a JSON {what}")
        return body


@dataclass
class StreamedAnswer(AnswerHead):
    """An answer whose body is read in chunks, for downloads too large to hold in memory.

    :param status: HTTP status
    :param headers: response headers (any case)
    :param chunks: the body, chunk by chunk; iterating may raise
        :class:`~airflow_provider_meetings.graph.errors.TransportError` (the connection dropped)
    :param url: the URL the request went to
    :param close: releases the connection (call it whether or not the body was read)
    """

    status: int
    headers: Mapping[str, str]
    chunks: Iterator[bytes]
    url: str = ""
    close: Callable[[], None] = field(default=lambda: None, repr=False)

    def read_all(self) -> HttpAnswer:
        """The whole answer as an :class:`HttpAnswer` (for an error answer, which is small)."""
        try:
            content = b"".join(self.chunks)
        finally:
            self.close()
        return HttpAnswer(self.status, self.headers, content, self.url)
