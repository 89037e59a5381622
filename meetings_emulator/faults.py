"""Fault injection: scripted next responses, a rate limiter and counters."""

from __future__ import annotations

import collections
import math
import random
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "drop", "slow", "non_json", "drop_mid_stream")
TARGETS = ("graph", "token")
WHEN = ("before", "after")
#: Status of a ``non_json`` fault when none is given: a proxy's 502 Bad Gateway page.
NON_JSON_DEFAULT_STATUS = 502


def format_retry_after(seconds: float | int | str) -> str:
    """A ``Retry-After`` value in seconds as Graph writes it: ``2``, or a decimal like ``2.128``.

    Graph's own throttling sample answers ``Retry-After: 2.128``
    (https://learn.microsoft.com/graph/throttling, "Sample response"), so decimals are
    legal; whole numbers are written without a trailing ``.0``.

    :param seconds: a non-negative, finite number of seconds (or its text).
    """
    value = parse_retry_after_seconds(seconds)
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def parse_retry_after_seconds(seconds: Any) -> float:
    """Validate a ``Retry-After`` delay in seconds (int, float or numeric text); raises ``ValueError``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, str)):
        raise ValueError(f"retry_after must be a number of seconds, got {seconds!r}")
    try:
        value = float(seconds)
    except ValueError:
        raise ValueError(f"retry_after must be a number of seconds, got {seconds!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"retry_after must be a finite number of seconds >= 0, got {seconds!r}")
    return value


@dataclass
class ScriptedFault:
    """A response scripted for the next ``times`` matching requests.

    :param kind: ``status`` (an error status), ``drop`` (close the connection without an
        answer), ``slow`` (sleep ``seconds`` before answering) or ``non_json`` (an HTML page
        as from a proxy or captive portal, with ``status``, default 502).
    :param status: HTTP status for ``kind="status"`` (400-599, e.g. 429, 500, 503, 504) or
        ``kind="non_json"`` (200-599; e.g. 200 or 407 for a captive portal or proxy whose
        page MSAL cannot parse as JSON).
    :param retry_after: ``Retry-After`` value (seconds, decimals allowed, or an HTTP-date);
        ``None`` omits it.
    :param seconds: sleep time of ``slow``.
    :param when: ``before`` the request is processed (nothing happens) or ``after``
        (the meeting is created, then the client sees the fault).
    :param target: ``graph`` requests or ``token`` requests.
    :param match: optional regular expression searched in ``METHOD path`` (e.g. ``createOrGet``).
    :param times: how many matching requests still get this fault.
    :param after_bytes: for ``drop_mid_stream``: the answer (status, headers with the full
        ``Content-Length``) is sent, then only this many body bytes, then the connection
        closes, as a network failure in the middle of a download does.
    """

    kind: str = "status"
    status: int | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    when: str = "before"
    target: str = "graph"
    match: str | None = None
    times: int = 1
    after_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.when not in WHEN:
            raise ValueError(f"'when' must be one of {WHEN}")
        if self.target not in TARGETS:
            raise ValueError(f"'target' must be one of {TARGETS}")
        if self.kind == "status" and not (_is_int(self.status) and 400 <= self.status <= 599):
            raise ValueError("a status fault needs 'status' between 400 and 599")
        if self.kind == "non_json":
            if self.status is None:
                self.status = NON_JSON_DEFAULT_STATUS
            if not (_is_int(self.status) and 200 <= self.status <= 599):
                raise ValueError("a non_json fault takes 'status' between 200 and 599 (default 502)")
        if self.kind == "drop_mid_stream" and not (_is_int(self.after_bytes) and self.after_bytes >= 0):
            raise ValueError("a drop_mid_stream fault needs 'after_bytes', a whole number >= 0")
        if self.kind == "drop_mid_stream" and self.target != "graph":
            raise ValueError("a drop_mid_stream fault targets graph (content downloads)")
        if self.times < 1:
            raise ValueError("'times' must be at least 1")
        if self.retry_after is not None:
            if isinstance(self.retry_after, (int, float)) and not isinstance(self.retry_after, bool):
                self.retry_after = format_retry_after(self.retry_after)
            else:
                self.retry_after = str(self.retry_after)
        if self.match is not None:
            re.compile(self.match)

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control endpoint."""
        return asdict(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_fault(spec: Any, **overrides: Any) -> ScriptedFault:
    """Build a :class:`ScriptedFault` from the short forms the API accepts.

    ``429`` or ``{"status": 429, "retry_after": "2"}``; ``"drop"``, ``"slow"``,
    ``"non_json"``; or a dict with ``kind`` (``{"kind": "non_json", "status": 200}``,
    ``{"kind": "drop_mid_stream", "after_bytes": 1048576}``). ``overrides`` (``times``, ``when``,
    ``target``, ``match``, ``seconds``, ``retry_after``, ``after_bytes``) win over the spec.
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


@dataclass
class RandomFaults:
    """Faults drawn at random: each HTTP request to the target meets one with probability ``rate``.

    For storms that no script could spell out ("half of all requests fail"): every top-level
    request (a createOrGet, a ``$batch`` envelope; not the items inside a batch) draws
    once; a drawn fault is one of ``faults``, chosen uniformly.

    :param rate: probability of a fault, 0 < rate <= 1.
    :param faults: the mix, in the short forms of :func:`parse_fault` (``times`` is ignored).
    :param seed: seed of the generator (``None``: unpredictable).
    :param target: ``graph`` or ``token``.
    :param match: optional regular expression on ``METHOD path`` limiting which requests draw.
    """

    rate: float
    faults: list[ScriptedFault]
    seed: int | None = None
    target: str = "graph"
    match: str | None = None
    applied: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 1:
            raise ValueError("'rate' must be above 0 and at most 1")
        if not self.faults:
            raise ValueError("'faults' must name at least one fault")
        if self.target not in TARGETS:
            raise ValueError(f"'target' must be one of {TARGETS}")
        if self.match is not None:
            re.compile(self.match)
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, rate: Any, faults: Any, **options: Any) -> RandomFaults:
        """Build from control-endpoint JSON."""
        if not isinstance(faults, list):
            raise ValueError("'faults' must be a list of faults")
        return cls(float(rate), [parse_fault(f) for f in faults], **options)

    def draw(self, target: str, subject: str) -> ScriptedFault | None:
        """A fault for this request, or ``None``."""
        if target != self.target or (self.match is not None and not re.search(self.match, subject)):
            return None
        if self._rng.random() >= self.rate:
            return None
        self.applied += 1
        return self._rng.choice(self.faults)

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control endpoint."""
        return {
            "rate": self.rate,
            "faults": [f.to_json() for f in self.faults],
            "seed": self.seed,
            "target": self.target,
            "match": self.match,
            "applied": self.applied,
        }


class FaultPlan:
    """The queue of scripted faults, and optional random faults; not thread-safe (caller locks)."""

    def __init__(self) -> None:
        self._faults: list[ScriptedFault] = []
        #: random faults drawn by top-level requests when no scripted fault matched
        self.random: RandomFaults | None = None

    def add(self, fault: ScriptedFault) -> None:
        """Queue a fault after those already queued."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Drop every queued fault and stop random faults."""
        self._faults.clear()
        self.random = None

    def pending(self) -> list[dict[str, Any]]:
        """The queued faults as JSON."""
        return [f.to_json() for f in self._faults]

    def take(self, target: str, method: str, path: str, *, top_level: bool = True) -> ScriptedFault | None:
        """The first queued fault matching this request, consuming one of its ``times``;
        else, for a top-level request, a random fault if one is drawn."""
        return self._take(target, f"{method} {path}", explicit=False) or self._draw(target, method, path, top_level)

    def take_explicit(self, target: str, method: str, path: str) -> ScriptedFault | None:
        """Like :meth:`take`, but only scripted faults with a ``match`` that matches (or a
        random fault: a ``$batch`` envelope is a top-level request)."""
        return self._take(target, f"{method} {path}", explicit=True) or self._draw(target, method, path, True)

    def _draw(self, target: str, method: str, path: str, top_level: bool) -> ScriptedFault | None:
        if self.random is None or not top_level:
            return None
        return self.random.draw(target, f"{method} {path}")

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
    """At most ``per_second`` requests in any sliding one-second window, throttled ones included.

    Graph "continues to log resource usage while a client is being throttled" and "all
    requests accrue against your usage limits" (https://learn.microsoft.com/graph/throttling,
    "Best practices to handle throttling"). So every request that reaches the limiter is
    recorded, admitted or not: a request is admitted when fewer than ``per_second``
    requests (of any outcome) arrived in the second before it. A client that keeps knocking
    while throttled stays throttled; one that pauses for a full second gets through.

    :param per_second: allowed requests per second, ``None`` for unlimited.
    """

    WINDOW_S = 1.0

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self._seen: collections.deque[float] = collections.deque()

    def configure(self, per_second: float | None) -> None:
        """Change the limit and start a fresh window."""
        self.per_second = per_second
        self._seen.clear()

    def admit(self, now: float | None = None) -> bool:
        """Record one request and say whether it is within the limit."""
        if self.per_second is None:
            return True
        now = time.monotonic() if now is None else now
        # A request exactly one second old has left the window.
        while self._seen and self._seen[0] <= now - self.WINDOW_S:
            self._seen.popleft()
        admitted = len(self._seen) < self.per_second
        self._seen.append(now)
        return admitted


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
    meetings_deleted: int = 0
    #: ``POST .../events`` that reached the event store (repeats of a transactionId included).
    event_posts: int = 0
    #: events booked (a repeated transactionId books nothing).
    events_created: int = 0
    events_updated: int = 0
    events_cancelled: int = 0
    events_deleted: int = 0

    def count_graph(self, route: str, status: int | str) -> None:
        """Count one Graph request (or batch item) with its outcome."""
        self.graph_requests += 1
        self._count_route(route, status)
        if status == 429:
            self.throttled += 1

    def count_batch(self, route: str, status: int | str) -> None:
        """Count one ``$batch`` envelope with its outcome (its items are counted as requests)."""
        self.batches += 1
        self._count_route(route, status)

    def _count_route(self, route: str, status: int | str) -> None:
        per_route = self.by_route.setdefault(route, {})
        per_route[str(status)] = per_route.get(str(status), 0) + 1

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)
