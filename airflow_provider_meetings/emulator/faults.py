"""Fault injection: scripted next responses, a rate limiter and counters."""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "drop", "slow", "non_json")
TARGETS = ("graph", "token")
WHEN = ("before", "after")


@dataclass
class ScriptedFault:
    """A response scripted for the next ``times`` matching requests.

    :param kind: ``status`` (an error status), ``drop`` (close the connection without an
        answer), ``slow`` (sleep ``seconds`` before answering) or ``non_json`` (an HTML 502
        as from a proxy).
    :param status: HTTP status for ``kind="status"`` (e.g. 429, 500, 503, 504).
    :param retry_after: ``Retry-After`` value (seconds or an HTTP-date); ``None`` omits it.
    :param seconds: sleep time of ``slow``.
    :param when: ``before`` the request is processed (nothing happens) or ``after``
        (the meeting is created, then the client sees the fault).
    :param target: ``graph`` requests or ``token`` requests.
    :param match: optional regular expression searched in ``METHOD path`` (e.g. ``createOrGet``).
    :param times: how many matching requests still get this fault.
    """

    kind: str = "status"
    status: int | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    when: str = "before"
    target: str = "graph"
    match: str | None = None
    times: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.when not in WHEN:
            raise ValueError(f"'when' must be one of {WHEN}")
        if self.target not in TARGETS:
            raise ValueError(f"'target' must be one of {TARGETS}")
        if self.kind == "status" and not (isinstance(self.status, int) and 400 <= self.status <= 599):
            raise ValueError("a status fault needs 'status' between 400 and 599")
        if self.times < 1:
            raise ValueError("'times' must be at least 1")
        if self.retry_after is not None:
            self.retry_after = str(self.retry_after)
        if self.match is not None:
            re.compile(self.match)

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control endpoint."""
        return asdict(self)


def parse_fault(spec: Any, **overrides: Any) -> ScriptedFault:
    """Build a :class:`ScriptedFault` from the short forms the API accepts.

    ``429`` or ``{"status": 429, "retry_after": "2"}``; ``"drop"``, ``"slow"``,
    ``"non_json"``; or a dict with ``kind``. ``overrides`` (``times``, ``when``, ``target``,
    ``match``, ``seconds``, ``retry_after``) win over the spec.
    """
    data: dict[str, Any]
    if isinstance(spec, ScriptedFault):
        data = spec.to_json()
    elif isinstance(spec, int):
        data = {"kind": "status", "status": spec}
    elif isinstance(spec, str):
        data = {"kind": spec}
    elif isinstance(spec, Mapping):
        data = dict(spec)
        data.setdefault("kind", "status" if "status" in data else None)
        if "count" in data:
            data["times"] = data.pop("count")
    else:
        raise ValueError(f"cannot read a fault from {spec!r}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    if data.get("kind") is None:
        raise ValueError("a fault needs 'kind' or 'status'")
    return ScriptedFault(**data)


class FaultPlan:
    """The queue of scripted faults; not thread-safe (caller locks)."""

    def __init__(self) -> None:
        self._faults: list[ScriptedFault] = []

    def add(self, fault: ScriptedFault) -> None:
        """Queue a fault after those already queued."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Drop every queued fault."""
        self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        """The queued faults as JSON."""
        return [f.to_json() for f in self._faults]

    def take(self, target: str, method: str, path: str) -> ScriptedFault | None:
        """The first queued fault matching this request, consuming one of its ``times``."""
        return self._take(target, f"{method} {path}", explicit=False)

    def take_explicit(self, target: str, method: str, path: str) -> ScriptedFault | None:
        """Like :meth:`take`, but only faults with a ``match`` that matches."""
        return self._take(target, f"{method} {path}", explicit=True)

    def _take(self, target: str, subject: str, explicit: bool) -> ScriptedFault | None:
        for fault in self._faults:
            if fault.target != target:
                continue
            if fault.match is None:
                if explicit:
                    continue
            elif not re.search(fault.match, subject):
                continue
            fault.times -= 1
            if fault.times == 0:
                self._faults.remove(fault)
            return fault
        return None


class RateLimiter:
    """A sliding one-second window; throttled requests do not count against it.

    :param per_second: allowed requests per second, ``None`` for unlimited.
    """

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self._admitted: collections.deque[float] = collections.deque()

    def configure(self, per_second: float | None) -> None:
        """Change the limit and start a fresh window."""
        self.per_second = per_second
        self._admitted.clear()

    def admit(self, now: float | None = None) -> bool:
        """Whether one more request fits in the window (and count it if so)."""
        if self.per_second is None:
            return True
        now = time.monotonic() if now is None else now
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= self.per_second:
            return False
        self._admitted.append(now)
        return True


@dataclass
class Stats:
    """Counters exposed by ``stats()``."""

    connections: int = 0
    token_requests: int = 0
    token_errors: int = 0
    graph_requests: int = 0
    by_route: dict[str, dict[str, int]] = field(default_factory=dict)
    throttled: int = 0
    batches: int = 0
    batch_items: int = 0
    faults_applied: int = 0
    meetings_created: int = 0

    def count_graph(self, route: str, status: int | str) -> None:
        """Count one Graph request (or batch item) with its outcome."""
        self.graph_requests += 1
        per_route = self.by_route.setdefault(route, {})
        per_route[str(status)] = per_route.get(str(status), 0) + 1
        if status == 429:
            self.throttled += 1

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)
