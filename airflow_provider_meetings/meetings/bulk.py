"""The plan of a bulk call (create or get, sync, cancel): pure bookkeeping, no I/O.

:class:`BulkPlan` is the one place that knows a bulk call's items:

1. **validation**: when the plan is made, every item is checked before anything is sent; an
   invalid item gets its error result (the field named ``meetings[<index>].<field>``) and
   is never sent. A cancelled item (``cancelled: true``) is reduced to its ``external_id``
   and ``user_id``: Graph has no lookup by ``externalId``, createOrGet is the way to find
   the meeting (and makes one, deleted in step 2, when there was none);
2. **organizers**: the UPNs to look up (:attr:`BulkPlan.upns`); :meth:`BulkPlan.first_step`
   sends each item to its organizer's object id, or refuses it with the lookup's error,
   and refuses a repeat of an earlier ``(organizer, external_id)``;
3. **createOrGet** of every item left (one engine run), then :meth:`BulkPlan.second_step`:
   the ``PATCH`` of every meeting that differs (``update_existing``) and the ``DELETE`` of
   every cancelled item's meeting, in one more engine run, decided by
   :func:`~airflow_provider_meetings.meetings.diff.after_create_or_get` as for single calls;
4. :meth:`BulkPlan.results`: each item's result
   (:class:`~airflow_provider_meetings.meetings.results.BulkItemResult` with its ``outcome``).

Memory stays flat in the number of items: the plan keeps, beside the items as given, only
lists of references (organizer, cancelled) and the results of refused items; an item's
request is built again from the item when its batch is built (:class:`_Requests`), from
an item already known to be valid, rather than kept for the whole call (10,000 kept
requests would take ~6 MiB: docs/performance.md, working memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from airflow_provider_meetings.graph.batch import (
    BatchItemResult,
    DuplicateItemError,
    check_bulk_size,
    error_at,
    given,
    item_flag,
    keep_fields,
)
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError, is_not_found
from airflow_provider_meetings.graph.values import organizer_key
from airflow_provider_meetings.meetings.diff import SYNC_MEETING_FIELDS, after_create_or_get
from airflow_provider_meetings.meetings.organizers import (
    OrganizerDirectory,
    OrganizerLookupError,
    needs_lookup,
    with_object_id,
)
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


class DuplicateMeetingError(DuplicateItemError):
    """A ``(user, external_id)`` pair given twice in one bulk call; the later one is not sent.

    :param index: position of the repeated item
    :param first_index: position of the first item with the same pair
    :param external_id: the repeated external id
    :param user_id: the organizer of both
    """

    def __init__(self, index: int, first_index: int, external_id: str, user_id: str | None) -> None:
        who = f"user {user_id!r}" if user_id else "/me"
        super().__init__("meetings", index, first_index, f"{external_id!r} for {who}")


def identity_key(prepared: PreparedRequest) -> tuple[str, str | None]:
    """What makes two items the same meeting: organizer and external id (see :func:`identity`)."""
    return identity(prepared.user_id, prepared.external_id)


def identity(user_id: str | None, external_id: str | None) -> tuple[str, str | None]:
    """Organizer and external id, compared as Entra does: object ids and UPNs in any case
    (:func:`~airflow_provider_meetings.graph.values.organizer_key`), ``externalId`` as given."""
    return organizer_key(user_id), external_id


def _split(item: Any) -> tuple[Any, bool, InvalidRequestError | None]:
    """An item as step 1 sends it, whether it is cancelled, and why it is refused (if it is)."""
    if not isinstance(item, Mapping) or CANCELLED_KEY not in item:
        return item, False, None
    try:
        flag = item_flag(item, CANCELLED_KEY)
    except InvalidRequestError as problem:
        return item, False, problem
    if flag:
        return {key: item[key] for key in _IDENTITY_KEYS if key in item}, True, None
    return {key: value for key, value in item.items() if key != CANCELLED_KEY}, False, None


def _union(fields: Sequence[str] | None, more: Sequence[str]) -> tuple[str, ...] | None:
    return None if fields is None else tuple(dict.fromkeys([*fields, *more]))


class _Requests(Sequence[PreparedRequest]):
    """Step 1's request of each item, built when the engine reads it (see the module docstring)."""

    def __init__(self, plan: BulkPlan, directory: OrganizerDirectory) -> None:
        self.plan = plan
        self.directory = directory

    def __len__(self) -> int:
        return len(self.plan.items)

    def __getitem__(self, index: Any) -> Any:
        return self.plan.request(index, self.directory)


