"""Bulk createOrGet through Graph JSON batching (``$batch``): the engine, without HTTP.

The hook supplies a :class:`BatchTransport` (one ``POST $batch`` attempt, token refresh);
everything else lives here and runs in the calling thread:

* every spec is validated before anything is sent; invalid items and repeated
  ``(user, external_id)`` pairs get their error result and are never sent;
* items go out in ``$batch`` requests of at most 20, with a bounded number in flight
  (worker threads do only the HTTP round trip);
* per-item 429/502/503/504 and whole-batch failures are retried item by item within the
  :class:`~airflow_provider_meetings.retry.RetryPolicy`, after the item's own
  ``Retry-After``; a 401 gets one token refresh; permanent errors are final;
* :class:`FlowController` adapts to throttling: the number of batches in flight follows
  AIMD, and once a 429 shows a limit, items are paced at the rate the service accepted.

Memory is flat in the number of meetings: specs are validated twice (once up front,
once when their batch is built) rather than kept prepared, and only the trimmed
:class:`BulkItemResult` of each item is kept.

Nothing here imports requests or msal.
"""

from __future__ import annotations

import collections
import heapq
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_meetings.exceptions import (
    GraphAPIError,
    InvalidMeetingRequestError,
    MeetingsError,
    RetriesExhaustedError,
    describe_error,
    graph_error_from_response,
    is_permanent,
)
from airflow_provider_meetings.meeting_request import MeetingSpec, PreparedRequest, prepare_request
from airflow_provider_meetings.retry import RetryPolicy, parse_retry_after

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


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkItemResult:
    """The outcome of one item of a bulk call.

    :param index: position of the item in the input
    :param external_id: the item's external id (``None`` when it was not a string)
    :param user_id: the organizer the item was for (``None`` for ``/me``)
    :param meeting: the meeting's kept fields (see ``meeting_fields``), or ``None`` on error
    :param created: ``True`` for 201 (created), ``False`` for 200 (existing), ``None`` on error
    :param error: why the item failed, or ``None``
    :param attempts: requests sent for this item (0 if it was refused before sending)
    """

    index: int
    external_id: str | None
    user_id: str | None
    meeting: Mapping[str, Any] | None = None
    created: bool | None = None
    error: BaseException | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        """Whether the meeting exists now (created or found)."""
        return self.error is None

    @property
    def permanent(self) -> bool:
        """Whether the failure would repeat on a re-run (``False`` when it succeeded)."""
        return self.error is not None and is_permanent(self.error)

    @property
    def meeting_id(self) -> str | None:
        """Graph's meeting id."""
        return self.meeting.get("id") if self.meeting else None

    @property
    def join_url(self) -> str | None:
        """The meeting's ``joinWebUrl``."""
        return self.meeting.get("joinWebUrl") if self.meeting else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for XCom); carries no token and no passcode."""
        error = self.error
        return {
            "index": self.index,
            "external_id": self.external_id,
            "user_id": self.user_id,
            "meeting_id": self.meeting_id,
            "join_web_url": self.join_url,
            "created": self.created,
            "error": None if error is None else str(error),
            "error_status": getattr(error, "status", None),
            "error_code": getattr(error, "code", None),
            "permanent": None if error is None else is_permanent(error),
        }


@dataclass(frozen=True)
class BulkProgress:
    """A snapshot of a running bulk call, for progress logs.

    :param done: items finished (succeeded or failed, the invalid ones included)
    :param total: items in the call
    :param succeeded: items whose meeting exists now
    :param failed: items that failed for good
    :param retries: item retries made so far
    :param throttled: per-item or whole-batch 429 answers seen (in items)
    :param elapsed: seconds since sending started
    :param concurrency: batches allowed in flight now
    :param paced_rate: items per second the pacer allows now (``None``: not paced)
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

    @property
    def rate(self) -> float:
        """Finished items per second since sending started."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


# -- validation --------------------------------------------------------------------------


def _error_at(index: int, error: InvalidMeetingRequestError) -> InvalidMeetingRequestError:
    """The same validation error with the item's position in front of its field."""
    if error.field.startswith("meetings["):
        return error
    message = str(error)
    prefix = f"{error.field}: "
    message = message[len(prefix) :] if message.startswith(prefix) else message
    return InvalidMeetingRequestError(f"meetings[{index}].{error.field}", message)


