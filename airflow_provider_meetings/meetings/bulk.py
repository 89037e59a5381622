"""The plan of a bulk call (create or get, sync, cancel): pure bookkeeping, no I/O.

:class:`BulkPlan` validates each item **once**, when the plan is made, and keeps its
request; everything after reads what was kept:

1. **validation**: every item is checked before anything is sent; an invalid item gets its
   error result (the field named ``meetings[<index>].<field>``) and is never sent. A
   cancelled item (``cancelled: true``) is reduced to its ``external_id`` and ``user_id``:
   Graph has no lookup by ``externalId``, createOrGet is the way to find the meeting (and
   makes one, deleted in step 2, when there was none);
2. **organizers**: the UPNs to look up (:attr:`BulkPlan.upns`); :meth:`BulkPlan.first_step`
   sends each item to its organizer's object id, or refuses it with the lookup's error,
   and refuses a repeat of an earlier ``(organizer, external_id)``;
3. **createOrGet** of every item left (one engine run), then :meth:`BulkPlan.second_step`:
   the ``PATCH`` of every meeting that differs (``update_existing``) and the ``DELETE`` of
   every cancelled item's meeting, in one more engine run, decided by
   :func:`~airflow_provider_meetings.meetings.diff.after_create_or_get` as for single calls;
4. :meth:`BulkPlan.results`: each item's result
   (:class:`~airflow_provider_meetings.meetings.results.BulkItemResult` with its ``outcome``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_meetings.graph.batch import MAX_BULK_ITEMS, BatchItemResult, keep_fields
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    InvalidMeetingRequestError,
    OrganizerLookupError,
)
from airflow_provider_meetings.meetings.diff import SYNC_MEETING_FIELDS, after_create_or_get
from airflow_provider_meetings.meetings.organizers import OrganizerDirectory, needs_lookup, with_object_id
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest
from airflow_provider_meetings.meetings.results import CANCELLED, NOT_FOUND, UPDATED, BulkItemResult

#: The item key that asks for a meeting to be cancelled (deleted).
CANCELLED_KEY = "cancelled"
#: What a cancelled item keeps: what identifies its meeting.
_IDENTITY_KEYS = ("external_id", "user_id")
#: Fields of the returned meeting kept in each result by default: what a result needs.
#: Each kept field costs memory per meeting (an id and a join URL are ~0.5 KB already);
#: the passcode in ``joinMeetingIdSettings`` is never kept unless asked for.
DEFAULT_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl")

#: Validates one meeting into its createOrGet request (the connection's rules).
Preparer = Callable[[MeetingSpec], PreparedRequest]


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


def _error_at(index: int, error: InvalidMeetingRequestError) -> InvalidMeetingRequestError:
    """The same validation error with the item's position in front of its field."""
    if error.field.startswith("meetings["):
        return error
    message = str(error)
    prefix = f"{error.field}: "
    message = message[len(prefix) :] if message.startswith(prefix) else message
    return InvalidMeetingRequestError(f"meetings[{index}].{error.field}", message)


def given(item: Any, name: str) -> str | None:
    """An item's ``external_id`` or ``user_id`` as given, if it is a string (for error results)."""
    value = (
        getattr(item, name, None)
        if isinstance(item, MeetingSpec)
        else (item.get(name) if isinstance(item, Mapping) else None)
    )
    return value if isinstance(value, str) else None


def identity_key(prepared: PreparedRequest) -> tuple[str | None, str | None]:
    """What makes two items the same meeting: organizer and external id.

    Object ids and UPNs are case-insensitive in Entra, so the organizer is compared in
    lower case; ``externalId`` is compared as given.
    """
    user = prepared.user_id.lower() if prepared.user_id else None
    return user, prepared.external_id


def _split(item: Any) -> tuple[Any, bool, InvalidMeetingRequestError | None]:
    """An item as step 1 sends it, whether it is cancelled, and why it is refused (if it is)."""
    if not isinstance(item, Mapping) or CANCELLED_KEY not in item:
        return item, False, None
    flag = item[CANCELLED_KEY]
    if flag is not None and not isinstance(flag, bool):
        problem = InvalidMeetingRequestError(
            CANCELLED_KEY, f"must be true or false, got {type(flag).__name__} {flag!r}; nothing was sent for this item"
        )
        return item, False, problem
    if flag:
        return {key: item[key] for key in _IDENTITY_KEYS if key in item}, True, None
    return {key: value for key, value in item.items() if key != CANCELLED_KEY}, False, None


def _union(fields: Sequence[str] | None, more: Sequence[str]) -> tuple[str, ...] | None:
    return None if fields is None else tuple(dict.fromkeys([*fields, *more]))


