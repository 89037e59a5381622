"""Graph JSON batching (``$batch``) for createOrGet: validating items, building batches,
and reading batch answers. Pure functions; the engine that sends is in ``bulk_engine.py``.

* every item is validated before anything is sent; invalid items and repeated
  ``(user, external_id)`` pairs get their error result and are never sent;
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_meetings.graph.answer import header
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    InvalidMeetingRequestError,
    OrganizerLookupError,
    graph_error_from_response,
    is_permanent,
)
from airflow_provider_meetings.graph.retry import needs_fresh_token, parse_retry_after
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest
from airflow_provider_meetings.meetings.results import BulkItemResult

#: Graph's limit of requests in one ``$batch``.
MAX_BATCH_ITEMS = 20
#: Items one bulk call takes. Results (and the task's XCom) grow with the list; beyond
#: this, split the work across tasks (by week, by organizer) so each stays retryable.
MAX_BULK_ITEMS = 10_000
#: Fields of the returned meeting kept in each result by default: what a result needs.
#: Each kept field costs memory per meeting (an id and a join URL are ~0.5 KB already);
#: the passcode in ``joinMeetingIdSettings`` is never kept unless asked for.
DEFAULT_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl")


class DuplicateMeetingError(InvalidMeetingRequestError):
    """A ``(user, external_id)`` pair given twice in one bulk call; the later one is not sent.

    :param index: position of the repeated item
    :param first_index: position of the first item with the same pair
    :param external_id: the repeated external id
    :param user_id: the organizer of both
    """

    def __init__(self, index: int, first_index: int, external_id: str, user_id: str | None) -> None:
        super().__init__(f"meetings[{index}].external_id", "")
        self.index = index
        self.first_index = first_index
        who = f"user {user_id!r}" if user_id else "/me"
        # The base class formats "field: message"; this message reads as one sentence.
        self.args = (
            f"meetings[{index}].external_id duplicates meetings[{first_index}] "
            f"({external_id!r} for {who}); it was sent once",
        )

    def __str__(self) -> str:
        return str(self.args[0])


# -- validation --------------------------------------------------------------------------


def _error_at(index: int, error: InvalidMeetingRequestError) -> InvalidMeetingRequestError:
    """The same validation error with the item's position in front of its field."""
    if error.field.startswith("meetings["):
        return error
    message = str(error)
    prefix = f"{error.field}: "
    message = message[len(prefix) :] if message.startswith(prefix) else message
    return InvalidMeetingRequestError(f"meetings[{index}].{error.field}", message)


def given(spec: Any, name: str) -> str | None:
    """A spec's ``external_id`` or ``user_id`` as given, if it is a string (for error results)."""
    value = (
        getattr(spec, name, None)
        if isinstance(spec, (MeetingSpec, PreparedRequest))
        else (spec.get(name) if isinstance(spec, Mapping) else None)
    )
    return value if isinstance(value, str) else None


Preparer = Callable[[MeetingSpec], PreparedRequest]


def prepare_item(spec: Any, index: int, prepare: Preparer) -> PreparedRequest:
    """Validate one bulk item (a mapping or :class:`MeetingSpec`) and prepare its request.

    An item that is a :class:`PreparedRequest` already (a later phase of a bulk call, such
    as the PATCH of a meeting that moved) is sent as it is.

    :raises InvalidMeetingRequestError: with the field named ``meetings[<index>].<field>``
    """
    if isinstance(spec, PreparedRequest):
        return spec
    try:
        return prepare(MeetingSpec.from_mapping(spec, where=f"meetings[{index}]"))
    except InvalidMeetingRequestError as err:
        raise _error_at(index, err) from None


def identity_key(prepared: PreparedRequest) -> tuple[str | None, str]:
    """What makes two items the same meeting: organizer and external id.

    Object ids and UPNs are case-insensitive in Entra, so the organizer is compared in
    lower case; ``externalId`` is compared as given.
    """
    user = prepared.user_id.lower() if prepared.user_id else None
    return user, prepared.external_id