class BulkPlan:
    """One bulk call that creates or gets, syncs and cancels meetings; see the module docstring.

    :param items: mappings (a ``cancelled: true`` key cancels the item) or
        :class:`~airflow_provider_meetings.meetings.request.MeetingSpec` objects
    :param prepare: validates one spec into its createOrGet request (the connection's rules)
    :param update_existing: PATCH existing meetings that differ from their item
    :param meeting_fields: meeting fields each result keeps (``None``: all)
    :raises InvalidRequestError: for more than ``MAX_BULK_ITEMS`` items (nothing is sent)
    """

    def __init__(
        self,
        items: Iterable[Any],
        *,
        prepare: Preparer,
        update_existing: bool,
        meeting_fields: Sequence[str] | None,
    ) -> None:
        self.items: Sequence[Any] = items if isinstance(items, Sequence) else list(items)
        check_bulk_size(len(self.items), "meetings")
        self._prepare = prepare
        self.update_existing = update_existing
        self.meeting_fields = tuple(meeting_fields) if meeting_fields is not None else None
        #: whether each item is cancelled
        self.cancelled: list[bool] = []
        #: the organizer of each valid item as given (the item's, else the default; ``None``:
        #: ``/me``), or of each invalid item as it was written
        self.given: list[str | None] = []
        #: the error result of each item refused before sending, by position
        self.refused: dict[int, BatchItemResult] = {}
        #: the organizers given by user principal name (each valid item's, repeats included)
        self.upns: list[str] = []
        for index, item in enumerate(self.items):
            self._validate(index, item)
        needs: tuple[str, ...] = SYNC_MEETING_FIELDS if update_existing else ("id",) if any(self.cancelled) else ()
        #: fields step 1 keeps: the caller's plus what step 2 needs
        self.first_fields = _union(self.meeting_fields, needs)
        self._first: list[BulkItemResult] = []
        self._second: list[int] = []  # item index of each step-2 request

    def _validate(self, index: int, item: Any) -> None:
        """Check one item, the only time it is checked; note its organizer, or refuse it."""
        spec, cancelled, problem = _split(item)
        self.cancelled.append(cancelled)
        try:
            if problem is not None:
                raise problem
            prepared = self._prepare(MeetingSpec.from_mapping(spec, where=f"meetings[{index}]"))
        except InvalidRequestError as error:
            user_id = given(spec, "user_id")
            self.given.append(user_id)
            self.refused[index] = BatchItemResult(
                index, given(spec, "external_id"), user_id, error=error_at("meetings", index, error)
            )
            return
        self.given.append(prepared.user_id)
        if prepared.user_id is not None and needs_lookup(prepared.user_id):
            self.upns.append(prepared.user_id)

    def _build(self, index: int) -> PreparedRequest:
        """The createOrGet request of a valid item (it was validated when the plan was made)."""
        spec, _, _ = _split(self.items[index])
        return self._prepare(MeetingSpec.from_mapping(spec, where=f"meetings[{index}]"))

    def request(self, index: int, directory: OrganizerDirectory) -> PreparedRequest:
        """The request of a valid item, to its organizer's object id, named for log lines."""
        prepared = self._build(index)
        if prepared.user_id is not None and needs_lookup(prepared.user_id):
            object_id = directory.get(prepared.user_id)
            assert object_id is not None  # items whose organizer was not resolved are refused
            prepared = with_object_id(prepared, object_id)
        return replace(prepared, label=f"meetings[{index}] external_id={prepared.external_id}")

    # -- step 1 --------------------------------------------------------------------------------

    def first_step(
        self, directory: OrganizerDirectory, failures: Mapping[str, OrganizerLookupError] | None = None
    ) -> tuple[Sequence[PreparedRequest], dict[int, BatchItemResult]]:
        """Step 1: the createOrGet requests (built when read), and the results of the items refused.

        Refused: invalid items, items whose organizer could not be resolved, and repeats of
        an earlier ``(organizer, external_id)`` (object ids and UPNs compared in any case).

        :param directory: the object ids of the organizers given by UPN
        :param failures: why lookups failed, by UPN in lower case
        """
        failures = failures or {}
        refused = dict(self.refused)
        first_seen: dict[tuple[str, str | None], int] = {}
        for index, item in enumerate(self.items):
            if index in refused:
                continue
            user_id = self.given[index]
            if user_id is not None and needs_lookup(user_id):
                object_id = directory.get(user_id)
                if object_id is None:
                    error = failures.get(user_id.lower()) or OrganizerLookupError(
                        user_id, f"organizer {user_id!r} (a user principal name) was not looked up"
                    )
                    spec, _, _ = _split(item)
                    refused[index] = BatchItemResult(
                        index, given(spec, "external_id"), given(spec, "user_id"), error=error
                    )
                    continue
                user_id = object_id
            external_id = given(_split(item)[0], "external_id")
            first = first_seen.setdefault(identity(user_id, external_id), index)
            if first != index:
                error = DuplicateMeetingError(index, first, external_id or "", user_id)
                refused[index] = BatchItemResult(index, external_id, user_id, error=error)
        return _Requests(self, directory), refused

    # -- step 2 --------------------------------------------------------------------------------

    def second_step(self, first: list[BatchItemResult]) -> list[PreparedRequest]:
        """The PATCH and DELETE requests that follow step 1's results (in input order).

        Each goes below the organizer path step 1 used (the object id of an organizer given by UPN).
        """
        # One result object per item at any time (bench: working memory stays flat): each
        # engine result is replaced in its list (the engine's, made for this call) by the
        # meeting result, whose organizer fields are final, so that an item with nothing more
        # to do keeps that object as its final result.
        converted = cast("list[Any]", first)
        for position, result in enumerate(first):
            converted[position] = self._with_organizer(self._meeting_result(result))
        self._first = cast("list[BulkItemResult]", converted)
        requests: list[PreparedRequest] = []
        for result in self._first:
            index = result.index
            if not result.ok:
                continue
            sent = self._build(index)
            if result.user_id != sent.user_id and result.user_id is not None:
                sent = with_object_id(sent, result.user_id)
            try:
                step = after_create_or_get(
                    sent,
                    result.meeting or {},
                    created=bool(result.created),
                    cancel=self.cancelled[index],
                    compare=self.update_existing,
                )
            except (InvalidRequestError, GraphAPIError) as error:
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
            if self.cancelled[index]:
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
        for final in self._first:
            if final.meeting is not None and self.meeting_fields != self.first_fields:
                final = replace(final, meeting=keep_fields(final.meeting, self.meeting_fields))
            results.append(self._with_organizer(final))
        return results

    def _with_organizer(self, result: BulkItemResult) -> BulkItemResult:
        """``user_id`` the object id (``None`` if there is none), ``given_user_id`` as given."""
        given_user = self.given[result.index]
        user_id = result.user_id
        if user_id is not None and needs_lookup(user_id):  # refused before it was sent
            user_id = None
        if user_id == result.user_id and given_user == result.given_user_id:
            return result
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
        gone = answer.ok or is_not_found(answer.error)
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
        # In place: the result it replaces is freed at once (one result object per item).
        self._first[result.index] = result


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
