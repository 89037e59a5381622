"""The retry policy of every Graph call: read this first to change a retry rule.

Every rule about repeating a request lives here as data and small pure functions; the code
that applies them (:mod:`~airflow_provider_meetings.graph.retry_loop` for the waiting budget,
:mod:`~airflow_provider_meetings.graph.client` for single calls,
:mod:`~airflow_provider_meetings.graph.batch_engine` for ``$batch`` items,
:mod:`~airflow_provider_meetings.graph.pacing` for the pace of bulk calls) reads them from here:

* **which statuses are worth another attempt**: :data:`TRANSIENT_STATUSES`; a 429
  (:data:`THROTTLED_STATUS`) is throttling, retried while the waiting budget lasts without
  using up the attempt count (https://learn.microsoft.com/graph/throttling: wait for
  ``Retry-After`` and retry); the others are failures, retried at most ``max_retries`` times;
* **whole-batch failures**: a ``$batch`` request that failed as a whole (the envelope answered
  5xx/408/424 without per-item answers, the connection dropped, the answer timed out) says
  nothing about its items: each of them is retried within the waiting budget only, as a 429
  is, never by ``max_retries`` (an attempt count meant for one call: in a long storm of
  failed envelopes it gave up on items that had not been answered once); the backoff grows
  with the failed envelopes in a row of the call (:meth:`RetryPolicy.delay` of that streak)
  and every wait is at least :attr:`RetryPolicy.least_wait`, so the budget is spent and the
  loop ends;
* **the 401 rule**: :func:`needs_fresh_token`: an access token Graph refuses is replaced once
  per request (a single call, a ``$batch`` item) and the request sent again; a second 401 is final;
* **how long to wait**: :class:`RetryPolicy` (``Retry-After`` as given, else exponential
  backoff with jitter, all within ``max_retry_wait``; ``max_single_wait`` for deferrable tasks);
* **whole-batch holds**: :func:`whole_batch_hold`: a ``$batch`` envelope answered 429 without
  per-item answers stops all sending for its ``Retry-After``, at most :data:`LONGEST_HOLD`
  (the one rule: the flow controller returns it, the engine applies it, and a shared rate
  budget shares it and keeps no hold longer);
* **the pace of bulk calls**: :class:`PacingPolicy`, the numbers of the flow controller,
  among them the bounds of the *rate window* (how long Graph is assumed to count requests
  in, to estimate its limit): not a bound on holds.

Pure data and arithmetic: nothing here imports another module of the provider, does I/O or sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

# -- which answers are retried -------------------------------------------------------------

#: Statuses worth another attempt, for single calls and ``$batch`` items alike (the requests
#: sent are idempotent, e.g. onlineMeetings createOrGet by externalId, so repeating one that
#: may have been processed is safe):
#: 408 (request timeout), 424 (a ``$batch`` item or envelope that failed because others were
#: throttled, https://learn.microsoft.com/graph/throttling#throttling-and-batching), 429
#: (throttled), 500 (a server error is not a verdict on the request), 502/503/504.
TRANSIENT_STATUSES = frozenset({408, 424, 429, 500, 502, 503, 504})
#: The status of throttling: it counts against the waiting budget, not the attempt count.
THROTTLED_STATUS = 429
#: The status of an access token Graph does not accept (expired or revoked since it was issued).
UNAUTHORIZED_STATUS = 401
#: Fresh tokens per request after a 401: one; a second 401 in a row is final.
TOKEN_REFRESHES_PER_REQUEST = 1


def is_transient_status(status: int) -> bool:
    """Whether an answer with ``status`` is worth another attempt (``0``: no answer at all)."""
    return status == 0 or status in TRANSIENT_STATUSES


def needs_fresh_token(status: int | None, refreshes: int = 0) -> bool:
    """The one 401 rule: whether to get a fresh token and send the request again.

    Graph answers 401 (``InvalidAuthenticationToken``) to an access token that expired or
    was revoked after it was issued; a new token fixes that, a second 401 means it does not.

    :param status: the status of the answer (of the call, or of a ``$batch`` item or envelope)
    :param refreshes: fresh tokens this request had already
    """
    return status == UNAUTHORIZED_STATUS and refreshes < TOKEN_REFRESHES_PER_REQUEST


# -- how long to wait ------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value.

    Both legal forms are understood: delay-seconds (``"7"``) and an HTTP-date
    (``"Wed, 21 Oct 2026 07:28:00 GMT"``). A date in the past means "now" (0).

    :param value: the header value, or ``None`` when the header was absent
    :param now: the current time (UTC), for tests
    :return: seconds, or ``None`` when absent or unreadable (then back off exponentially)
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often transient failures are retried (see :class:`RetryBudget`).

    :param max_retries: failures (5xx, 408, dropped connections, timeouts) retried at most,
        per call (per bulk item); 429s and failures of a whole ``$batch`` request do not count
        (0 disables retrying failures)
    :param max_total_wait: seconds of waiting, summed over all retries of one call; no
        single wait exceeds what is left of it (the connection extra ``max_retry_wait``)
    :param backoff_base: first exponential delay in seconds (when no ``Retry-After``)
    :param backoff_max: largest single exponential delay in seconds
    :param max_single_wait: the longest one wait may be (``None``: any that fits the
        budget); a deferrable task sets it, so that any longer wait (a ``Retry-After`` or a
        backoff) ends the call at once and the task defers instead of holding its worker slot
    """

    max_retries: int = 6
    max_total_wait: float = 300.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_single_wait: float | None = None

    def with_max_single_wait(self, seconds: float | None) -> RetryPolicy:
        """This policy with ``max_single_wait`` set (unchanged for ``None``).

        A deferrable task sets it to its ``defer_after``: any longer wait that the waiting
        budget allows (a ``Retry-After``, or the backoff after a failure) ends the call at once
        (``RetriesExhaustedError.asked_wait``) and the task defers instead of sleeping.
        """
        return self if seconds is None else replace(self, max_single_wait=seconds)

    @property
    def least_wait(self) -> float:
        """The shortest wait before a retry that does not use up attempts (a 429, a failed ``$batch``).

        Never again at once, even after ``Retry-After: 0``: throttled requests still count
        against the limit (https://learn.microsoft.com/graph/throttling), and such a retry is
        bounded only by the waiting budget, which must be spent for the loop to end.
        """
        return self.backoff_base / 2

    def longest_wait(self, waited: float = 0.0) -> float:
        """The longest wait allowed after ``waited`` seconds of waiting."""
        left = max(0.0, self.max_total_wait - waited)
        return left if self.max_single_wait is None else min(left, self.max_single_wait)

    def delay(
        self,
        retry_number: int,
        retry_after: float | None,
        *,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before retry number ``retry_number`` (1-based).

        ``Retry-After`` is honoured as given; otherwise the delay doubles from
        ``backoff_base`` up to ``backoff_max``, with "equal jitter" (half fixed, half
        random) so that many clients throttled together do not come back together.
        """
        if retry_after is not None:
            return retry_after
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (retry_number - 1)))
        return ceiling / 2 + rand() * ceiling / 2


# -- whole-batch holds -----------------------------------------------------------------------

#: The longest hold of all sending, in seconds, whatever a ``Retry-After`` says (five minutes,
#: the default waiting budget ``max_retry_wait``). Every hold is at most this long, the pacing's
#: (one rate window, :attr:`PacingPolicy.max_rate_window`) too, so a shared rate budget reads a
#: hold that ends later than this from now as garbage (a document written on a clock far ahead)
#: and only then shortens it.
LONGEST_HOLD = 300.0
#: The longest rate window assumed from a ``Retry-After``, in seconds (:class:`PacingPolicy`).
MAX_RATE_WINDOW = 10.0
#: The shortest rate window assumed, in seconds; also the shortest whole-batch hold.
MIN_RATE_WINDOW = 1.0


def whole_batch_hold(status: int | None, retry_after: float | None, *, shortest: float = MIN_RATE_WINDOW) -> float:
    """Seconds no ``$batch`` may be sent after an envelope answered ``status`` without per-item answers.

    A whole-batch 429 says the service's window is full: anything sent before its
    ``Retry-After`` would be throttled too (and throttled requests count against the limit,
    https://learn.microsoft.com/graph/throttling), so all sending holds that long: at least
    ``shortest`` (never again at once, even without ``Retry-After``), at most
    :data:`LONGEST_HOLD`, and not cut to what this process's items may wait (an item that may
    not wait that long gives up, as for any ``Retry-After``; the processes that share the rate
    budget still hold as long as Graph asked). Another failed envelope (``status`` any other,
    or ``None``: a 503 most often) holds for its ``Retry-After`` when it gives one: "You may
    repeat the request after a delay, the length of which may be specified in a Retry-After
    header" (https://learn.microsoft.com/graph/errors, 503), and every new batch sent before
    would meet the same outage; without one it holds nothing (the flow controller lowers
    concurrency, and each item backs off).

    :param shortest: the shortest hold of a 429 (:attr:`PacingPolicy.min_rate_window`)
    """
    if status == THROTTLED_STATUS:
        return min(LONGEST_HOLD, max(shortest, retry_after or 0.0))
    return min(LONGEST_HOLD, retry_after) if retry_after else 0.0


# -- the pace of bulk calls ------------------------------------------------------------------


@dataclass(frozen=True)
class PacingPolicy:
    """The numbers of :class:`~airflow_provider_meetings.graph.pacing.FlowController`.

    The *rate window* is the flow controller's estimate of the span Graph counts requests in
    (from a per-item 429's ``Retry-After``): the limit is estimated per rate window, and a
    decrease of the rate holds sending for one. How long a whole-batch 429 holds is
    :func:`whole_batch_hold`'s, not bounded by the rate window.

    :param margin: paced rate as a fraction of the estimated limit (the ceiling)
    :param probe: relative rate increase per second without throttling, below the ceiling
    :param cruise_probe: relative rate increase per second at the ceiling
    :param slice_seconds: target time span of one paced batch
    :param min_rate: the paced rate never drops below this (items per second)
    :param min_rate_window: the shortest rate window, when ``Retry-After`` is absent or small
        (also the shortest whole-batch hold)
    :param max_rate_window: the longest rate window assumed from ``Retry-After`` (at most
        :data:`LONGEST_HOLD`)
    :param lookback: rate windows looked back on to estimate the limit
    """

    margin: float = 0.95
    probe: float = 0.03
    cruise_probe: float = 0.001
    slice_seconds: float = 0.05
    min_rate: float = 1.0
    min_rate_window: float = MIN_RATE_WINDOW
    max_rate_window: float = MAX_RATE_WINDOW
    lookback: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.min_rate_window <= self.max_rate_window <= LONGEST_HOLD:
            raise ValueError("rate windows must satisfy 0 < min_rate_window <= max_rate_window <= LONGEST_HOLD")

    def rate_window(self, retry_after: float | None) -> float:
        """The service's rate window, from a 429's ``Retry-After``, within ``min_rate_window``..``max_rate_window``."""
        return min(self.max_rate_window, max(self.min_rate_window, retry_after or 0.0))
