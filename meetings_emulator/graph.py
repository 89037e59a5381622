"""The Graph pipeline: one Graph request (or batch item) from route to reply.

In order: resolve the route (``routes.py``), take a scripted or random fault, then for a
known route authenticate the token (``graph_auth.py``), apply the rate limit, answer 405
for a method the route lacks, check the permission (``permissions.py``) and call the
route's handler; Graph errors become Graph's error body; then the ``request-id`` headers,
the counters of ``/_emulator/stats`` and the request log.
"""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from collections.abc import Iterator

from meetings_emulator.errors import GraphError, MethodNotAllowed, TooManyRequests, bad_request
from meetings_emulator.fault_replies import strike
from meetings_emulator.faults import format_retry_after
from meetings_emulator.graph_auth import authenticate
from meetings_emulator.graph_events import mailbox_id
from meetings_emulator.mailboxes import OUTLOOK_CONCURRENCY
from meetings_emulator.messages import GraphRequest, Reply
from meetings_emulator.permissions import EVENT_ROUTES, require_for_route
from meetings_emulator.routes import BATCH, GRAPH_ROUTES, Handler, resolve, unresolved_segment
from meetings_emulator.service import EmulatorService
from meetings_emulator.tokens import AccessToken

log = logging.getLogger("meetings_emulator")

GRAPH_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)


def answer_graph(
    service: EmulatorService,
    request: GraphRequest,
    *,
    top_level: bool = True,
    latency_s: float = 0.0,
    outlook_items: Iterator[int] | None = None,
) -> Reply:
    """One Graph request or batch item, with scripted faults and rate limiting.

    :param service: the emulator.
    :param request: the request, its path after the version segment.
    :param top_level: ``False`` for an item of a ``$batch`` (random faults hit the
        envelope, not its items)
    :param latency_s: the emulator's latency for this HTTP request; a mailbox (events) route
        spends it holding one of the mailbox's concurrency slots, other routes first.
    :param outlook_items: for a batch item, counts the batch's event items so far
    """
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    ids = (request_id, client_request_id)
    route, handler, match = resolve(GRAPH_ROUTES, request.method, request.path)
    if not top_level and route in EVENT_ROUTES:
        # "A $batch runs at most 4 Outlook items at a time" (throttling-limits, Outlook service
        # limits): the emulator runs them one after another, each holding a slot for a quarter
        # of the latency, so a batch gets through at the rate of 4 concurrent requests. The
        # first 4 run within the envelope's own latency (one round of 4 concurrent requests
        # takes one latency): a batch of n event items takes max(1, n/4) latencies, as n
        # unbatched requests 4 at a time do (docs/emulator.md, an assumption).
        first_round = outlook_items is not None and next(outlook_items) < OUTLOOK_CONCURRENCY
        latency_s = 0.0 if first_round else max(service.latency_ms, 0.0) / 1000.0 / OUTLOOK_CONCURRENCY
    if latency_s > 0 and route not in EVENT_ROUTES:
        service.sleep(latency_s)
        latency_s = 0.0
    if route == BATCH:
        # Unmatched faults are meant for the items; the envelope only takes faults whose
        # ``match`` names it explicitly.
        fault = service.take_explicit_fault("graph", request.method, request.path)
    else:
        fault = service.take_fault("graph", request.method, request.path, top_level=top_level)
    reply = strike(fault, "before", service.sleep, graph=True, ids=ids, authority=service.base_url)
    if reply is not None and latency_s > 0:
        service.sleep(latency_s)
    if reply is None:
        try:
            if route == BATCH and handler is not None:
                counter = itertools.count()
                reply = handler(
                    service, request, lambda item: answer_graph(service, item, top_level=False, outlook_items=counter)
                )
            else:
                reply = _call_route(service, request, route, handler, match, latency_s)
        except GraphError as error:
            reply = Reply(error.status, error.body(request_id, client_request_id), error.headers)
        reply = strike(fault, "after", service.sleep, graph=True, ids=ids, authority=service.base_url) or reply
        if fault is not None and fault.kind == "drop_mid_stream":
            # The answer starts, then the connection drops after ``after_bytes`` of its body.
            reply.drop_after = fault.after_bytes
    reply.headers.setdefault("request-id", request_id)
    reply.headers.setdefault("client-request-id", client_request_id)
    if isinstance(reply.body, (dict, list)):
        reply.headers.setdefault("Content-Type", GRAPH_CONTENT_TYPE)
    _count(service, route, reply)
    if service.config.log_requests:
        log.info(
            "%s /%s%s -> %s",
            request.method,
            request.version,
            request.path,
            "dropped" if reply.drop else reply.status,
        )
    return reply


def _count(service: EmulatorService, route: str, reply: Reply) -> None:
    outcome = "dropped" if reply.drop else reply.status
    with service.lock:
        if route == BATCH:
            service.stats.count_batch(route, outcome)
        else:
            service.stats.count_graph(route, outcome)


def _call_route(
    service: EmulatorService,
    request: GraphRequest,
    route: str,
    handler: Handler | None,
    match: re.Match[str] | None,
    latency_s: float = 0.0,
) -> Reply:
    """Route checks, authentication and the rate limit, then the route's handler.

    An events route holds one of its mailbox's slots (:class:`~.mailboxes.MailboxSlots`)
    while it spends ``latency_s`` and runs; a request over the limit answers 429.
    """
    slept = False
    try:
        if match is None:
            segment = unresolved_segment(GRAPH_ROUTES, request.path)
            raise bad_request(f"Resource not found for the segment '{segment}'.")
        token = _admitted_token(service, request)
        if handler is None:
            raise MethodNotAllowed(request.method)
        if route != "getUser":  # GET /users checks its own permission (user-get page)
            require_for_route(token, route, request.method)
        mailbox = mailbox_id(service, match, token) if route in EVENT_ROUTES else None
        if mailbox is None:
            return handler(service, request, match, token)
        with service.mailboxes.slot(token.client_id, mailbox):
            slept = True
            if latency_s > 0:
                service.sleep(latency_s)
            return handler(service, request, match, token)
    finally:
        if not slept and latency_s > 0:
            service.sleep(latency_s)


def _admitted_token(service: EmulatorService, request: GraphRequest) -> AccessToken:
    """The request's token, once authenticated and admitted by the rate limit."""
    token = authenticate(service, request.headers)
    with service.lock:
        if not service.limiter.admit():
            retry_after = service.rate_limit_retry_after
            raise TooManyRequests(None if retry_after is None else format_retry_after(retry_after))
    return token
