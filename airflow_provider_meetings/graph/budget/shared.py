"""The shared pace: a flow controller whose rate, holds and batches in flight live in a store.

:class:`SharedFlowController` is :class:`~airflow_provider_meetings.graph.pacing.FlowController`
(the adaptive part: one rule for one process or many) with its pace loaded from the store
before each decision and saved after it, in one transaction on the store's clock:

* the **pace** (rate, the limit learnt, items accepted lately by every process): a 429 seen
  by one worker lowers the rate of all, and the limit is estimated from what all of them
  got through, not from one worker's share; recovery is shared the same way;
* the **hold**: a 429 (or a whole-batch 503 with ``Retry-After``) makes every process wait until the same instant of the store's
  clock (each reads the time left, never compares the instant with its own clock), as long
  as the process that was throttled holds (``graph/retry.py``'s ``whole_batch_hold``, or one
  rate window after a decrease);
* **leases** on batches in flight: at most ``max_concurrency`` batches of all the processes
  at once; each lease ends when its answer arrives or after ``lease_seconds`` (the
  connection's timeout and a margin), so a worker killed mid-batch leaks nothing.

When the store is down or slow, :class:`RateBudget` logs one warning and the controllers go
on with the pace they last saw, per process (as with ``rate_budget: off``), and try the
store again after ``retry_after`` seconds.
"""

from __future__ import annotations

import math
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_meetings.graph.batch import MAX_BATCH_ITEMS
from airflow_provider_meetings.graph.budget.store import BudgetStore, State
from airflow_provider_meetings.graph.pacing import DEFAULT_PACING, FlowController
from airflow_provider_meetings.graph.retry import LONGEST_HOLD, PacingPolicy

T = TypeVar("T")

#: Seconds between looks at the store while every shared batch slot is taken.
FULL_POLL = 0.05
#: The shortest wait :meth:`SharedFlowController.delay` asks for: a shorter wait of the pace
#: (tokens another process just spent, a jittered wake a little early) is not worth a store
#: transaction per loop; the batch goes at once.
MIN_WAIT = 0.005
#: The pace's wait varies by up to this share either way (see :meth:`SharedFlowController.delay`).
JITTER = 0.05
#: Items accepted are kept per slot of this many seconds (bounds the document's size).
ACCEPTED_SLOT = 0.1
#: Seconds a budget paces locally after its store failed, before it tries the store again.
RETRY_STORE_AFTER = 60.0
#: Version of the document's layout: a document of another version is started afresh.
LAYOUT = 1


