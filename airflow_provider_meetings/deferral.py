"""Deferral of the operators: when to defer, for how long, and what a task keeps meanwhile.

When the next wait before a retry is longer than ``defer_after`` seconds, whatever set it
(a long ``Retry-After``, https://learn.microsoft.com/graph/throttling: "wait the number of
seconds specified in the Retry-After header"; or the exponential backoff after 5xx answers,
dropped connections and failed ``$batch`` requests, on any retry), a deferrable operator
does not sleep on its worker slot: the retry core gives up at once with
:class:`~airflow_provider_meetings.graph.errors.RetriesExhaustedError` carrying
``asked_wait`` (``RetryPolicy.with_max_single_wait`` in ``graph/retry.py``), and the task defers to the triggerer
until then. Between the worker process that deferred and the one that resumes, the task
keeps a :class:`DeferralState` in its own XCom (key :data:`XCOM_DEFERRAL`): how often it
has deferred, and for a bulk task every finished item's result, so that only the
unfinished items are sent after resuming.

Why an XCom rather than the ``kwargs`` of ``defer()``: the XCom of a task survives its
deferral (the execution API clears a task's XComs when it starts, "but not for deferral":
``airflow/api_fastapi/execution_api/routes/task_instances.py``, ``ti_run``), and
``dag.test()`` replaces the ``kwargs`` by the trigger's event when it runs the trigger
in line (``airflow/sdk/definitions/dag.py``, ``_run_task``), so state kept there would be
lost in tests. A new try of the task (a retry, a clear) starts without the state.

Pure: no Airflow, no network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from airflow_provider_meetings.graph.errors import ProviderError

#: Seconds: a wait before a retry that is longer than this defers the task (default of ``defer_after``).
DEFAULT_DEFER_AFTER = 60.0
#: Deferrals of one task try at most (default of ``max_deferrals``).
DEFAULT_MAX_DEFERRALS = 10
#: The XCom key of the :class:`DeferralState`.
XCOM_DEFERRAL = "deferral"


def check_defer_after(value: Any) -> float:
    """``defer_after`` as a float; raises ``ValueError`` unless it is a finite number of seconds above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"defer_after must be a number of seconds above 0 (a wait before a retry longer than this defers the task), "
            f"got {value!r}"
        )
    return float(value)


def check_max_deferrals(value: Any) -> int:
    """``max_deferrals`` as an int; raises ``ValueError`` unless it is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_deferrals must be a whole number of at least 1, got {value!r}")
    return value


def asked_wait(error: BaseException | None) -> float | None:
    """The pause Graph asked for when ``error`` (or an error it was raised from) gave up
    because that pause was too long (``RetriesExhaustedError.asked_wait``, also carried by
    an ``OrganizerLookupError`` of such a lookup); else ``None``."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        wait = getattr(error, "asked_wait", None) if isinstance(error, ProviderError) else None
        if isinstance(wait, (int, float)) and not isinstance(wait, bool):
            return float(wait)
        error = error.__cause__
    return None


def resume_at(wait: float, now: datetime | None = None) -> datetime:
    """When a task that defers for ``wait`` seconds resumes (aware, UTC)."""
    return (now or datetime.now(timezone.utc)) + timedelta(seconds=max(0.0, wait))


@dataclass
class DeferralState:
    """What a task keeps across its deferrals (the XCom :data:`XCOM_DEFERRAL`).

    :param deferrals: how many times this task try has deferred
    :param results: bulk tasks: one entry per item, the finished item's result dict (as in
        the task's return value), ``None`` for an item still to send
    :param created_before: bulk tasks: items still to send whose createOrGet had created
        the meeting before their ``DELETE`` had to wait (a cancel then reports ``not_found``,
        as without deferral), by item index (as text: XCom is JSON)
    :param found: the delete operator: the meeting its createOrGet found
        (``meeting_id``, ``user_id``, ``existed``) when its ``DELETE`` had to wait
    """

    deferrals: int = 0
    results: list[dict[str, Any] | None] | None = None
    created_before: dict[str, bool] = field(default_factory=dict)
    found: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (for XCom): every field, as a copy; results carry no token and no secret
        (``BulkItemResult.to_dict``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> DeferralState:
        """Read the XCom back; a missing or unreadable one is a fresh state."""
        if not isinstance(data, Mapping):
            return cls()
        results = data.get("results")
        deferrals = data.get("deferrals")
        return cls(
            deferrals=deferrals if isinstance(deferrals, int) and not isinstance(deferrals, bool) else 0,
            results=list(results) if isinstance(results, list) else None,
            created_before=dict(data.get("created_before") or {}),
            found=dict(data["found"]) if isinstance(data.get("found"), Mapping) else None,
        )

    def pending(self, total: int) -> list[int]:
        """Indexes of the items still to send (all of them before the first deferral)."""
        if self.results is None:
            return list(range(total))
        return [index for index, result in enumerate(self.results) if result is None]


class MergedRun(NamedTuple):
    """One bulk run folded into the item list (:func:`merge_results`); the state is not changed."""

    #: one entry per item, ``None`` for an item still to do
    results: list[dict[str, Any] | None]
    #: the longest pause asked for (``None`` when nothing is left to do)
    wait: float | None
    #: the ``created_before`` to keep when the task defers now
    created_before: dict[str, bool]


def merge_results(
    state: DeferralState, todo: Sequence[int], results: Sequence[dict[str, Any]], *, deferrable: bool
) -> MergedRun:
    """Fold the results of one bulk run over the items ``todo`` into the item list.

    A pure function of its arguments: the operator may fold the same run twice (deferrable,
    then final when it may not defer again), and both must read the same ``state``.

    :param state: the state so far (its ``results`` and ``created_before`` are read)
    :param todo: the original index of each item sent in this run, in the order sent
    :param results: this run's results as dicts with an ``asked_wait`` entry (``None``, or
        the pause Graph asked for when the item stopped for it) and a ``first_created`` entry
    :param deferrable: whether items that stopped for a long pause stay to do (else they
        are final, failed)
    """
    total = len(state.results) if state.results is not None else len(todo)
    merged: list[dict[str, Any] | None] = list(state.results) if state.results is not None else [None] * total
    longest: float | None = None
    sent = set(todo)
    created_before = {key: value for key, value in state.created_before.items() if int(key) not in sent}
    for position, result in enumerate(results):
        index = todo[position]
        wait = result.get("asked_wait")
        made_before = state.created_before.get(str(index), False)
        if deferrable and wait is not None:
            longest = max(longest or 0.0, wait)
            if result.get("first_created") or made_before:
                created_before[str(index)] = True
            continue
        final = {key: value for key, value in result.items() if key not in ("asked_wait", "first_created")}
        final["index"] = index
        if made_before and final.get("status") == "cancelled":
            # The createOrGet before the deferral made the meeting: none existed, as a run
            # without deferral would have said (BulkPlan._cancel_result).
            final["status"] = "not_found"
        merged[index] = final
    return MergedRun(merged, longest, created_before)
