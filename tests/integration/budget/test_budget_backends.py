"""The shared budget's backends with real processes: one pace, holds on one clock, no leaks, fallback.

Each backend runs the same tests: ``file`` (a folder of this test), ``redis`` (a redis-server
the fixture starts on a free port), ``database`` (SQLite) and ``postgresql`` (the ``database``
store on the PostgreSQL named by ``MEETINGS_TEST_POSTGRES_URL``: ``make e2e`` runs these
tests against its stack's metadata database, tests/e2e/test_budget_postgres.py; without the
variable they are skipped).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from budget_worker import KEY, open_budget, open_store

from airflow_provider_meetings.graph.budget.shared import FULL_POLL, RateBudget

BACKENDS = ["file", "redis", "database", "postgresql"]
#: A PostgreSQL database the ``postgresql`` backend may use (its budget table is emptied).
POSTGRES_URL_VARIABLE = "MEETINGS_TEST_POSTGRES_URL"


def fresh_postgres(url: str) -> str:
    """``url`` with the budget table emptied (every test starts with no budget)."""
    import sqlalchemy

    from airflow_provider_meetings.graph.budget.database_store import TABLE

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {TABLE}"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(kind, where)`` of a fresh store of each kind (``postgresql`` is the ``database`` kind)."""
    kind = request.param
    if kind == "redis":
        return kind, request.getfixturevalue("redis_url")
    if kind == "database":
        return kind, f"sqlite:///{tmp_path / 'metadata.db'}"
    if kind == "postgresql":
        url = os.environ.get(POSTGRES_URL_VARIABLE)
        if not url:
            pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: make e2e runs these against its PostgreSQL")
        return "database", fresh_postgres(url)
    return kind, str(tmp_path / "budgets")


def throttle(budget: RateBudget, now: float, *, accepted: int = 20, retry_after: float = 1.0) -> float:
    """Learn a limit of ``accepted`` items per ``retry_after`` window from one 429; return the hold."""
    controller = budget.controller(4)
    controller.on_sent(accepted + 1, now)
    return controller.on_batch_done(now + 0.01, sent_at=now, accepted=accepted, throttled=1, retry_after=retry_after)


