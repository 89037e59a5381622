"""An in-memory budget store for the pure tests of the shared budget."""

from __future__ import annotations

import json
import time

from airflow_provider_meetings.graph.budget.store import State, StoreUnavailable, Update


class MemoryStore:
    """A store in a dict on a clock the test sets; documents pass through JSON as in a real store."""

    kind = "memory"

    def __init__(self, *, live: bool = False) -> None:
        self.documents: dict[str, str] = {}
        self.now = 1000.0
        self.down = False
        #: whether the clock runs (for an engine that really waits) or is set by the test
        self.live = live
        self._started = time.monotonic()

    def clock(self) -> float:
        return self.now + (time.monotonic() - self._started if self.live else 0.0)

    def transact(self, key: str, update: Update) -> None:
        if self.down:
            raise StoreUnavailable("down")
        raw = self.documents.get(key)
        self.documents[key] = json.dumps(update(json.loads(raw) if raw else None, self.clock()))

    def document(self, key: str = "k") -> State:
        return json.loads(self.documents[key])

    def describe(self) -> str:
        return "memory"

    def close(self) -> None:
        pass
