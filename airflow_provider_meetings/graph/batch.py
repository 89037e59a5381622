"""Graph JSON batching (``$batch``): requests as data, batch payloads, and reading batch answers.

Pure functions and plain data; the engine that sends is in ``batch_engine.py``. Nothing
here knows a resource: a request is a method, a path, a body and the caller's key.

* a batch holds at most 20 requests, ids unique, ``Content-Type`` on every body
  (https://learn.microsoft.com/graph/json-batching);
* an answer maps back to the items by id, in any order; each item is classified by its
  own status, whatever the envelope's status (a batch whose items were throttled is
  answered 424 and still carries every item's answer:
  https://learn.microsoft.com/graph/throttling#throttling-and-batching).

Nothing here imports requests or msal.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_meetings.graph.answer import header
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    InvalidRequestError,
    graph_error_from_response,
    is_permanent,
)
from airflow_provider_meetings.graph.retry import needs_fresh_token, parse_retry_after

#: Graph's limit of requests in one ``$batch``.
MAX_BATCH_ITEMS = 20
#: ``$batch`` requests one bulk call keeps in flight at most (its ``max_concurrency``, and the
#: connection's ``bulk_concurrency``).
MAX_BULK_CONCURRENCY = 32
#: Items one bulk call takes. Results (and the task's XCom) grow with the list; beyond
#: this, split the work across tasks (by week, by organizer) so each stays retryable.
MAX_BULK_ITEMS = 10_000


def check_bulk_size(count: int, field_name: str) -> None:
    """Refuse a bulk call of more than :data:`MAX_BULK_ITEMS` items.

    :param count: how many items the call has
    :param field_name: the argument that holds them, e.g. ``meetings``
    :raises InvalidRequestError: too many items (checked before anything is sent)
    """
    if count > MAX_BULK_ITEMS:
        raise InvalidRequestError(
            field_name,
            f"has {count:,} items; one bulk call takes at most {MAX_BULK_ITEMS:,}. "
            "Split the list across tasks (e.g. by week or by organizer); nothing was sent",
        )


def check_concurrency(max_concurrency: Any, default: int) -> int:
    """``max_concurrency`` of a bulk call, checked before anything is sent.

    :param max_concurrency: the caller's value; ``None``: ``default``
    :param default: the connection's ``bulk_concurrency`` (already checked)
    :raises ValueError: unless it is a whole number from 1 to :data:`MAX_BULK_CONCURRENCY`
    """
    concurrency = default if max_concurrency is None else max_concurrency
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_BULK_CONCURRENCY
    ):
        raise ValueError(
            f"max_concurrency must be a whole number from 1 to {MAX_BULK_CONCURRENCY}, got {concurrency!r}"
        )
    return concurrency


def check_progress_interval(progress_interval: Any) -> float:
    """``progress_interval`` of a bulk call, checked before anything is sent.

    :raises ValueError: unless it is a finite number of seconds above 0 (0 made the engine's
        loop call ``progress`` on every pass, tens of thousands of log lines a second)
    """
    if (
        isinstance(progress_interval, bool)
        or not isinstance(progress_interval, (int, float))
        or not 0 < progress_interval < math.inf
    ):
        raise ValueError(f"progress_interval must be a number of seconds above 0, got {progress_interval!r}")
    return float(progress_interval)


@dataclass(frozen=True)
class GraphRequest:
    """One Graph call as data: for a single call or a ``$batch`` item.

    :param path: below the versioned Graph root, e.g. ``users/<id>``
    :param body: the JSON body (``None`` for GET and DELETE)
    :param user_id: the user the call is about (``None``: ``/me`` or none), named in
        access-policy and not-found errors
    :param method: HTTP method
    :param key: the caller's key of the request (e.g. a resource's external id), kept in its result
    :param label: how log lines name it after the operation, e.g. ``items[3] key=x``
        (default: method and path)
    """

    path: str
    body: dict[str, Any] | None = None
    user_id: str | None = None
    method: str = "GET"
    key: str | None = None
    label: str | None = field(default=None, compare=False)

    def describe(self, operation: str) -> str:
        """The request in log lines: ``<operation> <label>``, or ``<method> /<path>`` without a label."""
        return f"{operation} {self.label}" if self.label else f"{self.method} /{self.path}"


class FailableResult:
    """What every item result of a bulk call tells alike, from its ``error`` (``None``: it
    succeeded): the base of :class:`BatchItemResult` and of each resource's bulk item result."""

    __slots__ = ()
    error: BaseException | None

    @property
    def ok(self) -> bool:
        """Whether the item succeeded."""
        return self.error is None

    @property
    def permanent(self) -> bool:
        """Whether the failure would repeat on a re-run (``False`` when it succeeded)."""
        return self.error is not None and is_permanent(self.error)


