"""Outlook's per-mailbox concurrency limit: at most N requests of one app on one mailbox at a time.

https://learn.microsoft.com/graph/throttling-limits, "Outlook service limits": "4 concurrent
requests" per app ID and mailbox combination, for "any requests to [...] calendar" (which
includes the items of a ``$batch``). Off (``None``) unless configured: the emulator's other
routes are not Outlook's, and tests turn it on to see clients pace themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from meetings_emulator.errors import GraphError
from meetings_emulator.faults import format_retry_after

#: The limit throttling-limits documents for Outlook.
OUTLOOK_CONCURRENCY = 4


class MailboxConcurrency(GraphError):
    """429 for a request over the mailbox's concurrency limit.

    As reported: code ``ApplicationThrottled``, with ``MailboxConcurrency`` only in the
    message (its wording is an assumption, docs/emulator.md). The body has Graph's general
    error shape (``innerError`` with ``date``, ``request-id``, ``client-request-id``), not the
    extra ``innerError`` fields of the throttling page's ``TooManyRequests`` sample, which
    reports of this answer do not show (an assumption). No ``Retry-After`` by default,
    although https://learn.microsoft.com/graph/throttling says "All the resources and APIs
    described in the Service-specific limits section provide a Retry-After header except
    when noted" and does not note Outlook: without it the client's own backoff is exercised;
    ``mailbox_retry_after`` sends one.

    :param retry_after: seconds for ``Retry-After``, or ``None`` for no header.
    """

    def __init__(self, retry_after: float | None) -> None:
        headers = {} if retry_after is None else {"Retry-After": format_retry_after(retry_after)}
        super().__init__(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
            headers,
        )


class MailboxSlots:
    """In-flight requests per (app, mailbox); thread-safe on its own lock.

    :param limit: requests at a time per app and mailbox, ``None`` for no limit.
    :param retry_after: ``Retry-After`` seconds of its 429 (``None``: no header).
    """

    def __init__(self, limit: int | None = None, retry_after: float | None = None) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str], int] = {}
        self.limit = limit
        self.retry_after = retry_after
        self.peak: dict[tuple[str, str], int] = {}

    def configure(self, limit: int | None, retry_after: float | None) -> None:
        """Change the limit (``None``: off) and the ``Retry-After`` of its 429."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError("mailbox concurrency must be a positive whole number or None")
        with self._lock:
            self.limit, self.retry_after = limit, retry_after

    def reset_peaks(self) -> None:
        """Forget the highest concurrency seen per mailbox."""
        with self._lock:
            self.peak.clear()

    @contextmanager
    def slot(self, app_id: str, mailbox: str) -> Iterator[None]:
        """Hold one of the mailbox's slots for the block; raises :class:`MailboxConcurrency` when none is free."""
        key = (app_id, mailbox.lower())
        with self._lock:
            busy = self._in_flight.get(key, 0)
            if self.limit is not None and busy >= self.limit:
                raise MailboxConcurrency(self.retry_after)
            self._in_flight[key] = busy + 1
            self.peak[key] = max(self.peak.get(key, 0), busy + 1)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[key] -= 1
                if not self._in_flight[key]:
                    del self._in_flight[key]

    def peaks(self) -> dict[str, int]:
        """Highest concurrency seen per mailbox (``user id`` -> requests), over all apps."""
        with self._lock:
            result: dict[str, int] = {}
            for (_, mailbox), peak in self.peak.items():
                result[mailbox] = max(result.get(mailbox, 0), peak)
            return result