def _given(spec: Any, name: str) -> str | None:
    """A spec's ``external_id`` or ``user_id`` as given, if it is a string (for error results)."""
    value = (
        getattr(spec, name, None)
        if isinstance(spec, MeetingSpec)
        else (spec.get(name) if isinstance(spec, Mapping) else None)
    )
    return value if isinstance(value, str) else None


Preparer = Callable[[MeetingSpec], PreparedRequest]


def prepare_item(spec: Any, index: int, prepare: Preparer) -> PreparedRequest:
    """Validate one bulk item (a mapping or :class:`MeetingSpec`) and prepare its request.

    :raises InvalidMeetingRequestError: with the field named ``meetings[<index>].<field>``
    """
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


def validate_all(specs: Sequence[Any], prepare: Preparer) -> tuple[list[BulkItemResult | None], int]:
    """Validate every item before anything is sent.

    :return: a list with an error result for each refused item (invalid, or a repeat of an
        earlier ``(user, external_id)``) and ``None`` for each item to send, and the number
        of items to send
    """
    results: list[BulkItemResult | None] = [None] * len(specs)
    first_seen: dict[tuple[str | None, str], int] = {}
    to_send = 0
    for index, spec in enumerate(specs):
        try:
            prepared = prepare_item(spec, index, prepare)
        except InvalidMeetingRequestError as err:
            results[index] = BulkItemResult(index, _given(spec, "external_id"), _given(spec, "user_id"), error=err)
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


def build_batch_payload(items: Sequence[tuple[int, PreparedRequest]]) -> dict[str, Any]:
    """The ``$batch`` body for createOrGet requests; item URLs are relative to the version root."""
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} requests, not {len(items)}")
    return {
        "requests": [
            {
                "id": batch_item_id(index),
                "method": "POST",
                "url": "/" + prepared.path.lstrip("/"),
                "headers": {"Content-Type": "application/json"},
                "body": prepared.body,
            }
            for index, prepared in items
        ]
    }