def validate_all(
    specs: Sequence[Any], prepare: Preparer, *, dedupe: bool = True
) -> tuple[list[BulkItemResult | None], int]:
    """Validate every item before anything is sent.

    :param dedupe: refuse a repeated ``(user, external_id)`` (createOrGet: one meeting)

    :return: a list with an error result for each refused item (invalid, its organizer's UPN
        not resolved, or a repeat of an earlier ``(user, external_id)``) and ``None`` for each item to send, and the number
        of items to send
    """
    results: list[BulkItemResult | None] = [None] * len(specs)
    first_seen: dict[tuple[str | None, str], int] = {}
    to_send = 0
    for index, spec in enumerate(specs):
        try:
            prepared = prepare_item(spec, index, prepare)
        except (InvalidMeetingRequestError, OrganizerLookupError) as err:  # an organizer by UPN not resolved
            results[index] = BulkItemResult(index, given(spec, "external_id"), given(spec, "user_id"), error=err)
            continue
        if not dedupe or prepared.external_id is None:
            to_send += 1
            continue
        key = identity_key(prepared)
        first = first_seen.setdefault(key, index)
        if first != index:
            error = DuplicateMeetingError(index, first, prepared.external_id, prepared.user_id)
            results[index] = BulkItemResult(index, prepared.external_id, prepared.user_id, error=error)
            continue
        to_send += 1
    return results, to_send


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


def batch_request(index: int, prepared: PreparedRequest) -> dict[str, Any]:
    """One request of a ``$batch``: its URL relative to the version root; ``Content-Type``
    with every body, as the json-batching page requires."""
    request: dict[str, Any] = {
        "id": batch_item_id(index),
        "method": prepared.method,
        "url": "/" + prepared.path.lstrip("/"),
    }
    if prepared.body is not None:
        request["headers"] = {"Content-Type": "application/json"}
        request["body"] = prepared.body
    return request


def build_batch_payload(items: Sequence[tuple[int, PreparedRequest]]) -> dict[str, Any]:
    """The ``$batch`` body for up to 20 prepared requests."""
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} requests, not {len(items)}")
    return {"requests": [batch_request(index, prepared) for index, prepared in items]}


class ItemKind(enum.Enum):
    """What one item's answer inside a ``$batch`` response means for it."""

    #: 2xx: 200/201 with the resource, 204 without a body.
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
    :param meeting: the trimmed meeting for ``ok``
    :param created: 201 vs 200 for ``ok``
    :param error: the error otherwise
    :param retry_after: the item's own ``Retry-After`` in seconds
    """

    index: int
    kind: ItemKind
    status: int
    meeting: Mapping[str, Any] | None = None
    created: bool | None = None
    error: BaseException | None = None
    retry_after: float | None = None


def trim_meeting(meeting: Mapping[str, Any], keep: Sequence[str] | None) -> dict[str, Any]:
    """The fields of ``meeting`` named in ``keep`` (all but OData annotations for ``None``)."""
    if keep is None:
        return {k: v for k, v in meeting.items() if not k.startswith("@odata.")}
    return {k: meeting[k] for k in keep if k in meeting}


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
    meeting_fields: Sequence[str] | None = DEFAULT_MEETING_FIELDS,
) -> list[ItemOutcome]:
    """Map a ``$batch`` answer (in any order) back to the items sent, in the order sent.

    :param sent: ``(index, user_id)`` of each item in the batch
    :param payload: the decoded answer, ``{"responses": [{"id", "status", "headers", "body"}]}``
    :param meeting_fields: meeting fields to keep (``None``: all)
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
        if (status in (200, 201) and isinstance(body, Mapping)) or status == 204:
            meeting = trim_meeting(body, meeting_fields) if isinstance(body, Mapping) else None
            outcomes.append(ItemOutcome(index, ItemKind.OK, status, meeting=meeting, created=status == 201))
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
