"""A bulk sync or cancel, planned as two runs of the bulk engine: pure bookkeeping, no I/O.

1. **createOrGet** of every item (one engine run, the usual validation, de-duplication,
   pacing and retries). A cancelled item is reduced to its ``external_id`` and
   ``user_id``: Graph has no lookup by ``externalId``, createOrGet is the way to find the
   meeting (and makes one, deleted in step 2, when there was none);
2. **PATCH** of every meeting that differs (``update_existing``) and **DELETE** of every
   cancelled item's meeting, as prepared requests in one more engine run: ``$batch``,
   the same pacing and retry rules.

:class:`BulkSync` holds the state of one call: the items as step 1 sends them, which are
cancelled, the requests of step 2, and how the answers of both steps make each item's
result (:class:`~airflow_provider_meetings.meetings.results.BulkItemResult` with its ``outcome``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_meetings.graph.batch import Preparer, prepare_item, trim_meeting
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidMeetingRequestError, MeetingsError
from airflow_provider_meetings.meetings.diff import (
    SYNC_MEETING_FIELDS,
    check_organizer,
    delete_request,
    meeting_changes,
    update_request,
)
from airflow_provider_meetings.meetings.request import MeetingSpec, PreparedRequest
from airflow_provider_meetings.meetings.results import (
    CANCELLED,
    CREATED,
    EXISTING,
    NOT_FOUND,
    UNCHANGED,
    UPDATED,
    BulkItemResult,
)

#: The item key that asks for a meeting to be cancelled (deleted).
CANCELLED_KEY = "cancelled"
#: What a cancelled item keeps: what identifies its meeting.
_IDENTITY_KEYS = ("external_id", "user_id")


@dataclass(frozen=True)
class _Refused(MeetingSpec):
    """An item refused before anything is sent (its ``cancelled`` flag is not a boolean)."""

    problem: InvalidMeetingRequestError | None = None


def _split(item: Any) -> tuple[Any, bool]:
    """An item as step 1 sends it, and whether it is cancelled."""
    if not isinstance(item, Mapping) or CANCELLED_KEY not in item:
        return item, False
    flag = item[CANCELLED_KEY]
    if flag is not None and not isinstance(flag, bool):
        problem = InvalidMeetingRequestError(
            CANCELLED_KEY, f"must be true or false, got {type(flag).__name__} {flag!r}; nothing was sent for this item"
        )
        return _Refused(external_id=item.get("external_id"), user_id=item.get("user_id"), problem=problem), False
    if flag:
        return {key: item[key] for key in _IDENTITY_KEYS if key in item}, True
    return {key: value for key, value in item.items() if key != CANCELLED_KEY}, False


def _union(fields: Sequence[str] | None, more: Sequence[str]) -> tuple[str, ...] | None:
    return None if fields is None else tuple(dict.fromkeys([*fields, *more]))


def _invalid_answer(result: BulkItemResult) -> GraphAPIError:
    return GraphAPIError(result.status or 0, "InvalidResponse", "the createOrGet answer had no meeting id")


class BulkSync:
    """One bulk call that creates or gets, syncs and cancels meetings.

    :param items: mappings (a ``cancelled: true`` key cancels the item) or
        :class:`~airflow_provider_meetings.meetings.request.MeetingSpec` objects
    :param prepare: validates one spec into its createOrGet request (the hook's rules)
    :param update_existing: PATCH existing meetings that differ from their item
    :param meeting_fields: meeting fields each result keeps (``None``: all)
    """

    def __init__(
        self,
        items: Iterable[Any],
        *,
        prepare: Preparer,
        update_existing: bool,
        meeting_fields: Sequence[str] | None,
    ) -> None:
        split = [_split(item) for item in items]
        #: the items as step 1 sends them
        self.specs: list[Any] = [spec for spec, _ in split]
        self.cancelled: list[bool] = [flag for _, flag in split]
        self.update_existing = update_existing
        self.meeting_fields = tuple(meeting_fields) if meeting_fields is not None else None
        self._prepare = prepare
        needs: tuple[str, ...] = SYNC_MEETING_FIELDS if update_existing else ("id",) if any(self.cancelled) else ()
        #: fields step 1 keeps: the caller's plus what step 2 needs
        self.first_fields = _union(self.meeting_fields, needs)
        self._first: list[BulkItemResult] = []
        self._decided: dict[int, BulkItemResult] = {}
        self._second: list[int] = []  # item index of each step-2 request

    @property
    def has_cancellations(self) -> bool:
        """Whether any item is cancelled."""
        return any(self.cancelled)

    def prepare(self, spec: MeetingSpec) -> PreparedRequest:
        """Step 1's preparer: the hook's, after refusing what :func:`_split` refused."""
        if isinstance(spec, _Refused) and spec.problem is not None:
            raise spec.problem
        return self._prepare(spec)

    # -- step 2 --------------------------------------------------------------------------------

    def second_step(self, first: Sequence[BulkItemResult], prepare: Preparer | None = None) -> list[PreparedRequest]:
        """The PATCH and DELETE requests that follow step 1's results (in input order).

        :param prepare: step 1's preparer (default: :meth:`prepare`); each request goes
            below the organizer path step 1 used (the object id of an organizer given by UPN)
        """
        prepare = prepare or self.prepare
        self._first = list(first)
        requests: list[PreparedRequest] = []
        for result in self._first:
            index = result.index
            if not result.ok:
                continue
            cancel = self.cancelled[index]
            if not cancel and not self.update_existing:
                self._decide(replace(result, outcome=CREATED if result.created else EXISTING))
                continue
            meeting = result.meeting or {}
            if not isinstance(meeting.get("id"), str) or not meeting["id"]:
                self._decide(self._failed(result, _invalid_answer(result)))
                continue
            prepared = prepare_item(self.specs[index], index, prepare)  # validated in step 1
            if cancel:
                request = delete_request(prepared, meeting["id"])
            else:
                wanted = prepared.body or {}
                try:
                    if result.created:  # createOrGet made it as asked; only the organizer can disagree
                        check_organizer(wanted, meeting)
                        changes: dict[str, Any] = {}
                    else:
                        changes = meeting_changes(wanted, meeting)
                except InvalidMeetingRequestError as error:
                    self._decide(self._failed(result, error))
                    continue
                if not changes:
                    self._decide(replace(result, outcome=CREATED if result.created else UNCHANGED))
                    continue
                request = update_request(prepared, meeting["id"], changes)
            self._second.append(index)
            requests.append(request)
        return requests

    # -- results ------------------------------------------------------------------------------

    def results(self, second: Sequence[BulkItemResult]) -> list[BulkItemResult]:
        """Every item's final result, in input order, from both steps' results."""
        for index, answer in zip(self._second, second, strict=True):
            first = self._first[index]
            attempts = first.attempts + answer.attempts
            if self.cancelled[index]:
                self._decide(self._cancel_result(first, answer, attempts))
            elif answer.ok:
                self._decide(
                    replace(first, meeting=answer.meeting, status=answer.status, attempts=attempts, outcome=UPDATED)
                )
            else:
                self._decide(replace(self._failed(first, answer.error), attempts=attempts, first_created=first.created))
        results = []
        for result in self._first:
            final = self._decided.get(result.index, result)
            if final.meeting is not None and self.meeting_fields != self.first_fields:
                final = replace(final, meeting=trim_meeting(final.meeting, self.meeting_fields))
            results.append(final)
        return results

    def _cancel_result(self, first: BulkItemResult, answer: BulkItemResult, attempts: int) -> BulkItemResult:
        # 404: the meeting is gone already (a retried DELETE whose first answer was lost, or
        # a cancel running at the same time): what a cancel wants.
        gone = answer.ok or (isinstance(answer.error, GraphAPIError) and answer.error.status == 404)
        if not gone:
            return replace(self._failed(first, answer.error), attempts=attempts, first_created=first.created)
        return BulkItemResult(
            first.index,
            first.external_id,
            first.user_id,
            meeting=None,
            created=False,
            attempts=attempts,
            status=answer.status if answer.ok else 404,
            outcome=NOT_FOUND if first.created else CANCELLED,
        )

    @staticmethod
    def _failed(result: BulkItemResult, error: BaseException | MeetingsError | None) -> BulkItemResult:
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
