"""Graph ``POST /$batch``: JSON batching of up to 20 requests (learn.microsoft.com/graph/json-batching).

The envelope is checked here; each item runs through the same pipeline as a top-level Graph
request (``graph.py``), handed in as ``run_item`` so that this module does not import it.
Items run one after another, in the order they are listed except that an item runs after
the items its ``dependsOn`` names.
"""

from __future__ import annotations

import base64
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from meetings_emulator.errors import FailedDependency, MethodNotAllowed, bad_request
from meetings_emulator.graph_auth import authenticate
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.service import EmulatorService

MAX_BATCH = 20
#: The text of a malformed envelope: users report it for an item with an absolute ``url``
#: (microsoftgraph/microsoft-graph-docs-contrib#8576); the page says only "400".
INVALID_PAYLOAD = "Invalid batch payload format."
#: An absolute URL (a scheme and ``://``). json-batching: "The relative resource URL for the
#: individual request. Therefore, while the absolute URL is
#: ``https://graph.microsoft.com/v1.0/users``, this url is ``/users``."
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _item_headers(item: dict[str, Any]) -> dict[str, str]:
    """An item's ``headers`` with lower-case names (as a top-level request's)."""
    return {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}


def _key(item_id: Any) -> str:
    """An id as the batch compares it: json-batching's ``id`` is "Not case-sensitive"."""
    return str(item_id).casefold()


def _depends_on(item: dict[str, Any]) -> list[str]:
    """The ids an item's ``dependsOn`` names (checked by :func:`_checked_items`)."""
    return list(item.get("dependsOn") or [])


def _checked_items(payload: Any) -> list[dict[str, Any]]:
    """The envelope's ``requests``: each with an ``id`` unique in the batch (without case),
    a ``method``, a relative ``url`` and a ``dependsOn`` (if any) naming other items; else
    400 for the whole batch."""
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request(INVALID_PAYLOAD)
    if len(items) > MAX_BATCH:
        raise bad_request(f"Number of batch request steps exceeds the maximum of {MAX_BATCH}.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or not item.get("method") or not item.get("url"):
            raise bad_request("Invalid batch payload format. Each request needs id, method and url.")
        item_id = str(item["id"])
        # "Not case-sensitive. Must be unique in the batch, otherwise, the batch request fails
        # with a 400 error code." (json-batching, the id property)
        if _key(item_id) in seen:
            raise bad_request(f"Batch request ids must be unique; '{item_id}' is repeated.")
        seen.add(_key(item_id))
        if _ABSOLUTE_URL.match(str(item["url"])):
            raise bad_request(INVALID_PAYLOAD)
        depends = item.get("dependsOn")
        if depends is not None and (not isinstance(depends, list) or not all(isinstance(d, str) for d in depends)):
            raise bad_request(INVALID_PAYLOAD)
        if item.get("body") is not None and "content-type" not in _item_headers(item):
            raise bad_request(f"Write request id : {item_id} does not contain Content-Type header or body.")
    for item in items:
        if any(_key(d) not in seen or _key(d) == _key(item["id"]) for d in _depends_on(item)):
            raise bad_request(INVALID_PAYLOAD)
    return items


def _run_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items in the order they run: each after the items its ``dependsOn`` names
    ("requests should be run in the order [...]", json-batching), otherwise as listed; a
    cycle is 400 for the whole batch (an assumption)."""
    pending, done, order = list(items), set(), []
    while pending:
        ready = next((i for i in pending if all(_key(d) in done for d in _depends_on(i))), None)
        if ready is None:
            raise bad_request(INVALID_PAYLOAD)
        pending.remove(ready)
        done.add(_key(ready["id"]))
        order.append(ready)
    return order


def item_request(envelope: GraphRequest, item: dict[str, Any]) -> GraphRequest:
    """The Graph request one batch item stands for (the envelope's token unless it has its own).

    The ``url`` is relative to the envelope's version root (json-batching), with or without
    its leading ``/`` (the page's example has ``users?$select=...``). A version segment is
    not taken off: ``/v1.0/users`` is an unknown path whose first segment is ``v1.0``, and
    the item answers 400 "Resource not found for the segment 'v1.0'." as users report of
    Graph (microsoftgraph/msgraph-sdk-javascript#1178).
    """
    item_headers = _item_headers(item)
    item_headers.setdefault("authorization", envelope.headers.get("authorization", ""))
    url = str(item["url"])
    if not url.startswith("/"):
        url = "/" + url
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
    order = _run_order(items)
    with service.lock:
        service.stats.batch_items += len(items)
    answered: dict[str, dict[str, Any]] = {}
    failed: set[str] = set()
    drop = False
    for item in order:
        item_id = str(item["id"])
        failed_dependency = next((d for d in _depends_on(item) if _key(d) in failed), None)
        if failed_dependency is not None:
            # "If an individual request fails, any request that depends on that request fails
            # with status code 424 (Failed Dependency)." (json-batching, dependsOn); it is not run.
            error = FailedDependency(failed_dependency)
            client_request_id = _item_headers(item).get("client-request-id") or str(uuid.uuid4())
            answered[_key(item_id)] = {
                "id": item_id,
                "status": error.status,
                "headers": {"Content-Type": "application/json"},
                "body": error.body(str(uuid.uuid4()), client_request_id),
            }
            failed.add(_key(item_id))
            continue
        reply = run_item(item_request(request, item))
        drop = drop or reply.drop
        item_response_headers = {
            k: v for k, v in reply.headers.items() if k.lower() not in ("request-id", "client-request-id")
        }
        status = 502 if reply.drop else reply.status
        if not 200 <= status < 300:
            failed.add(_key(item_id))
        answered[_key(item_id)] = {
            "id": item_id,
            "status": status,
            "headers": item_response_headers,
            "body": _item_body(reply),
        }
    responses = [answered[_key(item["id"])] for item in items]
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
