"""Downloads too large for memory: a Graph ``GET`` streamed in chunks into a sink, resumed or restarted.

One attempt sends the request (with the token, the 401 rule and the retries of every call:
:meth:`~airflow_provider_meetings.graph.client.GraphRestClient.call`) and writes the body,
chunk by chunk, into a :class:`DownloadSink`. A connection that drops mid-answer is retried
by :func:`~airflow_provider_meetings.graph.retry_loop.run_with_retries` under the
connection's one retry policy (:mod:`~airflow_provider_meetings.graph.retry`), like any
other dropped call:

* the next attempt asks for the rest with ``Range: bytes=<written>-``
  (https://www.rfc-editor.org/rfc/rfc9110#name-range-requests); a ``206 Partial Content``
  whose ``Content-Range`` starts there continues the sink;
* any other 2xx (a server that ignores ``Range`` answers ``200`` with the whole body) makes
  the sink start over (:meth:`DownloadSink.restart`);
* a body shorter than its ``Content-Length`` is a dropped connection too, never a success.

Nothing here knows a resource; the sink decides where the bytes go (a file, an object store).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_meetings.graph.answer import StreamedAnswer, url_without_query
from airflow_provider_meetings.graph.errors import TransportError

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

#: Bytes read from the socket and handed to the sink at a time.
DEFAULT_CHUNK_SIZE = 1 << 20
_CONTENT_RANGE_RE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
PARTIAL_CONTENT = 206


class DownloadSink(Protocol):
    """Where a download's bytes go; it keeps what was written across attempts."""

    #: bytes kept so far (a retry asks the server for the rest)
    written: int

    def write(self, data: bytes) -> None:
        """Keep the next chunk."""

    def restart(self) -> None:
        """Forget everything written: the server sends the whole body again."""


@dataclass(frozen=True)
class DownloadOutcome:
    """What a download wrote.

    :param size: bytes written
    :param content_type: the answer's media type
    :param resumed: attempts that continued with ``Range`` after a drop
    :param restarted: attempts that started over (the server ignored ``Range``)
    """

    size: int
    content_type: str
    resumed: int = 0
    restarted: int = 0


def content_range_start(value: str | None) -> tuple[int, int | None] | None:
    """``(first byte, complete length or None)`` of a ``Content-Range`` header, or ``None``."""
    match = _CONTENT_RANGE_RE.match(value or "")
    if not match:
        return None
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


def expected_total(status: int, headers: Mapping[str, str], start: int) -> int | None:
    """The complete size the body should reach, when the answer says (``None``: unknown)."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    if status == PARTIAL_CONTENT:
        parsed = content_range_start(lowered.get("content-range"))
        return parsed[1] if parsed else None
    length = lowered.get("content-length")
    try:
        return int(length) if length is not None else None
    except ValueError:
        return None


def download(
    client: GraphRestClient,
    path: str,
    sink: DownloadSink,
    *,
    headers: Mapping[str, str] | None = None,
    what: str | None = None,
    user_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> DownloadOutcome:
    """``GET path`` streamed into ``sink``, retried (resumed or restarted) under the connection's policy.

    :param client: the Graph client (its transport must offer ``stream``)
    :param path: path below the versioned Graph root (or an absolute URL on the Graph host)
    :param sink: where the bytes go
    :param headers: more request headers (e.g. ``Accept``)
    :param what: the call in logs and errors
    :param user_id: the user the call is about, named in access-policy errors
    :param chunk_size: bytes per chunk at most
    :raises GraphAPIError: for an error answer that retrying cannot fix
    :raises RetriesExhaustedError: when drops or transient answers outlast the retry bound
    """
    url = client.url(path)  # an absolute URL on another host is refused: the token would go there
    where = url_without_query(url)
    what = what or f"GET /{path.lstrip('/')}"
    counts = {"resumed": 0, "restarted": 0}
    content_type = [""]

    def send(token: str) -> StreamedAnswer:
        request_headers = {**client.headers(token, has_body=False), **(headers or {})}
        if sink.written:  # the rest of what a dropped connection cut short
            request_headers["Range"] = f"bytes={sink.written}-"
        return client.transport.stream("GET", url, headers=request_headers, chunk_size=chunk_size)

    def receive(answer: StreamedAnswer) -> int:
        try:  # nothing was written since send(): the sink is where the request asked to start
            return _receive(answer, sink, sink.written, where, what, client.log, counts, content_type)
        finally:
            answer.close()

    client.call(send, what=what, user_id=user_id, receive=receive)
    return DownloadOutcome(sink.written, content_type[0], counts["resumed"], counts["restarted"])


def _receive(
    answer: Any,
    sink: DownloadSink,
    start: int,
    where: str,
    what: str,
    log: Any,
    counts: dict[str, int],
    content_type: list[str],
) -> int:
    """Write one answer's body into the sink (continuing it, or from the start)."""
    content_type[0] = answer.content_type
    if start:
        parsed = content_range_start(answer.header("Content-Range"))
        if answer.status == PARTIAL_CONTENT and parsed and parsed[0] == start:
            counts["resumed"] += 1
            log.info("%s: resuming at byte %d", what, start)
        else:
            counts["restarted"] += 1
            log.info("%s: the server sent the whole body again (no Range support); starting over", what)
            sink.restart()
            start = 0
    total = expected_total(answer.status, answer.headers, start)
    for chunk in answer.chunks:
        if chunk:
            sink.write(chunk)
    if total is not None and sink.written < total:
        raise TransportError("dropped", where, f"the answer ended after {sink.written:,} of {total:,} bytes")
    return sink.written