@dataclass(frozen=True, slots=True)
class _Item:
    """One item as validated: what was given, and its request or why it is refused."""

    external_id: str | None
    user_id: str | None
    cancelled: bool
    prepared: PreparedRequest | None
    error: InvalidMeetingRequestError | None


class BulkPlan:
    """One bulk call that creates or gets, syncs and cancels meetings; see the module docstring.

    :param items: mappings (a ``cancelled: true`` key cancels the item) or
        :class:`~airflow_provider_meetings.meetings.request.MeetingSpec` objects
    :param prepare: validates one spec into its createOrGet request (the connection's rules)
    :param update_existing: PATCH existing meetings that differ from their item
    :param meeting_fields: meeting fields each result keeps (``None``: all)
    :raises InvalidMeetingRequestError: for more than ``MAX_BULK_ITEMS`` items (nothing is sent)
    """

    def __init__(
        self,
        items: Iterable[Any],
        *,
        prepare: Preparer,
        update_existing: bool,
        meeting_fields: Sequence[str] | None,
    ) -> None:
        items = items if isinstance(items, Sequence) else list(items)
        if len(items) > MAX_BULK_ITEMS:
            raise InvalidMeetingRequestError(
                "meetings",
                f"has {len(items):,} items; one bulk call takes at most {MAX_BULK_ITEMS:,}. "
                "Split the list across tasks (e.g. by week or by organizer); nothing was sent",
            )
        self.items: list[_Item] = [self._validate(index, item, prepare) for index, item in enumerate(items)]
        self.update_existing = update_existing
        self.meeting_fields = tuple(meeting_fields) if meeting_fields is not None else None
        cancels = any(item.cancelled for item in self.items)
        needs: tuple[str, ...] = SYNC_MEETING_FIELDS if update_existing else ("id",) if cancels else ()
        #: fields step 1 keeps: the caller's plus what step 2 needs
        self.first_fields = _union(self.meeting_fields, needs)
        self._sent: dict[int, PreparedRequest] = {}  # step 1's request of each item sent (object ids)
        self._first: list[BulkItemResult] = []
        self._decided: dict[int, BulkItemResult] = {}
        self._second: list[int] = []  # item index of each step-2 request

    @staticmethod
    def _validate(index: int, item: Any, prepare: Preparer) -> _Item:
        spec, cancelled, problem = _split(item)
        external_id, user_id = given(spec, "external_id"), given(spec, "user_id")
        if problem is not None:
            return _Item(external_id, user_id, cancelled, None, _error_at(index, problem))
        try:
            prepared = prepare(MeetingSpec.from_mapping(spec, where=f"meetings[{index}]"))
        except InvalidMeetingRequestError as error:
            return _Item(external_id, user_id, cancelled, None, _error_at(index, error))
        return _Item(external_id, user_id, cancelled, prepared, None)

    @property
    def upns(self) -> list[str]:
        """The organizers given by user principal name (each valid item's, repeats included)."""
        return [
            item.prepared.user_id
            for item in self.items
            if item.prepared is not None and item.prepared.user_id is not None and needs_lookup(item.prepared.user_id)
        ]

    # -- step 1 --------------------------------------------------------------------------------

    def first_step(
        self, directory: OrganizerDirectory, failures: Mapping[str, OrganizerLookupError] | None = None
    ) -> list[PreparedRequest | BatchItemResult]:
        """The createOrGet requests of step 1, or an error result for each item refused.

        :param directory: the object ids of the organizers given by UPN
        :param failures: why lookups failed, by UPN in lower case
        """
        failures = failures or {}
        first_seen: dict[tuple[str | None, str | None], int] = {}
        step: list[PreparedRequest | BatchItemResult] = []
        for index, item in enumerate(self.items):
            if item.prepared is None:
                step.append(BatchItemResult(index, item.external_id, item.user_id, error=item.error))
                continue
            prepared = item.prepared
            upn = prepared.user_id
            if upn is not None and needs_lookup(upn):
                object_id = directory.get(upn)
                if object_id is None:
                    error = failures.get(upn.lower()) or OrganizerLookupError(
                        upn, f"organizer {upn!r} (a user principal name) was not looked up"
                    )
                    step.append(BatchItemResult(index, item.external_id, item.user_id, error=error))
                    continue
                prepared = with_object_id(prepared, object_id)
            first = first_seen.setdefault(identity_key(prepared), index)
            if first != index:
                error = DuplicateMeetingError(index, first, prepared.external_id or "", prepared.user_id)
                step.append(BatchItemResult(index, prepared.external_id, prepared.user_id, error=error))
                continue
            request = replace(prepared, label=f"meetings[{index}] external_id={item.external_id}")
            self._sent[index] = request
            step.append(request)
        return step

    # -- step 2 --------------------------------------------------------------------------------

    def second_step(self, first: Sequence[BatchItemResult]) -> list[PreparedRequest]:
        """The PATCH and DELETE requests that follow step 1's results (in input order)."""
        self._first = [self._meeting_result(result) for result in first]
        requests: list[PreparedRequest] = []
        for result in self._first:
            index = result.index
            if not result.ok:
                continue
            try:
                step = after_create_or_get(
                    self._sent[index],
                    result.meeting or {},
                    created=bool(result.created),
                    cancel=self.items[index].cancelled,
                    compare=self.update_existing,
                )
            except (InvalidMeetingRequestError, GraphAPIError) as error:
                self._decide(self._failed(result, error))
                continue
            if step.request is None:
                self._decide(replace(result, outcome=step.outcome))
                continue
            self._second.append(index)
            requests.append(replace(step.request, label=f"meetings[{index}] external_id={result.external_id}"))
        return requests

    # -- results ------------------------------------------------------------------------------

    def results(self, second: Sequence[BatchItemResult]) -> list[BulkItemResult]:
        """Every item's final result, in input order, from both steps' results."""
        for index, answer in zip(self._second, second, strict=True):
            first = self._first[index]
            attempts = first.attempts + answer.attempts
            if self.items[index].cancelled:
                self._decide(self._cancel_result(first, answer, attempts))
            elif answer.ok:
                self._decide(
                    replace(
                        first, meeting=answer.body, http_status=answer.http_status, attempts=attempts, outcome=UPDATED
                    )
                )
            else:
                self._decide(replace(self._failed(first, answer.error), attempts=attempts, first_created=first.created))
        results = []
        for result in self._first:
            final = self._decided.get(result.index, result)
            if final.meeting is not None and self.meeting_fields != self.first_fields:
                final = replace(final, meeting=keep_fields(final.meeting, self.meeting_fields))
            results.append(self._with_organizer(final))
        return results

    def _with_organizer(self, result: BulkItemResult) -> BulkItemResult:
        """``user_id`` the object id (``None`` if there is none), ``given_user_id`` as given."""
        item = self.items[result.index]
        given_user = item.prepared.user_id if item.prepared is not None else item.user_id
        user_id = result.user_id
        if user_id is not None and needs_lookup(user_id):  # refused before it was sent
            user_id = None
        return replace(result, user_id=user_id, given_user_id=given_user)

    @staticmethod
    def _meeting_result(result: BatchItemResult) -> BulkItemResult:
        return BulkItemResult(
            result.index,
            result.key,
            result.user_id,
            meeting=result.body,
            created=result.created,
            error=result.error,
            attempts=result.attempts,
            http_status=result.http_status,
        )

    @staticmethod
    def _cancel_result(first: BulkItemResult, answer: BatchItemResult, attempts: int) -> BulkItemResult:
        # 404: the meeting is gone already (a retried DELETE whose first answer was lost, or
        # a cancel running at the same time): what a cancel wants.
        gone = answer.ok or (isinstance(answer.error, GraphAPIError) and answer.error.status == 404)
        if not gone:
            return replace(BulkPlan._failed(first, answer.error), attempts=attempts, first_created=first.created)
        return BulkItemResult(
            first.index,
            first.external_id,
            first.user_id,
            meeting=None,
            created=False,
            attempts=attempts,
            http_status=answer.http_status if answer.ok else 404,
            outcome=NOT_FOUND if first.created else CANCELLED,
        )

    @staticmethod
    def _failed(result: BulkItemResult, error: BaseException | None) -> BulkItemResult:
        return BulkItemResult(result.index, result.external_id, result.user_id, error=error, attempts=result.attempts)

    def _decide(self, result: BulkItemResult) -> None:
        self._decided[result.index] = result


def cancel_items(items: Iterable[Any], *, user_id: str | None = None) -> list[Any]:
    """Bulk items that cancel the meetings of ``items``: external ids, or mappings with
    ``external_id`` (and ``user_id``); ``user_id`` is the organizer of items that name none."""
    result: list[Any] = []
    for item in items:
        if isinstance(item, Mapping):
            entry = {key: item[key] for key in _IDENTITY_KEYS if key in item}
        elif isinstance(item, MeetingSpec):
            entry = {"external_id": item.external_id, "user_id": item.user_id}
        else:
            entry = {"external_id": item}
        if user_id and not entry.get("user_id"):
            entry["user_id"] = user_id
        entry[CANCELLED_KEY] = True
        result.append(entry)
    return result
