"""The bulk engine: sends requests in ``$batch`` requests and retries item by item.

The caller supplies a :class:`BatchTransport` (a token, one ``POST $batch`` attempt, token
invalidation), the requests (:class:`~airflow_provider_meetings.graph.batch.GraphRequest`, read
by position when their batch is built: a caller may hand in a sequence that builds each one
then, so that memory stays flat in the number of items) and the results of the items it
refused before sending; everything else runs in the calling thread, worker threads do only
the HTTP round trip. The rules (their numbers and statuses: :mod:`~airflow_provider_meetings.graph.retry`):

* every item gets a result, in input order, whatever happens (nothing is lost);
* each item's answer is classified by its own status (``batch.classify_batch_response``);
  an envelope without per-item answers applies to every item in it;
* retries go through the one retry loop: each item has its own
  :class:`~airflow_provider_meetings.graph.retry_loop.RetryBudget` (429s spend waiting, failures spend
  attempts), the same rule as single calls; a ``$batch`` request that failed as a whole
  (dropped, timed out, an envelope 5xx without per-item answers) spends only the waiting
  budget of its items, with a backoff that grows with the failed requests in a row of the
  call (``graph/retry.py``): the items were not answered, so no attempt of theirs failed;
* a 401 gets one token refresh per item, one refresh for all the items of a token;
* the call **stops** (every unfinished item fails with the same error, items done keep
  their result) when no token can be had after the token's own retries, when Graph asks for
  a pause longer than the whole waiting budget, or on a configuration error such as an
  untrusted certificate: sending more could not succeed;
* :class:`~airflow_provider_meetings.graph.pacing.FlowController` adapts the number of
  batches in flight and paces items once 429s show a limit; a shared rate budget
  (:mod:`~airflow_provider_meetings.graph.budget`) is one such controller whose pace and
  holds every process of the tenant and app shares (the ``controller`` factory);
* with ``one_batch_per_user``, a batch holds the items of one user only (compared without
  case; ``None`` is a group of its own) and at most one batch per user is in flight, while
  the batches of different users run side by side (taken in turn). For services whose
  limit is per user and counts a batch's items (the resource that needs it says which).

Only the kept fields (``keep_fields``) of each answer, and the key and log name of the
items in progress, are kept. Nothing here imports requests or msal, nor knows a resource.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_meetings.graph.answer import HttpAnswer
from airflow_provider_meetings.graph.batch import (
    MAX_BATCH_ITEMS,
    BatchItemResult,
    BulkProgress,
    GraphRequest,
    ItemKind,
    batch_responses,
    build_batch_payload,
    classify_batch_response,
)
from airflow_provider_meetings.graph.errors import (
    GraphAPIError,
    ProviderError,
    describe_error,
    graph_error_from_response,
    is_permanent,
)
from airflow_provider_meetings.graph.pacing import FlowController
from airflow_provider_meetings.graph.retry import (
    THROTTLED_STATUS,
    UNAUTHORIZED_STATUS,
    RetryPolicy,
    needs_fresh_token,
)
from airflow_provider_meetings.graph.retry_loop import RetryBudget


class BatchTransport(Protocol):
    """The I/O the engine needs; the Graph client implements it over its session and tokens."""

    def token(self) -> str:
        """An access token (cached, or obtained within the token retry bound).

        :raises ProviderError: when none can be had; the engine stops the call
        """

    def send_batch(self, payload: Mapping[str, Any], token: str) -> HttpAnswer:
        """Send one ``POST $batch`` (one attempt) and return its answer, whatever the status.

        :raises TransportError: when no answer arrived (transient)
        :raises ProviderError: a permanent one (e.g. an untrusted certificate) stops the call
        """

    def invalidate_token(self) -> None:
        """Forget the token after a 401, so the next :meth:`token` is a fresh one."""


@dataclass
class _Batch:
    """One ``$batch`` in flight: its items as ``(index, user_id)``."""

    items: list[tuple[int, str | None]]
    sent_at: float
    token_generation: int
    #: the user group of its items (``one_batch_per_user``), else ``None``
    group: str | None = None


def user_group(user_id: str | None) -> str:
    """The group of a request's user for ``one_batch_per_user``: the id without case (``""``: none)."""
    return user_id.lower() if user_id else ""


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
    peak_in_flight: int = 0
    token_refreshes: int = 0
    started: float = 0.0


