"""Graph ``POST /$batch``: JSON batching of up to 20 requests (learn.microsoft.com/graph/json-batching).

The envelope is checked here; each item runs through the same pipeline as a top-level Graph
request (``graph.py``), handed in as ``run_item`` so that this module does not import it.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from meetings_emulator.errors import MethodNotAllowed, bad_request
from meetings_emulator.graph_auth import authenticate
from meetings_emulator.messages import GRAPH_PATH_RE, GraphRequest, Reply
from meetings_emulator.service import EmulatorService

MAX_BATCH = 20


def _item_headers(item: dict[str, Any]) -> dict[str, str]:
    """An item's ``headers`` with lower-case names (as a top-level request's)."""
    return {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}


def _checked_items(payload: Any) -> list[dict[str, Any]]:
    """The envelope's ``requests``, each with a unique ``id``, a ``method`` and a ``url``."""
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("Invalid batch payload format.")
    if len(items) > MAX_BATCH:
        raise bad_request(f"Number of batch request steps exceeds the maximum of {MAX_BATCH}.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or not item.get("method") or not item.get("url"):
            raise bad_request("Invalid batch payload format. Each request needs id, method and url.")
        item_id = str(item["id"])
        if item_id in seen:
            raise bad_request(f"Batch request ids must be unique; '{item_id}' is repeated.")
        seen.add(item_id)
        if item.get("body") is not None and "content-type" not in _item_headers(item):
            raise bad_request(f"Write request id : {item_id} does not contain Content-Type header or body.")
    return items


def item_request(envelope: GraphRequest, item: dict[str, Any]) -> GraphRequest:
    """The Graph request one batch item stands for (the envelope's token unless it has its own)."""
    item_headers = _item_headers(item)
    item_headers.setdefault("authorization", envelope.headers.get("authorization", ""))
    url = str(item["url"])
    if url.lower().startswith("https://"):
        url = urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
    if not url.startswith("/"):
        url = "/" + url
    # An item's URL may carry the version segment (``/v1.0/users/...``); items run in the envelope's version.
    version_match = GRAPH_PATH_RE.match(url)
    if version_match:
        url = version_match["path"]
    path, _, query = url.partition("?")
    return GraphRequest(
        method=str(item["method"]).upper(),
        path=path,
        query=query,
        headers=item_headers,
        body=item.get("body"),
        version=envelope.version,
    )


def answer_batch(service: EmulatorService, request: GraphRequest, run_item: Callable[[GraphRequest], Reply]) -> Reply:
    """``POST /$batch``: every item's answer in one envelope, in :attr:`~.EmulatorService.batch_order`.

    :param service: the emulator.
    :param request: the envelope.
    :param run_item: answers one item as a Graph request inside a batch.
    """
    if request.method != "POST":
        raise MethodNotAllowed(request.method)
    authenticate(service, request.headers)
    items = _checked_items(request.json_body())
    with service.lock:
        service.stats.batch_items += len(items)
    responses = []
    drop = False
    for item in items:
        reply = run_item(item_request(request, item))
        drop = drop or reply.drop
        item_response_headers = {
            k: v for k, v in reply.headers.items() if k.lower() not in ("request-id", "client-request-id")
        }
        responses.append(
            {
                "id": str(item["id"]),
                "status": 502 if reply.drop else reply.status,
                "headers": item_response_headers,
                "body": _item_body(reply),
            }
        )
    if service.batch_order == "reverse":
        responses.reverse()
    elif service.batch_order == "shuffle":
        random.shuffle(responses)
    # "Requests in a batch are evaluated individually against throttling limits and if any
    # request exceeds the limits, it fails with a status of 429 [...]. The batch itself
    # fails with a status code of 424 (Failed Dependency)."
    # (https://learn.microsoft.com/graph/throttling, "Throttling and batching"). The
    # envelope still carries every item's response; otherwise a batch answers 200.
    throttled = any(r["status"] == 429 for r in responses)
    return Reply(424 if throttled else 200, {"responses": responses}, drop=drop)


def _item_body(reply: Reply) -> Any:
    """An item's body in the JSON envelope: binary content (a transcript, a recording) as base64.

    Users report that Graph answers a non-JSON body of a batch item base64-encoded (Microsoft
    Q&A 1352007; the json-batching page says so of request bodies). A streamed body is read
    whole here: do not batch large downloads.
    """
    if reply.stream is not None:
        return base64.b64encode(b"".join(reply.stream)).decode()
    if isinstance(reply.body, (bytes, bytearray)):
        return base64.b64encode(bytes(reply.body)).decode()
    return reply.body
