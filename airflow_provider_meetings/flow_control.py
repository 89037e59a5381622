"""Flow control of bulk calls: how many ``$batch`` requests in flight, how big, how fast.

Pure: the caller passes the time; nothing here sends or sleeps. Throttled requests still
count against Graph's limits (https://learn.microsoft.com/graph/throttling: "all requests
accrue against your usage limits"), so what gets a bulk call through is sending at the
rate Graph accepts, not retrying harder.
"""

from __future__ import annotations

import collections
import math

from airflow_provider_meetings.batching import MAX_BATCH_ITEMS


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
