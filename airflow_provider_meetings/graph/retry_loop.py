"""The retry loop: applies :mod:`~airflow_provider_meetings.graph.retry`'s policy to one call.

Every path that retries (token requests, single Graph calls, ``$batch`` items) keeps a
:class:`RetryBudget`, and the two blocking paths use :func:`run_with_retries` around it:

* **throttling is flow control, not failure**: a 429 is retried as long as the waiting
  budget (``max_retry_wait``) lasts; it does not use up the attempt count;
* **failures** (408, 424, 500, 502, 503, 504, dropped connections, timeouts) are retried at
  most ``max_retries`` times, also within the waiting budget;
* **a failed** ``$batch`` **request** (the whole envelope) is retried for its items within the
  waiting budget only, as a 429 is (``RetryKind.BATCH_FAILED``, see ``graph/retry.py``);
* **no wait exceeds what is left of the budget**: when the server asks for more, the call
  gives up at once (:class:`~airflow_provider_meetings.graph.errors.RetriesExhaustedError`
  with ``asked_wait``) instead of sleeping first and failing after; a wait the budget allows
  but ``max_single_wait`` (a deferrable task's ``defer_after``) does not, ``Retry-After`` or
  backoff alike, ends the call the same way, so that the task defers for it;
* anything else is permanent and raised at once.

Pure: the caller passes ``sleep`` and the logger; nothing here does I/O.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_provider_meetings.graph.errors import (
    ProviderError,
    RetriesExhaustedError,
    describe_error,
    is_permanent,
)
from airflow_provider_meetings.graph.retry import THROTTLED_STATUS, RetryPolicy

T = TypeVar("T")


class RetryKind(enum.Enum):
    """Why an error may be retried."""

    #: 429: counts against the waiting budget only.
    THROTTLED = "throttled"
    #: outages, server errors, dropped connections: count against the attempts too.
    TRANSIENT = "transient"
    #: a ``$batch`` request that failed as a whole, for each of its items: counts against
    #: the waiting budget only (it says nothing about the item).
    BATCH_FAILED = "batch failed"


def retry_kind(error: BaseException, *, whole_batch: bool = False) -> RetryKind | None:
    """How ``error`` may be retried, or ``None`` when it is permanent (never retried).

    :param whole_batch: ``error`` is what a whole ``$batch`` request ran into, for one of its items
    """
    if not isinstance(error, ProviderError) or is_permanent(error):
        return None
    if getattr(error, "status", None) == THROTTLED_STATUS:
        return RetryKind.THROTTLED
    return RetryKind.BATCH_FAILED if whole_batch else RetryKind.TRANSIENT


@dataclass
class RetryBudget:
    """The retry state of one call (or one bulk item) under a :class:`RetryPolicy`.

    :param policy: the bounds
    :param retries: failures retried so far (bounded by ``max_retries``)
    :param throttles: 429s retried so far (bounded by the waiting budget only)
    :param batch_failures: failed ``$batch`` requests retried so far (bounded by the waiting budget only)
    :param waited: seconds waited so far
    """

    policy: RetryPolicy
    retries: int = 0
    throttles: int = 0
    batch_failures: int = 0
    waited: float = 0.0
    #: the wait needed that this call may not wait (see :meth:`next_wait`), else ``None``
    asked_wait: float | None = field(default=None, repr=False)
    #: whether :attr:`asked_wait` is the server's ``Retry-After`` (else the backoff)
    asked_by_server: bool = field(default=False, repr=False)

    @property
    def attempts(self) -> int:
        """Requests made so far, the first included (after :meth:`spend` of each retry)."""
        return 1 + self.retries + self.throttles + self.batch_failures

    @property
    def wait_left(self) -> float:
        """Seconds of waiting the budget still allows."""
        return max(0.0, self.policy.max_total_wait - self.waited)

    @property
    def longest_wait(self) -> float:
        """The longest next wait allowed (the budget left, capped by ``max_single_wait``)."""
        return self.policy.longest_wait(self.waited)

    def next_wait(
        self,
        error: BaseException,
        *,
        floor: float = 0.0,
        rand: Callable[[], float] = random.random,
        batch_streak: int = 0,
    ) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None`` to give up now.

        Giving up because the wait is longer than this call may wait sets :attr:`asked_wait`
        when a caller able to wait longer could go on after it: the server's ``Retry-After``
        beyond what is left, or any wait the budget allows but ``max_single_wait`` does not.

        :param error: what the last attempt ran into; its ``retry_after`` is honoured
        :param floor: the least useful wait (e.g. while MSAL would replay the same answer)
        :param batch_streak: for an item of a ``$batch`` request that failed as a whole: the
            failed ``$batch`` requests in a row of the call, this one included (the backoff
            grows with it); ``0``: ``error`` is the item's own (or a single call's)
        """
        self.asked_wait = None
        self.asked_by_server = False
        kind = retry_kind(error, whole_batch=batch_streak > 0)
        if kind is None:
            return None
        if kind is RetryKind.TRANSIENT and self.retries >= self.policy.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        number = {
            RetryKind.THROTTLED: self.throttles + 1,
            RetryKind.TRANSIENT: self.retries + 1,
            RetryKind.BATCH_FAILED: batch_streak,
        }[kind]
        wait = max(self.policy.delay(number, retry_after, rand=rand), floor)
        if kind is not RetryKind.TRANSIENT:
            # Bounded by the waiting budget only: it must be spent (graph/retry.py, least_wait).
            wait = max(wait, self.policy.least_wait)
        if wait > self.longest_wait:
            if retry_after is not None and retry_after > self.longest_wait:
                self.asked_wait = max(retry_after, floor)
                self.asked_by_server = True
            elif wait <= self.wait_left:  # only max_single_wait stands in the way: defer for it
                self.asked_wait = wait
            return None
        return wait

    def spend(self, error: BaseException, wait: float, *, whole_batch: bool = False) -> None:
        """Account for a retry after ``error`` that waits ``wait`` seconds.

        :param whole_batch: ``error`` was the whole ``$batch`` request's (as for :meth:`next_wait`)
        """
        kind = retry_kind(error, whole_batch=whole_batch)
        if kind is RetryKind.THROTTLED:
            self.throttles += 1
        elif kind is RetryKind.BATCH_FAILED:
            self.batch_failures += 1
        else:
            self.retries += 1
        self.waited += wait

    def give_up(self, what: str, error: BaseException) -> BaseException:
        """The error to raise when :meth:`next_wait` said no: permanent errors as they are."""
        if retry_kind(error) is None:
            return error
        return RetriesExhaustedError(
            what,
            self.attempts,
            self.waited,
            error,
            asked_wait=self.asked_wait,
            asked_by_server=self.asked_by_server,
        )

    def log_args(self, what: str, error: BaseException, wait: float, *, whole_batch: bool = False) -> tuple[Any, ...]:
        """``(format, *args)`` of the one retry log line, after :meth:`spend`.

        e.g. ``createOrGet external_id=x: 503 ServiceNotAvailable, retry 2/6 in 1.4s``,
        ``createOrGet external_id=x: 429 TooManyRequests, throttled, retry in 2.1s (Retry-After), 17.9s of 20s waiting left``
        or ``createOrGet meetings[3] external_id=x: 504 GatewayTimeout, $batch request failed, retry in 1.4s, 298.6s of 300s waiting left``
        """
        hinted = " (Retry-After)" if getattr(error, "retry_after", None) is not None else ""
        kind = retry_kind(error, whole_batch=whole_batch)
        if kind is not RetryKind.TRANSIENT:
            return (
                "%s: %s, %s, retry in %.1fs%s, %.1fs of %gs waiting left",
                what,
                describe_error(error),
                "throttled" if kind is RetryKind.THROTTLED else "$batch request failed",
                wait,
                hinted,
                self.wait_left,
                self.policy.max_total_wait,
            )
        return (
            "%s: %s, retry %d/%d in %.1fs%s",
            what,
            describe_error(error),
            self.retries,
            self.policy.max_retries,
            wait,
            hinted,
        )


def run_with_retries(
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    what: str,
    log: Any,
    sleep: Callable[[float], None],
    retry_on: tuple[type[BaseException], ...] = (ProviderError,),
    floor: Callable[[BaseException], float] | None = None,
) -> T:
    """Call ``attempt`` until it returns, retrying retryable errors within ``policy``.

    :param attempt: one try; raises a :class:`~airflow_provider_meetings.graph.errors.ProviderError`
    :param policy: the bounds
    :param what: the call, for the log line and the final error
    :param log: where each retry gets its INFO line
    :param sleep: how to wait
    :param retry_on: the errors this loop may retry; others pass through untouched (a token
        error inside a Graph call has had its own retries already)
    :param floor: the least useful wait after an error
    :raises RetriesExhaustedError: when a retryable error outlasts the budget
    """
    budget = RetryBudget(policy)
    while True:
        try:
            return attempt()
        except retry_on as error:
            wait = budget.next_wait(error, floor=floor(error) if floor else 0.0)
            if wait is None:
                final = budget.give_up(what, error)
                if final is error:
                    raise
                raise final from error
            budget.spend(error, wait)
            log.info(*budget.log_args(what, error, wait))
            sleep(wait)