@dataclass(frozen=True, slots=True)
class BatchItemResult(FailableResult):
    """The outcome of one request of a bulk run.

    :param index: position of the request in the run
    :param key: the request's key (``None`` when it has none)
    :param user_id: the request's user
    :param body: the kept fields of the answer's body (see ``keep_fields``), or ``None``
    :param error: why the request failed, or ``None``
    :param attempts: requests sent for it (0 if it was never sent)
    :param http_status: the HTTP status of its successful answer (``None`` on error)
    """

    index: int
    key: str | None
    user_id: str | None
    body: Mapping[str, Any] | None = None
    error: BaseException | None = None
    attempts: int = 0
    http_status: int | None = None

    @property
    def created(self) -> bool | None:
        """``True`` for 201, ``False`` for another 2xx, ``None`` on error."""
        return None if self.error is not None else self.http_status == 201


@dataclass(frozen=True)
class BulkProgress:
    """A snapshot of a running bulk call, for progress logs.

    :param done: items finished (succeeded or failed, the refused ones included)
    :param total: items in the call
    :param succeeded: items that succeeded
    :param failed: items that failed for good
    :param retries: item retries made so far
    :param throttled: per-item or whole-batch 429 answers seen (in items)
    :param elapsed: seconds since sending started
    :param concurrency: batches allowed in flight now (lowered while Graph throttles)
    :param paced_rate: items per second the pacer allows now (``None``: not paced)
    :param batches: ``$batch`` requests sent so far
    :param peak_in_flight: the most batches that were in flight at once
    :param max_concurrency: the configured ceiling of batches in flight
    :param operation: what the items are (``createOrGet``, ``PATCH``, ``GET users``...)
    """

    done: int
    total: int
    succeeded: int
    failed: int
    retries: int
    throttled: int
    elapsed: float
    concurrency: int
    paced_rate: float | None
    batches: int = 0
    peak_in_flight: int = 0
    max_concurrency: int = 0
    operation: str = "requests"

    @property
    def rate(self) -> float:
        """Finished items per second since sending started."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


# -- batch payloads and answers ------------------------------------------------------------


def chunked(items: Iterable[Any], size: int = MAX_BATCH_ITEMS) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    if not 1 <= size <= MAX_BATCH_ITEMS:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} requests, not {size}")
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def batch_item_id(index: int) -> str:
    """The ``$batch`` request id of an item: its input position, unique within a call."""
    return str(index)


def batch_request(index: int, request: GraphRequest) -> dict[str, Any]:
    """One request of a ``$batch``: its URL relative to the version root; ``Content-Type``
    with every body, as the json-batching page requires."""
    item: dict[str, Any] = {
        "id": batch_item_id(index),
        "method": request.method,
        "url": "/" + request.path.lstrip("/"),
    }
    if request.body is not None:
        item["headers"] = {"Content-Type": "application/json"}
        item["body"] = request.body
    return item


def build_batch_payload(items: Sequence[tuple[int, GraphRequest]]) -> dict[str, Any]:
    """The ``$batch`` body for up to 20 requests."""
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} requests, not {len(items)}")
    return {"requests": [batch_request(index, request) for index, request in items]}


class ItemKind(enum.Enum):
    """What one item's answer inside a ``$batch`` response means for it."""

    #: 2xx: 200/201 with a body, 202/204 without one.
    OK = "ok"
    #: transient (408, 424, 429, 5xx, or no entry for the item): send it again.
    RETRY = "retry"
    #: 401: send it again with a fresh token (once: ``retry.needs_fresh_token``).
    UNAUTHORIZED = "unauthorized"
    #: permanent: final for the item.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One item's answer inside a ``$batch`` response, classified.

    :param index: the item's input position
    :param kind: what the answer means for the item
    :param status: the item's HTTP status (0 when the answer had no entry for it)
    :param body: the kept fields of the body for ``ok``
    :param error: the error otherwise
    :param retry_after: the item's own ``Retry-After`` in seconds
    """

    index: int
    kind: ItemKind
    status: int
    body: Mapping[str, Any] | None = None
    error: BaseException | None = None
    retry_after: float | None = None


def keep_fields(body: Mapping[str, Any], keep: Sequence[str] | None) -> dict[str, Any]:
    """The fields of ``body`` named in ``keep`` (all but OData annotations for ``None``)."""
    if keep is None:
        return {k: v for k, v in body.items() if not k.startswith("@odata.")}
    return {k: body[k] for k in keep if k in body}


def batch_responses(payload: Any) -> list[Any] | None:
    """The per-item answers of a ``$batch`` envelope, or ``None`` when it carries none.

    Read whatever the envelope's status: Graph answers 424 for a batch whose items were
    throttled and still lists every item's answer; only an envelope without ``responses``
    (a whole-batch 429/503, a proxy's page) applies to every item alike.
    """
    responses = payload.get("responses") if isinstance(payload, Mapping) else None
    return responses if isinstance(responses, list) else None


def classify_batch_response(
    sent: Sequence[tuple[int, str | None]],
    payload: Any,
    *,
    keep: Sequence[str] | None = None,
) -> list[ItemOutcome]:
    """Map a ``$batch`` answer (in any order) back to the items sent, in the order sent.

    :param sent: ``(index, user_id)`` of each item in the batch
    :param payload: the decoded answer, ``{"responses": [{"id", "status", "headers", "body"}]}``
    :param keep: body fields to keep (``None``: all)
    """
    by_id: dict[str, Mapping[str, Any]] = {}
    for entry in batch_responses(payload) or ():
        if isinstance(entry, Mapping) and "id" in entry:
            by_id[str(entry["id"])] = entry
    outcomes = []
    for index, user_id in sent:
        entry = by_id.get(batch_item_id(index))
        if entry is None:
            error = GraphAPIError(0, "MissingBatchItem", "the $batch answer had no entry for this item")
            outcomes.append(ItemOutcome(index, ItemKind.RETRY, 0, error=error))
            continue
        try:
            status = int(entry.get("status", 0))
        except (TypeError, ValueError):
            status = 0
        headers = entry.get("headers") if isinstance(entry.get("headers"), Mapping) else {}
        body = entry.get("body")
        # 202 Accepted (an action carried out or queued) and 204 succeed without a body.
        if (status in (200, 201) and isinstance(body, Mapping)) or status in (202, 204):
            kept = keep_fields(body, keep) if isinstance(body, Mapping) else None
            outcomes.append(ItemOutcome(index, ItemKind.OK, status, body=kept))
            continue
        retry_after = parse_retry_after(header(headers, "Retry-After"))
        if status in (200, 201):
            error = GraphAPIError(status, "InvalidResponse", "the answer had no JSON body")
            kind = ItemKind.FAILED
        else:
            error = graph_error_from_response(status, headers, body, user_id=user_id, retry_after=retry_after)
            if needs_fresh_token(status):
                kind = ItemKind.UNAUTHORIZED
            else:
                kind = ItemKind.FAILED if is_permanent(error) else ItemKind.RETRY
        outcomes.append(ItemOutcome(index, kind, status, error=error, retry_after=retry_after))
    return outcomes


# -- the items of a bulk call, as the caller gave them ---------------------------------------


def given(item: Any, name: str) -> str | None:
    """A bulk item's field as given (a mapping's key or a spec's attribute), if it is a string.

    Error results name the item's ``external_id`` and ``user_id`` even when it did not validate.
    """
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return value if isinstance(value, str) else None


def item_flag(item: Mapping[str, Any], key: str) -> bool | None:
    """A true/false key of a bulk item, e.g. ``cancelled``: ``None`` when absent or null.

    :param item: the item
    :param key: the key
    :raises InvalidRequestError: (field ``key``) a value that is not ``true``/``false``
    """
    flag = item.get(key)
    if flag is not None and not isinstance(flag, bool):
        raise InvalidRequestError(
            key, f"must be true or false, got {type(flag).__name__} {flag!r}; nothing was sent for this item"
        )
    return flag


class DuplicateItemError(InvalidRequestError):
    """An item of a bulk call whose key an earlier item has: the later one is not sent.

    :param items: the argument that holds the items, e.g. ``meetings``
    :param index: position of the repeated item
    :param first_index: position of the first item with the same key
    :param what: the key as the message shows it, e.g. ``'ev-1' for user 'adele@contoso.com'``
    """

    def __init__(self, items: str, index: int, first_index: int, what: str) -> None:
        super().__init__(f"{items}[{index}].external_id", "")
        self.index = index
        self.first_index = first_index
        # The base class formats "field: message"; this message reads as one sentence.
        self.args = (f"{self.field} duplicates {items}[{first_index}] ({what}); it was sent once",)

    def __str__(self) -> str:
        return str(self.args[0])


def error_at(items: str, index: int, error: InvalidRequestError) -> InvalidRequestError:
    """The same validation error with the item's position in front of its field.

    :param items: the argument that holds the items, e.g. ``meetings``
    :param index: the item's position
    :param error: the error of the item's field, e.g. ``start_date_time``
    :return: the error of ``meetings[7].start_date_time`` (unchanged if it names a position already)
    """
    if error.field.startswith(f"{items}["):
        return error
    message = str(error).removeprefix(f"{error.field}: ")
    return InvalidRequestError(f"{items}[{index}].{error.field}", message)