def read_line(process: Any, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    line = ""
    while not line and time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
    return line.strip()


def test_worker_processes_share_one_pace_and_one_hold(backend, start_worker) -> None:
    kind, where = backend
    seconds = 2.5
    jobs = [{"mode": "pace", "kind": kind, "where": where, "seconds": seconds}] * 2
    jobs.append({**jobs[0], "skew": 3600.0})  # a machine whose clock is an hour ahead
    workers = [start_worker(job) for job in jobs]
    assert [read_line(worker) for worker in workers] == ["ready"] * 3
    start_at = time.time() + 0.5  # every worker has started and opened the budget
    for worker in workers:
        worker.stdin.write(f"{start_at}\n")
        worker.stdin.flush()
    time.sleep(max(0.0, start_at - 0.3 - time.time()))
    hold = throttle(open_budget(kind, where), time.monotonic())  # 20 per second, then a 429: hold 1 s
    assert hold == 1.0
    reports = [json.loads(read_line(worker)) for worker in workers]
    assert all(report["failures"] == 0 and report["shared"] > 0 for report in reports)
    # nobody sent before the hold, set 0.3 s before the start, was over (0.7 s after it)
    assert all(report["first"] is not None for report in reports), reports
    assert min(report["first"] for report in reports) >= 0.6
    total = sum(report["sent"] for report in reports)
    expected = 19 * (seconds - 0.7)  # 95% of the limit learnt, for all three together
    # A database commits each transaction to disk (SQLite one writer at a time): on a busy machine
    # (2 cores shared with the test suite, or with make e2e's stack) the three workers are held back
    # by the store more than by the pace: measured 47% of the pace on PostgreSQL beside make test.
    floor = 0.3 if kind == "database" else 0.6
    assert floor * expected <= total <= 1.3 * expected + 3, reports


@pytest.mark.parametrize("skew", [-86400.0, 3600.0])
def test_a_hold_reads_the_same_on_every_clock(backend, skew: float) -> None:
    kind, where = backend
    here, there = open_budget(kind, where), open_budget(kind, where)  # two connections
    now = time.monotonic()
    assert throttle(here, now, retry_after=3.0) == 3.0
    elsewhere = there.controller(4)
    assert elsewhere.delay(1, now + skew) == pytest.approx(3.0, abs=0.25)
    # the items it then sends are on the store's clock, next to the others' (not an hour away)
    pace = elsewhere.rate_state()
    assert max(t for t, _ in pace["accepted"]) - min(t for t, _ in pace["accepted"]) < 1.0


def test_a_worker_killed_while_it_holds_batch_slots_leaks_nothing(backend, start_worker) -> None:
    kind, where = backend
    worker = start_worker({"mode": "lease-and-wait", "kind": kind, "where": where, "leases": 2, "lease_seconds": 1.5})
    assert read_line(worker) == "ready"
    killed_at = time.monotonic()
    os.kill(worker.pid, signal.SIGKILL)
    survivor = open_budget(kind, where).controller(2)
    assert survivor.delay(1, time.monotonic()) == FULL_POLL  # both slots still leased
    while survivor.delay(1, time.monotonic()) and time.monotonic() - killed_at < 5:
        time.sleep(0.05)
    assert 0.5 < time.monotonic() - killed_at < 2.5  # freed when the leases ended, not before
    # the worker took its two slots one after the other: the second ends a moment later
    time.sleep(0.5)
    survivor.delay(1, time.monotonic())
    assert survivor.leases == {}


def test_a_worker_killed_inside_a_file_transaction_blocks_no_one(tmp_path: Path, start_worker) -> None:
    where = str(tmp_path / "budgets")
    worker = start_worker({"mode": "lock-and-wait", "kind": "file", "where": where})
    assert read_line(worker) == "ready"
    budget = open_budget("file", where)
    started = time.monotonic()
    budget.controller(4).delay(1, 0.0)
    assert budget.failures == 1 and time.monotonic() - started < 1.0  # locked: paces alone, briefly
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    again = open_budget("file", where)
    again.controller(4).delay(1, 0.0)
    assert again.failures == 0 and again.transactions == 1  # the kernel released the lock


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        # The port is found when the test runs, not in the test's id: pytest-xdist's workers
        # must collect the same ids.
        ("redis", "redis://127.0.0.1:{closed_port}/0"),
        ("database", "sqlite:////nonexistent-folder/metadata.db"),
        ("file", "/proc/version/budgets"),  # under a file: no folder can be made
    ],
    ids=["redis", "database", "file"],
)
def test_an_unreachable_store_falls_back_to_pacing_alone_with_one_warning(kind, where, caplog) -> None:
    where = where.format(closed_port=closed_port())
    budget = RateBudget(open_store(kind, where), KEY, log=logging.getLogger("fallback"))
    controller = budget.controller(4)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="fallback"):
        for _ in range(50):
            now = time.monotonic()
            assert controller.delay(1, now) == 0
            controller.on_sent(1, now)
            controller.on_batch_done(now, sent_at=now, accepted=1, throttled=0)
    assert time.monotonic() - started < 2.0 and budget.failures == 1
    warnings = [r for r in caplog.records if r.name == "fallback" and r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" store is unavailable")[0] for r in warnings] == [f"rate budget: the {kind}"]


def test_a_slow_redis_falls_back_after_its_timeout(redis_server, caplog) -> None:
    url, server = redis_server
    budget = RateBudget(open_store("redis", url), KEY, log=logging.getLogger("slow"))
    controller = budget.controller(4)
    controller.delay(1, 0.0)
    assert budget.transactions == 1
    os.kill(server.pid, signal.SIGSTOP)  # up, but answers nothing
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="slow"):
            for _ in range(20):
                controller.delay(1, time.monotonic())
        assert time.monotonic() - started < 1.5  # one timeout (0.5 s), then alone
    finally:
        os.kill(server.pid, signal.SIGCONT)
    warnings = [r for r in caplog.records if r.name == "slow" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and budget.failures == 1