class BulkEngine:
    """Runs bulk calls of Graph requests; see the module docstring for the rules.

    Built in one place for the provider: :meth:`~airflow_provider_meetings.graph.client.GraphRestClient.bulk_engine`.

    :param transport: tokens and batches
    :param max_concurrency: batches in flight at most
    :param retry_policy: per-item retry bound
    :param keep_fields: fields of each answer's body kept in the results (``None``: all)
    :param progress: called with a :class:`BulkProgress` every ``progress_interval`` seconds
        and once at the end
    :param progress_interval: seconds between progress calls
    :param clock: monotonic clock (tests pass a fake one together with ``sleep``)
    :param sleep: how to wait when nothing is in flight
    :param controller: flow control factory (default: :class:`FlowController`)
    :param log: where each retried item gets its INFO line (the hook passes its own logger)
    :param operation: what the items are, in log lines (``createOrGet``, ``PATCH``, ``GET users``...)
    :param one_batch_per_user: batches hold one user's items and one batch per user is in
        flight at a time (each request is read once when the run starts, for its user)
    """

    def __init__(
        self,
        transport: BatchTransport,
        *,
        max_concurrency: int = 4,
        retry_policy: RetryPolicy | None = None,
        keep_fields: Sequence[str] | None = None,
        progress: Callable[[BulkProgress], None] | None = None,
        progress_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        controller: Callable[[int], FlowController] = FlowController,
        log: logging.Logger | Any | None = None,
        operation: str = "requests",
        one_batch_per_user: bool = False,
    ) -> None:
        self.transport = transport
        self.one_batch_per_user = one_batch_per_user
        self.log = log or logging.getLogger(__name__)
        self.max_concurrency = max_concurrency
        self.retry_policy = retry_policy or RetryPolicy()
        self.keep_fields = tuple(keep_fields) if keep_fields is not None else None
        self.progress = progress
        self.progress_interval = progress_interval
        self.clock = clock
        self.sleep = sleep
        self.controller = controller
        self.operation = operation
        #: the counters of the last run
        self.stats = BulkStats()

    def run(
        self, requests: Iterable[GraphRequest], *, refused: Mapping[int, BatchItemResult] | None = None
    ) -> list[BatchItemResult]:
        """Send every request; one result per position, in input order.

        :param requests: the requests by position; ``requests[i]`` is read only for a
            position not in ``refused``, when its batch is built (and again for a log line)
        :param refused: results of the positions refused before sending (kept as they are)
        """
        items = requests if isinstance(requests, Sequence) else list(requests)
        bulk_run = _BulkRun(self, items, refused or {})
        results = bulk_run.execute()
        self.stats = bulk_run.stats
        return results


