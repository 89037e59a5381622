"""Flow control of bulk calls: how many ``$batch`` requests in flight, how big, how fast.

Pure: the caller passes the time; nothing here sends or sleeps. Throttled requests still
count against Graph's limits (https://learn.microsoft.com/graph/throttling: "all requests
accrue against your usage limits"), so what gets a bulk call through is sending at the
rate Graph accepts, not retrying harder.
"""

from __future__ import annotations

import collections
import math
from typing import Any

from airflow_provider_meetings.graph.batch import MAX_BATCH_ITEMS
from airflow_provider_meetings.graph.retry import THROTTLED_STATUS, PacingPolicy, whole_batch_hold

#: The pacing numbers used unless a caller gives others.
DEFAULT_PACING = PacingPolicy()


class FlowController:
    """How many batches may be in flight, how big they are, and how fast items may go.

    * Concurrency is AIMD: halved on throttling or on a failed batch, raised by one after
      a round (``concurrency`` batches) without throttling, between 1 and the maximum.
    * Pacing starts when a per-item 429 shows that a limit exists. The limit is estimated
      as the most items the service accepted in any *rate window* (``Retry-After`` seconds,
      at least ``min_rate_window``, at most ``max_rate_window``: 1-10 s) during the last
      two rate windows (or since sending began, if that is shorter): the *peak*, because the
      window just before a 429 may be one where answers were lost to failures or to
      throttling itself. Items are then
      paced at ``margin`` times that *ceiling*, in batches of about ``slice_seconds`` worth
      of items: a batch sent late lets the next go at once, so one batch is the most a
      window can overshoot by, and it must fit within the margin.
    * Without 429s the rate climbs by ``probe`` per second up to ``margin`` times the
      ceiling, then by ``cruise_probe`` per second only: Graph counts throttled requests
      against the limit too (https://learn.microsoft.com/graph/throttling), so going over
      it costs a full window in which everything is refused, and the limit found is the
      best guess of where it still is. Another 429 learns the ceiling again.
    * Every decrease holds all sending for one rate window, because the service's window is
      full then, throttled requests included, and everything sent would be throttled too.
      At most one decrease per rate window: answers to batches sent before the hold ended
      say nothing about the new rate.
    * A whole-batch 429 holds for :func:`~airflow_provider_meetings.graph.retry.whole_batch_hold`
      (its ``Retry-After``, up to minutes): the one rule of that hold, which the engine
      applies and a shared budget shares as it is.

    Pure: the caller passes the time. Not thread-safe (the engine uses it from one thread).

    :param max_concurrency: the ceiling of batches in flight
    :param max_batch_items: the largest batch (Graph allows 20)
    :param policy: the numbers (margin, probes, rate windows): :class:`~airflow_provider_meetings.graph.retry.PacingPolicy`
    """

    #: The attributes that make up the pace (rather than this process's concurrency): what
    #: :mod:`~airflow_provider_meetings.graph.budget` shares between processes. Instants in
    #: them are on the clock of whoever passes ``now``.
    RATE_FIELDS = (
        "rate",
        "ceiling",
        "window",
        "decreases",
        "_tokens",
        "_tokens_at",
        "_accepted",
        "_last_decrease",
        "_settle_at",
        "_rate_before",
        "_last_probe",
        "_started",
    )

    def __init__(
        self,
        max_concurrency: int,
        *,
        max_batch_items: int = MAX_BATCH_ITEMS,
        policy: PacingPolicy = DEFAULT_PACING,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.max_batch_items = max_batch_items
        self.policy = policy
        self.margin = policy.margin
        self.probe = policy.probe
        self.cruise_probe = policy.cruise_probe
        self.slice_seconds = policy.slice_seconds
        self.min_rate = policy.min_rate
        self.concurrency = max_concurrency
        self.rate: float | None = None
        #: the last estimate of the service's limit (items per second)
        self.ceiling: float | None = None
        #: the rate window last learnt (seconds)
        self.window = 1.0
        self.rtt: float | None = None
        self.decreases = 0
        self._tokens = 0.0
        self._tokens_at = 0.0
        self._accepted: collections.deque[tuple[float, int]] = collections.deque()
        self._last_decrease = -math.inf
        #: when to learn the ceiling again: once the answers to what was in flight at a 429 are in
        self._settle_at: float | None = None
        self._rate_before = math.inf
        self._last_probe = 0.0
        self._clean_batches = 0
        self._started: float | None = None

    def rate_state(self) -> dict[str, Any]:
        """The pace as plain JSON-able values (:data:`RATE_FIELDS`), for a shared budget."""
        state = {name.lstrip("_"): getattr(self, name) for name in self.RATE_FIELDS}
        state["accepted"] = [[t, n] for t, n in self._accepted]
        return state

    def load_rate_state(self, state: dict[str, Any]) -> None:
        """Take over a pace saved by :meth:`rate_state` (by this or another process)."""
        for name in self.RATE_FIELDS:
            key = name.lstrip("_")
            if key in state:
                setattr(self, name, state[key])
        self._accepted = collections.deque((float(t), int(n)) for t, n in state.get("accepted", ()))

    def hold(self, seconds: float, now: float) -> None:
        """A hold of ``seconds`` from ``now`` that the caller applies (nothing to do here: the
        engine keeps its own; a shared budget tells the other processes)."""

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

    def _settle(self, now: float) -> None:
        """After a decrease's hold, estimate the ceiling again from every answer that came in.

        At the 429 itself only the answers that arrived first are known; the batches still in
        flight were accepted in the same window, and leaving them out would under-estimate.
        """
        if self._settle_at is None or now < self._settle_at:
            return
        self._settle_at = None
        estimate = self.peak_accepted_rate(now, self.window)
        if estimate > 0:
            self.ceiling = estimate
            self.rate = max(self.rate or 0.0, min(self._rate_before, estimate) * self.margin, self.min_rate)

    def delay(self, items: int, now: float) -> float:
        """Seconds until ``items`` items may be sent (0: now)."""
        self._settle(now)
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
        """Items per second accepted (answered other than 429) in the ``window`` s up to ``now``.

        Always per full window, even before a window of sending has passed: the service
        counts in its window, so a 429 after a burst shorter than the window means about
        one window's worth was accepted, not that much per fraction of a second.
        """
        return sum(n for t, n in self._accepted if now - window < t <= now) / window

    def peak_accepted_rate(self, now: float, window: float, lookback: int | None = None) -> float:
        """The highest :meth:`accepted_rate` of a window ending in the last ``lookback`` windows."""
        lookback = self.policy.lookback if lookback is None else lookback
        ends = [t for t, _ in self._accepted if t > now - lookback * window]
        return max([self.accepted_rate(end, window) for end in ends] + [self.accepted_rate(now, window)])

    def on_batch_done(
        self,
        now: float,
        *,
        sent_at: float,
        accepted: int,
        throttled: int,
        retry_after: float | None = None,
        failed: bool = False,
        whole_batch: bool = False,
    ) -> float:
        """Learn from one batch's answer.

        :param now: when the answer arrived
        :param sent_at: when the batch was sent
        :param accepted: items the service did not throttle
        :param throttled: items answered 429 (all of them for a whole-batch 429)
        :param retry_after: the largest ``Retry-After`` among them
        :param failed: the batch as a whole failed (transport error or 5xx)
        :param whole_batch: the 429 was the envelope's, without per-item answers: it says
            "wait", not how fast items may go, so it holds sending (``whole_batch_hold``) and
            lowers concurrency but leaves the paced rate alone (rates are learnt from per-item
            answers); a failed envelope with ``retry_after`` (a 503) holds sending that long
        :return: seconds to hold all sending (0: none)
        """
        self._settle(now)
        rtt = max(0.0, now - sent_at)
        self.rtt = rtt if self.rtt is None else 0.8 * self.rtt + 0.2 * rtt
        if accepted:
            # At the time sent: the service admitted them then; answers arrive bunched.
            self._accepted.append((sent_at, accepted))
        while self._accepted and self._accepted[0][0] <= now - self.policy.max_rate_window:
            self._accepted.popleft()
        if failed and not throttled:
            if sent_at > self._last_decrease:
                self.concurrency = max(1, self.concurrency // 2)
                self._last_decrease = now
            self._clean_batches = 0
            return whole_batch_hold(None, retry_after) if whole_batch else 0.0
        if throttled and whole_batch:
            self._clean_batches = 0
            self.concurrency = max(self._concurrency_floor(), self.concurrency // 2)
            self._tokens, self._tokens_at = 0.0, now
            return whole_batch_hold(THROTTLED_STATUS, retry_after, shortest=self.policy.min_rate_window)
        if throttled:
            self._clean_batches = 0
            if sent_at <= self._last_decrease:
                return 0.0
            self.window = self.policy.rate_window(retry_after)
            estimate = self.peak_accepted_rate(now, self.window)
            self._rate_before = self.rate or math.inf  # a 429 never raises the rate
            if estimate > 0:
                self.ceiling = estimate
                self.rate = max(self.min_rate, min(self.rate or math.inf, estimate) * self.margin)
            elif self.rate is not None:  # nothing accepted lately: no rate to learn, slow down
                self.rate = max(self.min_rate, self.rate * 0.5)
            self._tokens, self._tokens_at = 0.0, now
            self.concurrency = max(self._concurrency_floor(), self.concurrency // 2)
            # Items admitted before now stay in the service's window for another window's
            # length: 429s to batches sent until then say nothing about the new rate.
            self._last_decrease = now + self.window
            self._last_probe = self._last_decrease
            self.decreases += 1
            self._settle_at = now + self.window
            return self.window
        self._clean_batches += 1
        if self._clean_batches >= self.concurrency and self.concurrency < self.max_concurrency:
            self.concurrency += 1
            self._clean_batches = 0
        if self.rate is not None and now - self._last_probe >= 1.0:
            cruising = self.ceiling is not None and self.rate >= self.ceiling * self.margin
            growth = self.cruise_probe if cruising else self.probe
            self.rate *= (1.0 + growth) ** (now - self._last_probe)
            if not cruising and self.ceiling is not None:
                self.rate = min(self.rate, self.ceiling * self.margin)
            self._last_probe = now
            if self.rtt and self.rate * self.rtt > self.max_concurrency * self.max_batch_items:
                self.rate = None  # faster than the concurrency could carry: pacing is moot
        self.concurrency = max(self.concurrency, self._concurrency_floor())
        return 0.0