class RateBudget:
    """One tenant's and app's budget as seen by this process: the store, its key, the fallback.

    :param store: where the budget lives (``None``: ``rate_budget: off``, each process alone)
    :param key: the budget's name in the store (tenant and app)
    :param log: where the fallback warning and the budget's INFO lines go
    :param lease_seconds: how long a batch in flight holds its slot at most
    :param retry_after: seconds of local pacing after the store failed
    :param monotonic: this process's clock, for ``retry_after`` only
    """

    def __init__(
        self,
        store: BudgetStore | None,
        key: str,
        *,
        log: Any,
        lease_seconds: float = 35.0,
        retry_after: float = RETRY_STORE_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.key = key
        self.log = log
        self.lease_seconds = lease_seconds
        self.retry_after = retry_after
        self.monotonic = monotonic
        #: who sets a hold, in log lines of the others
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._lock = threading.Lock()
        self._local_until = -math.inf
        self._warned = False
        self._announced = False
        #: transactions that failed, and that succeeded (for tests and progress lines)
        self.failures = 0
        self.transactions = 0

    @property
    def kind(self) -> str:
        """The backend: ``file``, ``redis``, ``database`` or ``off``."""
        return self.store.kind if self.store is not None else "off"

    @property
    def shared(self) -> bool:
        """Whether the pace is shared right now (a store, and it answered last time)."""
        return self.store is not None and self.monotonic() >= self._local_until

    def describe(self) -> str:
        """The backend and where it lives, for logs and the connection check."""
        if self.store is None:
            return "off (each process paces itself)"
        return f"{self.store.kind} ({self.store.describe()})"

    def controller(self, max_concurrency: int) -> FlowController:
        """The bulk engine's flow controller (its ``controller`` factory).

        :param max_concurrency: batches in flight at most, of all the processes together
        """
        if self.store is None:
            return FlowController(max_concurrency)
        return SharedFlowController(max_concurrency, budget=self)

    def transact(self, update: Callable[[State | None, float], State]) -> bool:
        """Run ``update`` in one store transaction; ``False`` (pace locally) when the store fails."""
        if self.store is None:
            return False
        with self._lock:
            if self.monotonic() < self._local_until:
                return False
            try:
                self.store.transact(self.key, update)
            except Exception as error:  # whatever the store did, the work goes on (docs/bulk.md)
                self.failures += 1
                self._local_until = self.monotonic() + self.retry_after
                if not self._warned:
                    self._warned = True
                    self.log.warning(
                        "rate budget: the %s store is unavailable (%s: %s); each process paces itself "
                        "until it answers again (tried every %g s)",
                        self.store.kind,
                        type(error).__name__,
                        error,
                        self.retry_after,
                    )
                return False
            self.transactions += 1
            if not self._announced:
                self._announced = True
                self.log.info("rate budget: shared by every process of this tenant and app through %s", self.describe())
            return True

    def close(self) -> None:
        """Release the store's connections."""
        if self.store is not None:
            self.store.close()


class SharedFlowController(FlowController):
    """A :class:`~airflow_provider_meetings.graph.pacing.FlowController` whose pace is shared.

    Each call loads the shared document, applies the one rule of the base class on the
    store's clock and saves the result. Concurrency (AIMD) and the round-trip time stay
    per process; the pool of batch slots is shared through leases.

    :param max_concurrency: batches in flight at most, of all the processes together
    :param budget: the store and its fallback
    """

    def __init__(
        self,
        max_concurrency: int,
        *,
        budget: RateBudget,
        max_batch_items: int = MAX_BATCH_ITEMS,
        policy: PacingPolicy = DEFAULT_PACING,
    ) -> None:
        super().__init__(max_concurrency, max_batch_items=max_batch_items, policy=policy)
        self.budget = budget
        #: the store's clock minus this process's, as of the last transaction
        self.offset = 0.0
        self.hold_until = -math.inf  # on the store's clock
        self.hold_by: str | None = None
        self.leases: dict[str, float] = {}  # lease -> when it ends, on the store's clock
        self._sent: dict[float, deque[tuple[str, float]]] = {}  # local sent_at -> (lease, store sent_at)
        self._told_hold = -math.inf
        self._now = 0.0
        #: items whose pace :meth:`delay` took when it answered 0, until :meth:`on_sent` comes
        self._reserved = 0
        #: a document unused for this long is not read once its hold is over (every process may
        #: be waiting a long hold out): no rate window of the service lasts that long
        self.idle_reset = self.policy.lookback * self.policy.max_rate_window

    # -- the document -----------------------------------------------------------------------

    def _load(self, state: State, now: float) -> None:
        hold_until = float(state.get("hold_until", -math.inf))
        idle = now - float(state.get("touched", now)) > self.idle_reset and hold_until <= now
        if state.get("layout") != LAYOUT or idle:
            return  # another layout, or unused for longer than the service remembers: start afresh
        self.load_rate_state(state["pace"])
        # Sanity bounds against a document written on another clock (a store restored,
        # a machine rebooted): no hold or lease lasts longer than it could have been given.
        # Every hold is at most LONGEST_HOLD (graph/retry.py): a longer one is garbage, and
        # this is the only bound, so that no process shortens a hold another one shared.
        self._tokens_at = min(self._tokens_at, now)
        self.hold_until = min(hold_until, now + LONGEST_HOLD)
        self.hold_by = state.get("hold_by")
        ceiling = now + self.budget.lease_seconds
        self.leases = {
            lease: min(float(ends), ceiling) for lease, ends in state.get("leases", {}).items() if ends > now
        }

    def _dump(self) -> State:
        slots: dict[float, int] = {}
        for t, n in self._accepted:
            slot = math.floor(t / ACCEPTED_SLOT) * ACCEPTED_SLOT
            slots[slot] = slots.get(slot, 0) + n
        self._accepted = deque(sorted(slots.items()))
        return {
            "layout": LAYOUT,
            "touched": self._now,
            "pace": self.rate_state(),
            "hold_until": self.hold_until,
            "hold_by": self.hold_by,
            "leases": self.leases,
        }

    def _run(self, now: float, action: Callable[[float], T]) -> T:
        """``action(store_now)`` on the shared document (or on the local one when the store fails)."""
        box: list[T] = []

        def update(state: State | None, store_now: float) -> State:
            if state is not None:
                self._load(state, store_now)
            self.offset = store_now - now
            self._now = store_now
            box[:] = [action(store_now)]
            return self._dump()

        if not self.budget.transact(update):
            box[:] = [action(now + self.offset)]
        return box[0]

    # -- the controller's calls ---------------------------------------------------------------

    def delay(self, items: int, now: float) -> float:
        """Seconds until ``items`` items may go: the shared pace, the shared hold, a free slot.

        An answer of 0 takes the items' share of the pace in the same transaction, so that no
        other process spends it between this answer and :meth:`on_sent` (two transactions
        apart: with Redis's optimistic locking that gap let processes overspend together and
        be throttled, 75-80% of the limit with 4 processes). A reservation that
        :meth:`on_sent` did not follow is given back by the next call.
        """
        unused, self._reserved = self._reserved, 0
        taken: list[int] = []

        def action(t: float) -> float:
            taken.clear()  # Redis may run the transaction again, on the document as it is then
            if unused:
                FlowController.on_sent(self, -unused, t)
            wait = FlowController.delay(self, items, t)
            held = max(0.0, self.hold_until - t)
            full = FULL_POLL if len(self.leases) >= self.max_concurrency else 0.0
            longest = max(wait, held, full)
            if held or full:
                return max(longest, MIN_WAIT)
            if longest < MIN_WAIT:
                # Microseconds of the pace (a jittered wake a little early, tokens another
                # process just spent): go now rather than pay one more store transaction.
                FlowController.on_sent(self, items, t)
                taken.append(items)
                return 0.0
            # Processes waiting for the pace's next free instant wake together and the same one
            # wins the store each time; a little jitter lets each win in turn (AWS Architecture
            # blog, "Exponential Backoff And Jitter"). Centred on the wait, so that the pace
            # keeps its rate: one wakes a little early, goes (above) or waits the rest.
            return longest + random.uniform(-JITTER, JITTER) * min(longest, 1.0)

        wait = self._run(now, action)
        self._reserved = sum(taken)
        if wait > 0 and self.hold_until > self._told_hold and self.hold_by not in (None, self.budget.owner):
            self._told_hold = self.hold_until
            self.budget.log.info(
                "rate budget: %s was throttled; every process sharing the budget holds for %.1f s",
                self.hold_by,
                wait,
            )
        return wait

    def on_sent(self, items: int, now: float) -> None:
        """Account for ``items`` sent at ``now`` in the shared pace, and take a batch slot."""
        lease = uuid.uuid4().hex
        reserved, self._reserved = self._reserved, 0

        def action(t: float) -> float:
            FlowController.on_sent(self, items - reserved, t)  # what delay() took is spent
            self.leases[lease] = t + self.budget.lease_seconds
            return t

        sent_at = self._run(now, action)
        self._sent.setdefault(now, deque()).append((lease, sent_at))

    def on_batch_done(self, now: float, *, sent_at: float, **answer: Any) -> float:
        """Learn from one batch's answer, for every process; free its slot (see the base class)."""
        sent = self._sent.get(sent_at)
        lease, store_sent_at = sent.popleft() if sent else (None, None)
        if sent is not None and not sent:
            del self._sent[sent_at]

        def action(t: float) -> float:
            if lease is not None:
                self.leases.pop(lease, None)
            # a batch this controller did not send: its instant on the store's clock, by the offset just seen
            at = store_sent_at if store_sent_at is not None else t - (now - sent_at)
            hold = FlowController.on_batch_done(self, t, sent_at=at, **answer)
            if hold:
                self._share_hold(t, hold)
            return hold

        hold = self._run(now, action)
        if hold:
            self._told_hold = max(self._told_hold, self.hold_until)
            self.budget.log.info(
                "rate budget: Graph asked to wait here (429, or a 503 with Retry-After); every process sharing "
                "the budget holds for %.1f s",
                hold,
            )
        return hold

    def hold(self, seconds: float, now: float) -> None:
        """Make every process sharing the budget hold for ``seconds`` from now."""
        if seconds > 0:
            self._run(now, lambda t: self._share_hold(t, seconds))

    def _share_hold(self, t: float, seconds: float) -> None:
        if t + seconds > self.hold_until:
            self.hold_until = t + seconds
            self.hold_by = self.budget.owner
