"""The plan of a bulk events call (create or get, update, cancel): pure bookkeeping, no I/O.

:class:`EventBulkPlan` knows a bulk call's items and what each needs next; the engine runs
of :meth:`~airflow_provider_meetings.events.api.CalendarEventsApi.create_or_get_many` send
what it asks for. Per item, as for a single event (``events/api.py``):

1. **validation**, once, when the plan is made: an invalid item gets its error result (the
   field named ``events[<index>].<field>``) and is never sent; a repeat of an earlier
   ``(organizer, external_id)`` too (for an occurrence: ``(organizer, external_id, day)``). A
   cancelled item (``cancelled: true``) keeps only its ``external_id``, ``user_id``,
   ``comment`` and, to cancel one day of a series, ``occurrence_date``;
2. **lookup** by the external id (``GET .../events?$filter=...``), exact comparison;
3. with ``update_existing``, for a found event whose item has a body: the stored body hash;
   for an occurrence's cancel, the series' instances of that day
   (``GET .../events/{masterId}/instances``, as ``cancel_event_occurrence``);
4. **write**: ``POST`` (with the deterministic ``transactionId``) when none was found,
   ``PATCH`` of what differs (``update_existing``), or ``POST .../cancel`` (of the event, or
   of the day's occurrence); nothing for an event found and not compared, or compared and
   equal, or a cancel that finds none;
5. a ``POST`` answered 409 (a repeated ``transactionId``): the lookup again; a ``POST``
   answered with a cancelled event, or a 409 whose lookup finds none: the ``POST`` again
   under the next ``transactionId`` generation (a cancelled booking spent it); an event
   without its join link: read once more, then :class:`~airflow_provider_meetings.events.api.MissingJoinUrlError`.

Each step's requests go to the organizer's mailbox; the API sends them one batch per
organizer (Outlook's per-mailbox limit counts ``$batch`` items).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from airflow_provider_meetings.events import occurrences
from airflow_provider_meetings.events.diff import changed_fields
from airflow_provider_meetings.events.request import (
    MAX_GENERATIONS,
    EventSpec,
    PreparedEvent,
    RebookingError,
    cancel_body,
)
from airflow_provider_meetings.events.results import (
    BULK_EVENT_FIELDS,
    EventBulkItemResult,
    EventBulkStatus,
    has_join_url,
)
from airflow_provider_meetings.graph.batch import (
    BatchItemResult,
    DuplicateItemError,
    GraphRequest,
    check_bulk_size,
    error_at,
    given,
    item_flag,
    keep_fields,
)
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.graph.values import organizer_key

#: The item key that asks for the event to be cancelled.
CANCELLED_KEY = "cancelled"
#: The text attendees receive with a cancellation (cancelled items only).
COMMENT_KEY = "comment"
#: The day of a series' occurrence to cancel (cancelled items only; ``YYYY-MM-DD`` or a date).
OCCURRENCE_KEY = "occurrence_date"
#: The keys an item may have: the event's, and the cancel's.
EVENT_KEYS = tuple(f.name for f in fields(EventSpec))
_CANCEL_KEYS = ("external_id", "user_id", CANCELLED_KEY, COMMENT_KEY, OCCURRENCE_KEY)

#: Validates one event against the connection (organizer, tenant).
Preparer = Callable[[EventSpec], PreparedEvent]
#: Validates what finds an event, for a cancel: ``(external_id, user_id) -> PreparedEvent``.
LookupPreparer = Callable[[Any, Any], PreparedEvent]


class DuplicateEventError(DuplicateItemError):
    """A ``(organizer, external_id)`` pair (and occurrence day) given twice in one call; the
    later item is not sent.

    :param index: position of the repeated item
    :param first_index: position of the first item with the same pair
    :param external_id: the repeated external id
    :param day: the occurrence cancelled, for an item that cancels one day of a series
    """

    def __init__(self, index: int, first_index: int, external_id: str, day: datetime.date | None = None) -> None:
        what = f"{external_id!r}" if day is None else f"{external_id!r} on {day.isoformat()}"
        super().__init__("events", index, first_index, what)


@dataclass
class BulkEventItem:
    """One valid item and what the steps learned about it so far.

    :param prepared: the event validated (a lookup only for a cancel)
    :param cancelled: whether it is to be cancelled
    :param comment: the cancellation's text
    :param occurrence: the day of the series' occurrence to cancel (``None``: the whole event)
    :param found: the event the lookup found (``None``: none, or not looked up yet)
    :param target: the id of what the cancel goes to: the event's, or the day's occurrence's
    :param event: the event as it is now
    :param status: what was done
    :param error: why it failed
    :param attempts: requests sent for it
    :param generation: the ``transactionId`` generation of its POST (one more per cancelled
        booking it met: :func:`~airflow_provider_meetings.events.request.generation_transaction_id`)
    """

    prepared: PreparedEvent
    cancelled: bool = False
    comment: str | None = None
    occurrence: datetime.date | None = None
    found: dict[str, Any] | None = None
    target: str | None = None
    event: dict[str, Any] | None = None
    status: EventBulkStatus | None = None
    error: BaseException | None = None
    attempts: int = 0
    generation: int = 0


class EventBulkPlan:
    """The items of one bulk events call and their steps; see the module docstring.

    :param items: mappings with the keys of ``create_or_get_event`` (``external_id`` among
        them; ``cancelled: true`` and ``comment`` cancel the event) or :class:`EventSpec` objects
    :param prepare: validates an event (the connection's rules)
    :param prepare_lookup: validates a cancelled item's external id and organizer
    :param update_existing: PATCH found events that differ from their item
    :raises InvalidRequestError: for more than ``MAX_BULK_ITEMS`` items (nothing is sent)
    """

    def __init__(
        self,
        items: Iterable[Any],
        *,
        prepare: Preparer,
        prepare_lookup: LookupPreparer,
        update_existing: bool = False,
    ) -> None:
        self.given: list[Any] = list(items)
        check_bulk_size(len(self.given), "events")
        self.update_existing = update_existing
        #: the valid items by position
        self.items: dict[int, BulkEventItem] = {}
        #: the result of each item refused before sending
        self.refused: dict[int, EventBulkItemResult] = {}
        seen: dict[tuple[str, str, datetime.date | None], int] = {}
        for index, item in enumerate(self.given):
            try:
                valid = self._validate(index, item, prepare, prepare_lookup)
            except InvalidRequestError as error:
                self._refuse(index, item, error_at("events", index, error))
                continue
            key = (organizer_key(valid.prepared.user_id), valid.prepared.external_id, valid.occurrence)
            first = seen.setdefault(key, index)
            if first != index:
                error = DuplicateEventError(index, first, valid.prepared.external_id, valid.occurrence)
                self._refuse(index, item, error)
                continue
            self.items[index] = valid

    @staticmethod
    def _validate(index: int, item: Any, prepare: Preparer, prepare_lookup: LookupPreparer) -> BulkEventItem:
        if isinstance(item, EventSpec):
            return BulkEventItem(prepare(item))
        if not isinstance(item, Mapping):
            raise InvalidRequestError(
                f"events[{index}]", f"must be a mapping or an EventSpec, got {type(item).__name__}"
            )
        cancelled = item_flag(item, CANCELLED_KEY)  # its error gets the item's position from error_at
        allowed = _CANCEL_KEYS if cancelled else (*EVENT_KEYS, CANCELLED_KEY)
        unknown = sorted(str(key) for key in item if key not in allowed)
        if unknown:
            what = (
                "a cancelled item takes only external_id, user_id, comment and occurrence_date"
                if cancelled
                else "unknown key(s)"
            )
            if not cancelled and OCCURRENCE_KEY in unknown:
                what = f"{OCCURRENCE_KEY} goes with cancelled: true (it cancels one day of a series); unknown key(s)"
            raise InvalidRequestError(f"events[{index}]", f"{what}: {', '.join(unknown)}; nothing was sent")
        if cancelled:
            comment = item.get(COMMENT_KEY)
            if comment is not None and not isinstance(comment, str):
                raise InvalidRequestError(f"events[{index}].{COMMENT_KEY}", "must be a string")
            day = item.get(OCCURRENCE_KEY)
            occurrence = None if day is None else occurrences.occurrence_day(day)
            prepared = prepare_lookup(item.get("external_id"), item.get("user_id"))
            return BulkEventItem(prepared, cancelled=True, comment=comment or None, occurrence=occurrence)
        if "external_id" not in item:
            raise InvalidRequestError(f"events[{index}].external_id", "is missing")
        spec = EventSpec(**{key: item[key] for key in EVENT_KEYS if key in item})
        return BulkEventItem(prepare(spec))

    def _refuse(self, index: int, item: Any, error: InvalidRequestError) -> None:
        self.refused[index] = EventBulkItemResult(
            index, given(item, "external_id"), given(item, "user_id"), error=error
        )

    # -- the steps: (position, request) pairs to send, then their answers ---------------------

    def _label(self, index: int, what: str) -> str:
        return f"events[{index}] external_id={self.items[index].prepared.external_id} ({what})"

    def _request(self, index: int, path: str, method: str, body: dict[str, Any] | None, what: str) -> GraphRequest:
        prepared = self.items[index].prepared
        return GraphRequest(
            path,
            body=body,
            user_id=prepared.user_id,
            method=method,
            key=prepared.external_id,
            label=self._label(index, what),
        )

    def _open(self) -> list[int]:
        return [index for index, item in self.items.items() if item.error is None and item.status is None]

    def lookups(self, indexes: Sequence[int] | None = None) -> list[tuple[int, GraphRequest]]:
        """Step 2 (and 5 after a 409): the lookup of each item not decided yet."""
        chosen = self._open() if indexes is None else indexes
        return [(i, self._request(i, self.items[i].prepared.lookup_path, "GET", None, "lookup")) for i in chosen]

    def body_hash_reads(self) -> list[tuple[int, GraphRequest]]:
        """Step 3: the stored body hash of each found event whose item has a body (``update_existing``)."""
        if not self.update_existing:
            return []
        return [
            (
                i,
                self._request(
                    i, self.items[i].prepared.body_hash_path(self.items[i].found["id"]), "GET", None, "body hash"
                ),
            )
            for i in self._open()
            if not self.items[i].cancelled
            and self.items[i].found
            and self.items[i].found.get("id")
            and "body" in self.items[i].prepared.fields
        ]

    def occurrence_reads(self) -> list[tuple[int, GraphRequest]]:
        """Step 3 of an occurrence's cancel: the found series' instances of that day; an item
        whose series is not found is ``not_found``, one whose event is no series fails."""
        requests = []
        for index in self._open():
            item = self.items[index]
            if item.occurrence is None:
                continue
            master = item.found
            if not master or not master.get("id"):
                item.status = "not_found"
            elif master.get("type") != "seriesMaster":
                item.error = occurrences.NotASeriesError(item.prepared.external_id, master.get("type"))
            else:
                path = occurrences.instances_path(
                    item.prepared, master["id"], item.occurrence, occurrences.series_zone(master)
                )
                requests.append((index, self._request(index, path, "GET", None, f"instances {item.occurrence}")))
        return requests

    def note_occurrence(self, index: int, instances: Any) -> None:
        """The answer of :meth:`occurrence_reads`: the day's occurrence to cancel, or ``not_found``."""
        item = self.items[index]
        master = item.found or {}
        day = item.occurrence or datetime.date.min  # only occurrence items were read
        found = occurrences.pick_occurrence(instances or (), day, occurrences.series_zone(master), master.get("id", ""))
        if found is None:
            item.status = "not_found"  # no such day, or cancelled already (no longer an instance)
        else:
            item.target = str(found["id"])

    def writes(self) -> list[tuple[int, GraphRequest]]:
        """Step 4: decide each item; the POST, PATCH and cancel requests, in input order."""
        requests = []
        for index in self._open():
            item = self.items[index]
            prepared, found = item.prepared, item.found
            if item.cancelled:
                target = item.target if item.occurrence is not None else (found or {}).get("id")
                if not target:
                    item.status = "not_found"
                    continue
                what = "cancel" if item.occurrence is None else f"cancel occurrence {item.occurrence}"
                path = f"{prepared.event_path(target)}/cancel"
                requests.append((index, self._request(index, path, "POST", cancel_body(item.comment), what)))
            elif found is None:
                requests.append((index, self._post(index)))
            elif not self.update_existing:
                item.event, item.status = found, "existing"
            else:
                try:
                    patch = changed_fields(prepared, found)
                except InvalidRequestError as error:  # this item cannot be brought in step
                    item.error = error
                    continue
                if not patch:
                    item.event, item.status = found, "unchanged"
                else:
                    what = f"PATCH {', '.join(sorted(patch))}"
                    requests.append(
                        (index, self._request(index, prepared.event_path(found["id"]), "PATCH", patch, what))
                    )
        return requests

    def _post(self, index: int) -> GraphRequest:
        item = self.items[index]
        what = "POST" if item.generation == 0 else f"POST, generation {item.generation}"
        return self._request(index, item.prepared.base, "POST", item.prepared.create_body(item.generation), what)

    def rebookings(self, indexes: Sequence[int]) -> list[tuple[int, GraphRequest]]:
        """Step 4 again for items whose POST met a ``transactionId`` a cancelled booking spent:
        the POST under the next generation; an item past :data:`MAX_GENERATIONS` gets its error."""
        requests = []
        for index in indexes:
            item = self.items[index]
            item.generation += 1
            if item.generation >= MAX_GENERATIONS:
                item.error = RebookingError(item.prepared.external_id)
            else:
                requests.append((index, self._post(index)))
        return requests

    def rereads(self) -> list[tuple[int, GraphRequest]]:
        """Step 5: a second read of each event without its join link."""
        return [
            (
                i,
                self._request(
                    i, self.items[i].prepared.event_path(self.items[i].event["id"]), "GET", None, "join link"
                ),
            )
            for i, item in self.items.items()
            if item.error is None and item.event is not None and item.event.get("id") and not has_join_url(item.event)
        ]

    def missing_join_url(self) -> list[BulkEventItem]:
        """Items whose event still has no join link (after :meth:`rereads`)."""
        return [
            item
            for item in self.items.values()
            if item.error is None and item.event is not None and not has_join_url(item.event)
        ]

    def note(self, index: int, answer: BatchItemResult) -> BulkEventItem:
        """Count an answer's requests for its item; keep its error; return the item."""
        item = self.items[index]
        item.attempts += answer.attempts
        return item

    # -- results --------------------------------------------------------------------------------

    def results(self) -> list[EventBulkItemResult]:
        """One result per item, in input order."""
        results = []
        for index in range(len(self.given)):
            if index in self.refused:
                results.append(self.refused[index])
                continue
            item = self.items[index]
            prepared = item.prepared
            if item.error is not None:
                results.append(
                    EventBulkItemResult(
                        index, prepared.external_id, prepared.user_id, error=item.error, attempts=item.attempts
                    )
                )
                continue
            event = keep_fields(item.event, BULK_EVENT_FIELDS) if item.event is not None else None
            results.append(
                EventBulkItemResult(
                    index,
                    prepared.external_id,
                    prepared.user_id,
                    event=event,
                    status=item.status,
                    attempts=item.attempts,
                )
            )
        return results


def is_conflict(error: BaseException | None) -> bool:
    """A POST answered 409: its ``transactionId`` was seen, the event exists (look it up)."""
    return isinstance(error, GraphAPIError) and error.status == 409