class _BulkRun:
    """The state of one bulk call: results, per-item budgets, the retry queue, the batches
    in flight, and why it stopped (if it did)."""

    def __init__(
        self, engine: BulkEngine, requests: Sequence[GraphRequest], refused: Mapping[int, BatchItemResult]
    ) -> None:
        self.engine = engine
        self.transport = engine.transport
        self.log = engine.log
        self.clock = engine.clock
        self.requests = requests
        items = len(requests)
        self.results: list[BatchItemResult | None] = [None] * items
        for index, result in refused.items():
            self.results[index] = result
        #: key and log name of each item sent and not done yet
        self.in_progress: dict[int, tuple[str | None, str]] = {}
        to_send = items - len(refused)
        self.controller = engine.controller(engine.max_concurrency)
        self.stats = BulkStats(total=items, started=self.clock())
        self.stats.done = self.stats.failed = items - to_send
        self.fresh_left = to_send
        self.cursor = 0
        self.budgets: dict[int, RetryBudget] = {}
        self.refreshed: dict[int, int] = {}  # index -> fresh tokens it had
        self.ready: list[tuple[float, int, int]] = []  # heap of (ready_at, sequence, index)
        self.sequence = 0
        self.token_generation = 0
        self.hold_until = -math.inf
        #: ``$batch`` requests in a row that failed as a whole (reset by one with item answers);
        #: batches sent before the last such failure was seen count as one with it
        self.failed_streak = 0
        self.failure_seen_at = -math.inf
        self.inflight: dict[Future[HttpAnswer], _Batch] = {}
        self.stopped: BaseException | None = None
        #: one_batch_per_user: each item's group, the fresh items of each group in input
        #: order (the group taken last goes to the end), the groups with a batch in flight
        self.by_user = engine.one_batch_per_user
        self.group_of: dict[int, str] = {}
        self.fresh_by_group: dict[str, deque[int]] = {}
        self.busy: set[str] = set()
        if self.by_user:
            for index in range(items):
                if index not in refused:
                    group = user_group(requests[index].user_id)
                    self.group_of[index] = group
                    self.fresh_by_group.setdefault(group, deque()).append(index)

    # -- the loop -------------------------------------------------------------------------

    def execute(self) -> list[BatchItemResult]:
        if self.fresh_left:
            # A batch holds at least one item, not always 20 (one organizer's items, a paced or
            # retried batch): fewer threads than batches in flight left batches queued in the
            # pool while counted as in flight. The pool starts threads only as batches need them.
            workers = min(self.engine.max_concurrency, self.fresh_left)
            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="graph-batch") as pool:
                self._loop(pool)
        if self.stopped is not None:
            self._fail_unfinished(self.stopped)
        if self.engine.progress:
            self.engine.progress(self.snapshot())
        return self.results  # type: ignore[return-value]  # every slot is filled by now

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        next_progress = self.stats.started + self.engine.progress_interval
        while True:
            now = self.clock()
            wake_at = self._send_what_may_go(pool, now) if self.stopped is None else math.inf
            if not self.inflight and (self.stopped is not None or not (self.ready or self.fresh_left)):
                return
            if self.ready:
                # A retry already due waits for what held it back (pacing, a hold, a free
                # slot), each with its own wake-up; waking for it again at once would spin.
                retry_at = self._next_retry_at()
                if retry_at > now:
                    wake_at = min(wake_at, retry_at)
            if now < self.hold_until:
                wake_at = min(wake_at, self.hold_until)
            if self.engine.progress:
                if now >= next_progress:
                    self.engine.progress(self.snapshot())
                    next_progress = now + self.engine.progress_interval
                wake_at = min(wake_at, next_progress)
            timeout = max(0.0, wake_at - self.clock()) if wake_at != math.inf else None
            if self.inflight:
                done, _ = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = self.inflight.pop(future)
                    self.busy.discard(batch.group or "")
                    self._on_answer(batch, future)
            elif timeout:
                self.engine.sleep(timeout)

    def _send_what_may_go(self, pool: ThreadPoolExecutor, now: float) -> float:
        """Submit batches while concurrency, holds and pacing allow; return when to look again."""
        while len(self.inflight) < self.controller.concurrency and now >= self.hold_until:
            if self.by_user:
                group = self._next_group(now)
                waiting = 0 if group is None else self._group_count(group, now)
            else:
                group, waiting = None, self._ready_count(now)
            if not waiting:
                break
            size = min(self.controller.batch_size, waiting)
            delay = self.controller.delay(size, now)
            if delay > 0:
                return now + delay
            try:
                token = self.transport.token()
            except ProviderError as error:
                self._stop(error)
                return math.inf
            indexes = self._take_group(group, size, now) if group is not None else self._take(size, now)
            batch_items = [(index, self.requests[index]) for index in indexes]
            for index, request in batch_items:
                self.in_progress.setdefault(index, (request.key, request.describe(self.engine.operation)))
            payload = build_batch_payload(batch_items)
            batch = _Batch(
                [(index, request.user_id) for index, request in batch_items], now, self.token_generation, group
            )
            if group is not None:
                self.busy.add(group)
            self.controller.on_sent(len(batch.items), now)
            self.stats.batches += 1
            self.inflight[pool.submit(self.transport.send_batch, payload, token)] = batch
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, len(self.inflight))
        return math.inf

    def _ready_count(self, now: float) -> int:
        ready = 0
        for ready_at, _, _ in self.ready:
            if ready_at <= now:
                ready += 1
                if ready >= MAX_BATCH_ITEMS:
                    break
        return ready + self.fresh_left

    def _next_retry_at(self) -> float:
        """When the next retry may go (``one_batch_per_user``: of a group with no batch in flight;
        the others are looked at again when their batch answers)."""
        if not self.by_user:
            return self.ready[0][0]
        return min((at for at, _, index in self.ready if self.group_of[index] not in self.busy), default=math.inf)

    def _next_group(self, now: float) -> str | None:
        """The group whose batch goes next: the one with the earliest due retry, else the next
        group in turn with fresh items; only groups without a batch in flight."""
        due = [(at, sequence, index) for at, sequence, index in self.ready if at <= now]
        for _, _, index in sorted(due):
            if self.group_of[index] not in self.busy:
                return self.group_of[index]
        for group, queue in self.fresh_by_group.items():
            if queue and group not in self.busy:
                return group
        return None

    def _group_count(self, group: str, now: float) -> int:
        due = sum(1 for at, _, index in self.ready if at <= now and self.group_of[index] == group)
        return due + len(self.fresh_by_group.get(group, ()))

    def _take_group(self, group: str, size: int, now: float) -> list[int]:
        """Up to ``size`` items of ``group``: its due retries first, then its fresh items in order."""
        due = sorted(entry for entry in self.ready if entry[0] <= now and self.group_of[entry[2]] == group)
        taken = [index for _, _, index in due[:size]]
        if taken:
            chosen = set(taken)
            self.ready = [entry for entry in self.ready if entry[2] not in chosen]
            heapq.heapify(self.ready)
        queue = self.fresh_by_group.pop(group, deque())
        while len(taken) < size and queue:
            taken.append(queue.popleft())
            self.fresh_left -= 1
        if queue:
            self.fresh_by_group[group] = queue  # to the end: the other groups go first
        return taken

    def _take(self, size: int, now: float) -> list[int]:
        """Up to ``size`` items: retries that are due first, then fresh items in order."""
        taken: list[int] = []
        while len(taken) < size and self.ready and self.ready[0][0] <= now:
            taken.append(heapq.heappop(self.ready)[2])
        while len(taken) < size and self.fresh_left:
            index = self.cursor
            self.cursor += 1
            if self.results[index] is None:
                taken.append(index)
                self.fresh_left -= 1
        return taken

    # -- answers, by situation -------------------------------------------------------------

    def _on_answer(self, batch: _Batch, future: Future[HttpAnswer]) -> None:
        try:
            answer = future.result()
        except ProviderError as error:
            if is_permanent(error):  # e.g. an untrusted certificate: no batch can get through
                self._stop(error)
                self._fail_items(batch, error)
            else:  # no answer: the connection dropped or timed out
                self._on_no_answer(batch, error)
            return
        except Exception as error:  # an error nobody mapped: stop, but every item still gets a result
            self._stop(error)
            self._fail_items(batch, error)
            return
        payload = answer.json()
        if batch_responses(payload) is not None:
            self._on_items(batch, answer, payload)
        else:
            self._on_envelope_error(batch, answer)

    def _on_no_answer(self, batch: _Batch, error: ProviderError) -> None:
        streak, rand = self._batch_failed(batch)
        for index, user_id in batch.items:
            self._retry_or_fail(index, user_id, error, batch_streak=streak, rand=rand, now=self.failure_seen_at)
        self._hold(
            self.controller.on_batch_done(self.clock(), sent_at=batch.sent_at, accepted=0, throttled=0, failed=True)
        )

    def _on_envelope_error(self, batch: _Batch, answer: HttpAnswer) -> None:
        """An envelope without per-item answers: its status applies to every item in it."""
        if answer.ok:  # 200 without "responses": not Graph's batch answer; send again
            error: GraphAPIError = GraphAPIError(0, "InvalidBatchResponse", "the $batch answer had no responses")
        else:
            error = graph_error_from_response(
                answer.status, answer.headers, answer.content, retry_after=answer.retry_after
            )
        needs_refresh = False
        failed = answer.status != THROTTLED_STATUS and not is_permanent(error)
        streak, rand = self._batch_failed(batch) if failed else (0, random.random)
        for index, user_id in batch.items:
            if needs_fresh_token(answer.status):
                needs_refresh |= self._unauthorized(index, user_id, error, batch.token_generation)
            elif is_permanent(error):
                self._fail(index, user_id, error)
            else:
                self._retry_or_fail(
                    index, user_id, error, batch_streak=streak, rand=rand, now=self.failure_seen_at if streak else None
                )
        if needs_refresh:
            self._refresh_token()
        throttled = len(batch.items) if answer.status == THROTTLED_STATUS else 0
        self.stats.throttled += throttled
        # a whole-batch 429: nothing may go for graph/retry.py's whole_batch_hold (the controller's answer)
        hold = self.controller.on_batch_done(
            self.clock(),
            sent_at=batch.sent_at,
            accepted=0,
            throttled=throttled,
            retry_after=answer.retry_after,
            failed=not is_permanent(error),
            whole_batch=True,
        )
        self._hold(hold)

    def _on_items(self, batch: _Batch, answer: HttpAnswer, payload: Any) -> None:
        """An envelope with per-item answers (200, or 424 when items were throttled)."""
        accepted = throttled = 0
        longest_retry_after: float | None = None
        needs_refresh = False
        self.failed_streak = 0
        outcomes = classify_batch_response(batch.items, payload, keep=self.engine.keep_fields)
        for (index, user_id), outcome in zip(batch.items, outcomes, strict=True):
            if outcome.status == THROTTLED_STATUS:
                throttled += 1
                if outcome.retry_after is not None:
                    longest_retry_after = max(longest_retry_after or 0.0, outcome.retry_after)
            elif outcome.status:
                accepted += 1
            if outcome.kind is ItemKind.OK:
                self._complete(
                    BatchItemResult(
                        index,
                        self._key(index),
                        user_id,
                        body=outcome.body,
                        attempts=self._attempts(index),
                        http_status=outcome.status,
                    )
                )
            elif outcome.kind is ItemKind.UNAUTHORIZED:
                needs_refresh |= self._unauthorized(index, user_id, outcome.error, batch.token_generation)
            elif outcome.kind is ItemKind.RETRY:
                self._retry_or_fail(index, user_id, outcome.error)
            else:
                self._fail(index, user_id, outcome.error)
        if needs_refresh:
            self._refresh_token()
        self.stats.throttled += throttled
        self._hold(
            self.controller.on_batch_done(
                self.clock(),
                sent_at=batch.sent_at,
                accepted=accepted,
                throttled=throttled,
                retry_after=longest_retry_after,
            )
        )

    def _batch_failed(self, batch: _Batch) -> tuple[int, Callable[[], float]]:
        """Count a ``$batch`` request that failed as a whole; return the failures in a row
        and the jitter of its items' backoff.

        Batches that were in flight together fail together in an outage: one sent before the
        last failure was seen adds nothing, so the backoff grows by round, not by batch. The
        items of the batch share one jitter and one start (:attr:`failure_seen_at`): they come due together and go again as one
        batch, instead of one small batch each.
        """
        if batch.sent_at > self.failure_seen_at or not self.failed_streak:
            self.failed_streak += 1
        self.failure_seen_at = self.clock()
        jitter = random.random()
        return self.failed_streak, lambda: jitter

    # -- items ------------------------------------------------------------------------------

    def _retry_or_fail(
        self,
        index: int,
        user_id: str | None,
        error: BaseException | None,
        *,
        batch_streak: int = 0,
        rand: Callable[[], float] = random.random,
        now: float | None = None,
    ) -> None:
        """Requeue the item after its wait, or fail it when its budget says no.

        :param batch_streak: ``error`` was its whole ``$batch`` request's, the n-th such in a
            row (0: the item's own answer): it spends the waiting budget only (graph/retry.py)
        :param rand: the jitter source of the backoff
        :param now: the time the wait starts from (the items of a failed batch share it)
        """
        assert error is not None
        if self.stopped is not None:
            self._fail(index, user_id, self.stopped)
            return
        budget = self.budgets.setdefault(index, RetryBudget(self.engine.retry_policy))
        wait_s = budget.next_wait(error, batch_streak=batch_streak, rand=rand)
        what = self._what(index)
        if wait_s is None:
            final = budget.give_up(what, error)
            self._fail(index, user_id, final)
            if budget.asked_wait is not None and budget.asked_wait > self.engine.retry_policy.longest_wait():
                # Graph asks for a pause no item may wait: everything else would only be
                # throttled again, and throttled requests count too. Stop; a task retry
                # (or a deferred task) sends what is missing later.
                self._stop(final)
            return
        budget.spend(error, wait_s, whole_batch=batch_streak > 0)
        self.stats.retries += 1
        self.log.info(*budget.log_args(what, error, wait_s, whole_batch=batch_streak > 0))
        self._requeue(index, (self.clock() if now is None else now) + wait_s)

    def _unauthorized(self, index: int, user_id: str | None, error: BaseException | None, generation: int) -> bool:
        """Retry with a fresh token (once: graph/retry.py); return whether a refresh is needed now."""
        if not needs_fresh_token(UNAUTHORIZED_STATUS, self.refreshed.get(index, 0)) or self.stopped is not None:
            self._fail(index, user_id, self.stopped or error)
            return False
        self.refreshed[index] = self.refreshed.get(index, 0) + 1
        self.log.info("%s: %s, retry with a fresh token", self._what(index), describe_error(error))
        self._requeue(index, self.clock())
        return generation == self.token_generation

    def _refresh_token(self) -> None:
        self.token_generation += 1
        self.stats.token_refreshes += 1
        self.log.info("$batch: 401 for an item, getting a fresh token")
        self.transport.invalidate_token()

    def _requeue(self, index: int, at: float) -> None:
        self.sequence += 1
        heapq.heappush(self.ready, (at, self.sequence, index))

    def _complete(self, result: BatchItemResult) -> None:
        self.results[result.index] = result
        self.budgets.pop(result.index, None)
        self.in_progress.pop(result.index, None)
        self.stats.done += 1
        if result.ok:
            self.stats.succeeded += 1
        else:
            self.stats.failed += 1

    def _fail(self, index: int, user_id: str | None, error: BaseException | None) -> None:
        self._complete(BatchItemResult(index, self._key(index), user_id, error=error, attempts=self._attempts(index)))

    def _fail_items(self, batch: _Batch, error: BaseException) -> None:
        for index, user_id in batch.items:
            self._fail(index, user_id, error)

    def _hold(self, seconds: float) -> None:
        if seconds:
            now = self.clock()
            self.hold_until = max(self.hold_until, now + seconds)
            self.controller.hold(seconds, now)  # a shared budget holds every process

    # -- stopping ---------------------------------------------------------------------------

    def _stop(self, error: BaseException) -> None:
        """Send nothing more; unfinished items fail with ``error`` (the first reason wins)."""
        if self.stopped is None:
            self.stopped = error
            self.log.warning(
                "bulk %s stops sending: %s; %d item(s) not done will fail with this error",
                self.engine.operation,
                error,
                self.stats.total - self.stats.done,
            )

    def _fail_unfinished(self, error: BaseException) -> None:
        """Every item without a result (queued for a retry, or never sent) fails with ``error``."""
        waiting = {index for _, _, index in self.ready}  # their next attempt, counted, was never sent
        for index, result in enumerate(self.results):
            if result is None:
                request = self.requests[index]
                sent = index < self.cursor or index in self.in_progress  # else: never sent
                attempts = max(0, self._attempts(index) - (index in waiting)) if sent else 0
                self._complete(BatchItemResult(index, request.key, request.user_id, error=error, attempts=attempts))
        self.ready.clear()
        self.fresh_left = 0
        self.fresh_by_group.clear()

    # -- naming and progress ------------------------------------------------------------------

    def _attempts(self, index: int) -> int:
        budget = self.budgets.get(index)
        return (budget.attempts if budget else 1) + self.refreshed.get(index, 0)

    def _key(self, index: int) -> str | None:
        known = self.in_progress.get(index)
        return known[0] if known else self.requests[index].key

    def _what(self, index: int) -> str:
        known = self.in_progress.get(index)
        return known[1] if known else self.requests[index].describe(self.engine.operation)

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
            batches=s.batches,
            peak_in_flight=s.peak_in_flight,
            max_concurrency=self.engine.max_concurrency,
            operation=self.engine.operation,
        )
