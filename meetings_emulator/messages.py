"""The HTTP-free values the handlers work on: an incoming request and the reply to send.

``server.py`` turns bytes into an :class:`HttpRequest` and a :class:`Reply` back into bytes;
everything between (``dispatch.py``, the handlers) sees only these values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meetings_emulator.errors import EmptyPayload, bad_request

#: A Graph path: the version segment (``v1.0`` or ``beta``) and the path after it.
GRAPH_PATH_RE = re.compile(r"^/(?P<version>v1\.0|beta)(?P<path>/.*)$")


@dataclass
class Reply:
    """One HTTP answer (or a batch item).

    :param status: HTTP status.
    :param body: a JSON-able object, ``str`` (sent as is) or ``None``.
    :param headers: response headers.
    :param drop: close the connection without answering.
    :param stream: the body as chunks written one after another as they are generated
        (``body`` is then ignored; ``headers`` must hold its ``Content-Length``).
    :param drop_after: send only this many body bytes, then close the connection (the
        ``drop_mid_stream`` fault).
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    stream: Iterable[bytes] | None = None
    drop_after: int | None = None


@dataclass(frozen=True)
class HttpRequest:
    """One request as it arrived, before routing.

    :param method: HTTP method.
    :param target: the request target as sent (path and query), which scripted token faults match.
    :param path: the path of the target.
    :param query: the raw query string.
    :param headers: request headers (lower-case names).
    :param body: the raw body.
    """

    method: str
    target: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class GraphRequest:
    """A Graph call, top-level or a batch item.

    :param method: HTTP method.
    :param path: path after the version segment, e.g. ``/users/x/onlineMeetings/createOrGet``.
    :param query: raw query string.
    :param headers: request headers (lower-case names).
    :param body: raw body bytes, or an already-decoded JSON object for batch items.
    :param version: ``v1.0`` or ``beta``.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    version: str = "v1.0"

    def json_body(self) -> Any:
        """The body as JSON; Graph's 400 for an empty or unreadable one.

        :raises GraphError: the body is empty or not JSON.
        """
        body = self.body
        if isinstance(body, (bytes, bytearray)):
            if not body.strip():
                raise EmptyPayload()
            try:
                return json.loads(body)
            except ValueError:
                raise bad_request(
                    "Unable to read JSON request payload. Please ensure Content-Type "
                    "header is set and payload is of valid JSON format."
                ) from None
        if body is None:
            raise EmptyPayload()
        return body
