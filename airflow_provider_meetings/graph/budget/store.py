"""What a backend of the shared rate budget does: one atomic read-modify-write on its clock.

A backend keeps one small JSON document per budget key. :meth:`BudgetStore.transact` reads
it, hands it and the store's own time to ``update`` and saves what ``update`` returns, with
no other process changing it in between. The time comes from the store (Redis ``TIME``, the
database's clock, the machine's monotonic clock for a file), never from the caller: every
instant in the document is on that one clock, so workers whose clocks differ read it alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

#: A budget's document: JSON values only.
State = dict[str, Any]
#: ``update(state or None, store_now) -> new state``; may be called more than once (a
#: backend with optimistic locking repeats it when another process changed the document).
Update = Callable[[State | None, float], State]


class StoreUnavailable(Exception):
    """The store did not answer (down, slow, locked for too long, refused): pace locally."""


class BudgetStore(Protocol):
    """Where a rate budget lives (``file``, ``redis``, ``database``)."""

    #: the backend's name, as in the connection's ``rate_budget``
    kind: str

    def transact(self, key: str, update: Update) -> None:
        """Replace the document of ``key`` with ``update(document, now)``, atomically.

        :param key: the budget (tenant and app)
        :param update: computes the new document from the current one (``None``: none yet)
            and the store's time in seconds
        :raises StoreUnavailable: when the store cannot be used now
        """

    def describe(self) -> str:
        """Where the budget lives, for logs and the connection check (no password)."""

    def close(self) -> None:
        """Release connections."""