#: What happened to one item of a batch.
OK, RETRY, UNAUTHORIZED, FAILED = "ok", "retry", "unauthorized", "failed"


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One item's answer inside a ``$batch`` response, classified.

    :param index: the item's input position
    :param kind: ``ok``, ``retry`` (transient), ``unauthorized`` (401) or ``failed`` (permanent)
    :param status: the item's HTTP status (0 when the answer had no entry for it)
    :param meeting: the trimmed meeting for ``ok``
    :param created: 201 vs 200 for ``ok``
    :param error: the error otherwise
    :param retry_after: the item's own ``Retry-After`` in seconds
    """

    index: int
    kind: str
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
    responses = payload.get("responses") if isinstance(payload, Mapping) else None
    by_id: dict[str, Mapping[str, Any]] = {}
    if isinstance(responses, list):
        for entry in responses:
            if isinstance(entry, Mapping) and "id" in entry:
                by_id[str(entry["id"])] = entry
    outcomes = []
    for index, user_id in sent:
        entry = by_id.get(batch_item_id(index))
        if entry is None:
            error = GraphAPIError(0, "MissingBatchItem", "the $batch answer had no entry for this item")
            outcomes.append(ItemOutcome(index, RETRY, 0, error=error))
            continue
        try:
            status = int(entry.get("status", 0))
        except (TypeError, ValueError):
            status = 0
        headers = entry.get("headers") if isinstance(entry.get("headers"), Mapping) else {}
        body = entry.get("body")
        if status in (200, 201) and isinstance(body, Mapping):
            outcomes.append(
                ItemOutcome(index, OK, status, meeting=trim_meeting(body, meeting_fields), created=status == 201)
            )
            continue
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        if status in (200, 201):
            error = GraphAPIError(status, "InvalidResponse", "the answer was not a JSON onlineMeeting")
            kind = FAILED
        else:
            error = graph_error_from_response(status, headers, body, user_id=user_id, retry_after=retry_after)
            if status == 401:
                kind = UNAUTHORIZED
            else:
                kind = FAILED if is_permanent(error) else RETRY
        outcomes.append(ItemOutcome(index, kind, status, error=error, retry_after=retry_after))
    return outcomes


# -- flow control ------------------------------------------------------------------------


class FlowController:
    """How many batches may be in flight, how big they are, and how fast items may go.

    * Concurrency is AIMD: halved on throttling or on a failed batch, raised by one after
      a round (``concurrency`` batches) without throttling, between 1 and the maximum.
    * Pacing starts when a 429 shows that a limit exists. The items the service accepted
      during the last ``Retry-After`` seconds (at least ``min_window``, at most 10 s; or
      since sending began, if that is shorter) estimate its rate, and items are then paced
      at ``margin`` times that rate, in batches of about
      ``slice_seconds`` worth of items (smaller batches spread the load over a sliding
      window). Without 429s the rate probes up by ``probe`` per second; another 429 sets it
      back from the new estimate. At most one decrease per window: answers to batches
      sent less than a window after the last decrease say nothing about the new rate.
    * The first 429 also holds all sending for its ``Retry-After``, because the window is
      full then and everything sent would be throttled too.

    Pure: the caller passes the time. Not thread-safe (the engine uses it from one thread).

    :param max_concurrency: the ceiling of batches in flight
    :param max_batch_items: the largest batch (Graph allows 20)
    :param margin: paced rate as a fraction of the estimated accepted rate
    :param probe: relative rate increase per second without throttling
    :param slice_seconds: target time span of one paced batch
    :param min_rate: the paced rate never drops below this (items per second)
    :param min_window: the shortest window assumed when ``Retry-After`` is absent or small
    """

    def __init__(
        self,
        max_concurrency: int,
        *,
        max_batch_items: int = MAX_BATCH_ITEMS,
        margin: float = 0.99,
        probe: float = 0.03,
        slice_seconds: float = 0.1,
        min_rate: float = 1.0,
        min_window: float = 1.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.max_batch_items = max_batch_items
        self.margin = margin
        self.probe = probe
        self.slice_seconds = slice_seconds
        self.min_rate = min_rate
        self.min_window = min_window
        self.concurrency = max_concurrency
        self.rate: float | None = None
        self.window = 1.0
        self.rtt: float | None = None
        self.decreases = 0
        self._tokens = 0.0
        self._tokens_at = 0.0
        self._accepted: collections.deque[tuple[float, int]] = collections.deque()
        self._last_decrease = -math.inf
        self._last_probe = 0.0
        self._clean_batches = 0
        self._started: float | None = None

    @property
    def batch_size(self) -> int:
        """Items per batch now."""
        if self.rate is None:
            return self.max_batch_items
        return max(1, min(self.max_batch_items, round(self.rate * self.slice_seconds)))

    def _concurrency_floor(self) -> int:
        # When paced, enough batches must be in flight to carry the rate at the observed RTT.
        if self.rate is None or self.rtt is None:
            return 1
        needed = math.ceil(self.rate / self.batch_size * self.rtt) + 1
        return max(1, min(self.max_concurrency, needed))

    def _refill(self, now: float) -> None:
        if self.rate is not None:
            capacity = float(self.batch_size)
            self._tokens = min(capacity, self._tokens + (now - self._tokens_at) * self.rate)
        self._tokens_at = now

    def delay(self, items: int, now: float) -> float:
        """Seconds until ``items`` items may be sent (0: now)."""
        if self.rate is None:
            return 0.0
        self._refill(now)
        missing = items - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate

    def on_sent(self, items: int, now: float) -> None:
        """Account for ``items`` items sent at ``now``."""
        if self._started is None:
            self._started = now
        if self.rate is not None:
            self._refill(now)
            self._tokens -= items

    def accepted_rate(self, now: float, window: float) -> float:
        """Items per second accepted (answered other than 429) during the last ``window`` s.

        Before ``window`` seconds of sending, the time since the first send is the span: a
        429 that early says less about the rate than a full window would.
        """
        span = window if self._started is None else max(1e-3, min(window, now - self._started))
        return sum(n for t, n in self._accepted if t > now - window) / span

    def on_batch_done(
        self,
        now: float,
        *,
        sent_at: float,
        accepted: int,
        throttled: int,
        retry_after: float | None = None,
        failed: bool = False,
    ) -> float:
        """Learn from one batch's answer.

        :param now: when the answer arrived
        :param sent_at: when the batch was sent
        :param accepted: items the service did not throttle
        :param throttled: items answered 429 (all of them for a whole-batch 429)
        :param retry_after: the largest ``Retry-After`` among them
        :param failed: the batch as a whole failed (transport error or 5xx)
        :return: seconds to hold all sending (0: none)
        """
        rtt = max(0.0, now - sent_at)
        self.rtt = rtt if self.rtt is None else 0.8 * self.rtt + 0.2 * rtt
        if accepted:
            self._accepted.append((now, accepted))
        while self._accepted and self._accepted[0][0] <= now - 10.0:
            self._accepted.popleft()
        if failed and not throttled:
            if sent_at > self._last_decrease:
                self.concurrency = max(1, self.concurrency // 2)
                self._last_decrease = now
            self._clean_batches = 0
            return 0.0
        if throttled:
            self._clean_batches = 0
            if sent_at <= self._last_decrease:
                return 0.0
            first = self.rate is None
            self.window = min(10.0, max(self.min_window, retry_after or 0.0))
            estimate = self.accepted_rate(now, self.window)
            if self.rate is not None:
                if estimate > 0:
                    self.rate = max(self.min_rate, min(self.rate, estimate) * self.margin)
                else:
                    self.rate = max(self.min_rate, self.rate * 0.5)
            elif estimate > 0:
                self.rate = max(self.min_rate, estimate * self.margin)
            # else: nothing got through (a whole-batch 429): no rate to learn, only wait.
            self._tokens, self._tokens_at = 0.0, now
            self.concurrency = max(self._concurrency_floor(), self.concurrency // 2)
            # Items admitted before now stay in the service's window for another window's
            # length: 429s to batches sent until then say nothing about the new rate.
            self._last_decrease = now + self.window
            self._last_probe = self._last_decrease
            self.decreases += 1
            return self.window if first else 0.0
        self._clean_batches += 1
        if self._clean_batches >= self.concurrency and self.concurrency < self.max_concurrency:
            self.concurrency += 1
            self._clean_batches = 0
        if self.rate is not None and now - self._last_probe >= 1.0:
            self.rate *= (1.0 + self.probe) ** (now - self._last_probe)
            self._last_probe = now
            if self.rtt and self.rate * self.rtt > self.max_concurrency * self.max_batch_items:
                self.rate = None  # faster than the concurrency could carry: pacing is moot
        self.concurrency = max(self.concurrency, self._concurrency_floor())
        return 0.0


# -- the engine --------------------------------------------------------------------------


class BatchTransport(Protocol):
    """The I/O the engine needs; the hook implements it over its session and token."""

    def send_batch(self, payload: Mapping[str, Any]) -> tuple[int, Mapping[str, str], Any]:
        """Send one ``POST $batch`` (one attempt) and return status, headers and decoded body.

        Transport errors (connection dropped, timeout) are raised; ``transient_errors``
        says which of them are worth a retry.
        """

    def refresh_token(self) -> None:
        """Replace the access token after a 401 (called from the engine's thread)."""


@dataclass
class _RetryState:
    retries: int = 0
    waited: float = 0.0
    refreshed: bool = False


@dataclass
class _Batch:
    items: list[tuple[int, str | None]]
    sent_at: float
    token_generation: int


@dataclass
class BulkStats:
    """Counters of one bulk call (also the source of :class:`BulkProgress`)."""

    total: int = 0
    done: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    throttled: int = 0
    batches: int = 0
    token_refreshes: int = 0
    started: float = 0.0


class BulkEngine:
    """Runs one bulk createOrGet call; see the module docstring for the rules.

    :param transport: sends batches and refreshes the token
    :param prepare: validates one :class:`MeetingSpec` into a request (the hook's rules)
    :param max_concurrency: batches in flight at most
    :param retry_policy: per-item retry bound
    :param meeting_fields: meeting fields kept in the results (``None``: all)
    :param transient_errors: exception types of ``send_batch`` worth a retry
    :param progress: called with a :class:`BulkProgress` every ``progress_interval`` seconds
        and once at the end
    :param progress_interval: seconds between progress calls
    :param clock: monotonic clock (tests pass a fake one together with ``sleep``)
    :param sleep: how to wait when nothing is in flight
    :param controller: flow control (default: a :class:`FlowController`)
    :param log: where each retried item gets its INFO line (the hook passes its own logger)
    """

    def __init__(
        self,
        transport: BatchTransport,
        *,
        prepare: Preparer | None = None,
        max_concurrency: int = 4,
        retry_policy: RetryPolicy | None = None,
        meeting_fields: Sequence[str] | None = DEFAULT_MEETING_FIELDS,
        transient_errors: tuple[type[BaseException], ...] = (OSError,),
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        controller: FlowController | None = None,
        log: logging.Logger | Any | None = None,
    ) -> None:
        self.transport = transport
        self.log = log or logging.getLogger(__name__)
        self.prepare = prepare or (lambda spec: prepare_request(spec))
        self.max_concurrency = max_concurrency
        self.retry_policy = retry_policy or RetryPolicy()
        self.meeting_fields = tuple(meeting_fields) if meeting_fields is not None else None
        self.transient_errors = transient_errors
        self.progress = progress
        self.progress_interval = progress_interval
        self.clock = clock
        self.sleep = sleep
        self.controller = controller or FlowController(max_concurrency)
        self.stats = BulkStats()

    # The state of one run; reset by run().
    _specs: Sequence[Any]
    _results: list[BulkItemResult | None]
    _retry_state: dict[int, _RetryState]
    _ready: list[tuple[float, int, int]]

    def snapshot(self) -> BulkProgress:
        """Progress so far."""
        s = self.stats
        return BulkProgress(
            done=s.done,
            total=s.total,
            succeeded=s.succeeded,
            failed=s.failed,
            retries=s.retries,
            throttled=s.throttled,
            elapsed=max(0.0, self.clock() - s.started),
            concurrency=self.controller.concurrency,
            paced_rate=self.controller.rate,
        )

    def run(self, specs: Iterable[Any]) -> list[BulkItemResult]:
        """Create or get every meeting; one result per spec, in input order."""
        self._specs = specs if isinstance(specs, Sequence) else list(specs)
        if len(self._specs) > MAX_BULK_ITEMS:
            raise InvalidMeetingRequestError(
                "meetings",
                f"has {len(self._specs):,} items; one bulk call takes at most {MAX_BULK_ITEMS:,}. "
                "Split the list across tasks (e.g. by week or by organizer); nothing was sent",
            )
        self._results, to_send = validate_all(self._specs, self.prepare)
        self.stats = BulkStats(total=len(self._specs), started=self.clock())
        self.stats.done = self.stats.failed = len(self._specs) - to_send
        self._retry_state = {}
        self._ready = []  # heap of (ready_at, sequence, index) for items waiting to retry
        self._sequence = 0
        self._cursor = 0
        self._fresh_left = to_send
        self._token_generation = 0
        if to_send:
            workers = min(self.max_concurrency, math.ceil(to_send / self.controller.batch_size))
            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="meetings-bulk") as pool:
                self._loop(pool)
        if self.progress:
            self.progress(self.snapshot())
        results = self._results
        self._specs, self._results = (), []
        return results  # type: ignore[return-value]  # every slot is filled by now

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        inflight: dict[Future[Any], _Batch] = {}
        hold_until = -math.inf
        next_progress = self.stats.started + self.progress_interval
        while True:
            now = self.clock()
            wake_at = math.inf
            while len(inflight) < self.controller.concurrency and now >= hold_until:
                waiting = self._ready_count(now)
                if not waiting:
                    break
                size = min(self.controller.batch_size, waiting)
                delay = self.controller.delay(size, now)
                if delay > 0:
                    wake_at = now + delay
                    break
                batch_items = self._take(size, now)
                payload_items = []
                for index in batch_items:
                    prepared = prepare_item(self._specs[index], index, self.prepare)
                    payload_items.append((index, prepared))
                payload = build_batch_payload(payload_items)
                batch = _Batch([(i, p.user_id) for i, p in payload_items], now, self._token_generation)
                del payload_items
                self.controller.on_sent(len(batch.items), now)
                self.stats.batches += 1
                inflight[pool.submit(self.transport.send_batch, payload)] = batch
            if not inflight and not self._ready and not self._fresh_left:
                return
            if self._ready:
                wake_at = min(wake_at, self._ready[0][0])
            if now < hold_until:
                wake_at = min(wake_at, hold_until)
            if self.progress:
                if now >= next_progress:
                    self.progress(self.snapshot())
                    next_progress = now + self.progress_interval
                wake_at = min(wake_at, next_progress)
            timeout = max(0.0, wake_at - now) if wake_at != math.inf else None
            if inflight:
                done, _ = wait(list(inflight), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    hold = self._finish(inflight.pop(future), future)
                    if hold:
                        hold_until = max(hold_until, self.clock() + hold)
            elif timeout:
                self.sleep(timeout)

    def _ready_count(self, now: float) -> int:
        ready = 0
        for ready_at, _, _ in self._ready:
            if ready_at <= now:
                ready += 1
                if ready >= MAX_BATCH_ITEMS:
                    break
        return ready + self._fresh_left

    def _take(self, size: int, now: float) -> list[int]:
        """Up to ``size`` items: retries that are due first, then fresh items in order."""
        taken: list[int] = []
        while len(taken) < size and self._ready and self._ready[0][0] <= now:
            taken.append(heapq.heappop(self._ready)[2])
        while len(taken) < size and self._fresh_left:
            index = self._cursor
            self._cursor += 1
            if self._results[index] is None:
                taken.append(index)
                self._fresh_left -= 1
        return taken

    def _requeue(self, index: int, at: float) -> None:
        self._sequence += 1
        heapq.heappush(self._ready, (at, self._sequence, index))

    def _complete(self, result: BulkItemResult) -> None:
        self._results[result.index] = result
        self._retry_state.pop(result.index, None)
        self.stats.done += 1
        if result.ok:
            self.stats.succeeded += 1
        else:
            self.stats.failed += 1

    def _attempts(self, index: int) -> int:
        state = self._retry_state.get(index)
        return 1 + (state.retries if state else 0)

    def _external_id(self, index: int) -> str | None:
        return _given(self._specs[index], "external_id")

    def _fail(self, index: int, user_id: str | None, error: BaseException) -> None:
        self._complete(
            BulkItemResult(index, self._external_id(index), user_id, error=error, attempts=self._attempts(index))
        )

    def _retry_or_fail(self, index: int, user_id: str | None, error: BaseException, retry_after: float | None) -> None:
        state = self._retry_state.setdefault(index, _RetryState())
        wait_s = self.retry_policy.next_wait(state.retries, state.waited, retry_after)
        if wait_s is None:
            what = f"createOrGet meetings[{index}] external_id={self._external_id(index)}"
            self._fail(index, user_id, RetriesExhaustedError(what, state.retries + 1, state.waited, error))
            return
        state.retries += 1
        state.waited += wait_s
        self.stats.retries += 1
        self.log.info(
            "createOrGet meetings[%d] external_id=%s: %s, retry %d/%d in %.1fs%s",
            index,
            self._external_id(index),
            describe_error(error),
            state.retries,
            self.retry_policy.max_retries,
            wait_s,
            " (Retry-After)" if retry_after is not None else "",
        )
        self._requeue(index, self.clock() + wait_s)

    def _unauthorized(self, index: int, user_id: str | None, error: BaseException, generation: int) -> bool:
        """Retry once with a fresh token; return whether a refresh is needed now."""
        state = self._retry_state.setdefault(index, _RetryState())
        if state.refreshed:
            self._fail(index, user_id, error)
            return False
        state.refreshed = True
        self.log.info(
            "createOrGet meetings[%d] external_id=%s: %s, retry with a fresh token",
            index,
            self._external_id(index),
            describe_error(error),
        )
        self._requeue(index, self.clock())
        return generation == self._token_generation

    def _refresh(self) -> None:
        self._token_generation += 1
        self.stats.token_refreshes += 1
        self.transport.refresh_token()

    def _finish(self, batch: _Batch, future: Future[Any]) -> float:
        """Handle one batch's answer; return seconds to hold all sending."""
        now = self.clock()
        try:
            status, headers, body = future.result()
        except self.transient_errors as err:
            for index, user_id in batch.items:
                self._retry_or_fail(index, user_id, err, None)
            return self.controller.on_batch_done(now, sent_at=batch.sent_at, accepted=0, throttled=0, failed=True)
        except MeetingsError as err:  # e.g. the token could not be had
            for index, user_id in batch.items:
                if is_permanent(err):
                    self._fail(index, user_id, err)
                else:
                    self._retry_or_fail(index, user_id, err, None)
            return 0.0

        # Graph answers 424 Failed Dependency for a batch whose items were throttled and still
        # lists every item's response (https://learn.microsoft.com/graph/throttling,
        # "Throttling and batching"): read the items of any envelope that carries them.
        if status != 200 and not (isinstance(body, Mapping) and isinstance(body.get("responses"), list)):
            retry_after = parse_retry_after(_header(headers, "Retry-After"))
            error = graph_error_from_response(status, headers, body, retry_after=retry_after)
            needs_refresh = False
            for index, user_id in batch.items:
                if status == 401:
                    needs_refresh |= self._unauthorized(index, user_id, error, batch.token_generation)
                elif is_permanent(error):
                    self._fail(index, user_id, error)
                else:
                    self._retry_or_fail(index, user_id, error, retry_after)
            if needs_refresh:
                self._refresh()
            throttled = len(batch.items) if status == 429 else 0
            self.stats.throttled += throttled
            hold = self.controller.on_batch_done(
                now,
                sent_at=batch.sent_at,
                accepted=0,
                throttled=throttled,
                retry_after=retry_after,
                failed=not is_permanent(error),
            )
            return max(hold, retry_after or 0.0) if status == 429 else hold

        accepted = throttled = 0
        retry_after_max: float | None = None
        needs_refresh = False
        outcomes = classify_batch_response(batch.items, body, meeting_fields=self.meeting_fields)
        for (index, user_id), outcome in zip(batch.items, outcomes, strict=True):
            if outcome.status == 429:
                throttled += 1
                if outcome.retry_after is not None:
                    retry_after_max = max(retry_after_max or 0.0, outcome.retry_after)
            elif outcome.status:
                accepted += 1
            if outcome.kind == OK:
                self._complete(
                    BulkItemResult(
                        index,
                        self._external_id(index),
                        user_id,
                        meeting=outcome.meeting,
                        created=outcome.created,
                        attempts=self._attempts(index),
                    )
                )
            elif outcome.kind == UNAUTHORIZED:
                needs_refresh |= self._unauthorized(index, user_id, outcome.error, batch.token_generation)
            elif outcome.kind == RETRY:
                self._retry_or_fail(index, user_id, outcome.error, outcome.retry_after)
            else:
                self._fail(index, user_id, outcome.error)
        if needs_refresh:
            self._refresh()
        self.stats.throttled += throttled
        return self.controller.on_batch_done(
            now, sent_at=batch.sent_at, accepted=accepted, throttled=throttled, retry_after=retry_after_max
        )


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A header's value, whatever the case of its name (``$batch`` items use plain dicts)."""
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if str(key).lower() == lowered:
            return str(value)
    return None
