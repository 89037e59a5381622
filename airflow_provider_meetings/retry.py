"""Retry timing: ``Retry-After`` parsing and exponential backoff within a bound.

Pure functions; the hook does the sleeping and the logging.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


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
    """How long and how often transient failures are retried.

    :param max_retries: retries after the first attempt (0 disables retrying)
    :param max_total_wait: seconds of waiting, summed over all retries of one call, after
        which the call gives up even if retries are left
    :param backoff_base: first exponential delay in seconds (when no ``Retry-After``)
    :param backoff_max: largest single exponential delay in seconds
    """

    max_retries: int = 6
    max_total_wait: float = 300.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0

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

    def next_wait(
        self,
        retries_done: int,
        waited: float,
        retry_after: float | None,
        *,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """The wait before the next retry, or ``None`` when the bound says give up.

        :param retries_done: retries already made for this call
        :param waited: seconds already waited for this call
        :param retry_after: the server's ``Retry-After`` in seconds, if it sent one
        """
        if retries_done >= self.max_retries:
            return None
        wait = self.delay(retries_done + 1, retry_after, rand=rand)
        if waited + wait > self.max_total_wait:
            return None
        return wait
