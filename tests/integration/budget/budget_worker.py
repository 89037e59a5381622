"""A worker process of the budget tests: ``python -m tests.integration.budget.budget_worker <json>``.

The JSON names the store (``kind`` and ``where``) and what to do:

* ``pace``: open the budget, print ``ready`` and read ``start_at`` (wall time, one machine) from
  stdin, so a slow start on a busy machine eats no part of the test's window; from then send
  1-item batches for ``seconds`` as fast as the shared budget lets, every batch accepted; print
  how many were sent and when the first went (seconds after ``start_at``). ``skew`` is added to the clock the controller is
  given, as on a machine whose clock is off.
* ``lease-and-wait``: take ``leases`` batch slots, print ``ready``, wait to be killed.
* ``lock-and-wait``: hold the file store's lock (as in the middle of a transaction), print
  ``ready``, wait to be killed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from airflow_provider_meetings.auth.cache_file import cache_lock
from airflow_provider_meetings.graph.budget.database_store import DatabaseStore
from airflow_provider_meetings.graph.budget.file_store import FileStore, budget_file
from airflow_provider_meetings.graph.budget.redis_store import RedisStore
from airflow_provider_meetings.graph.budget.shared import RateBudget
from airflow_provider_meetings.graph.budget.store import BudgetStore

KEY = "https://graph.test|tenant|app"


def open_store(kind: str, where: str) -> BudgetStore:
    """The store the tests name: ``file`` (a folder), ``redis`` (a URL), ``database`` (a SQLAlchemy URL)."""
    if kind == "file":
        return FileStore(where)
    if kind == "redis":
        return RedisStore(where)
    return DatabaseStore(where)


def open_budget(kind: str, where: str, **kwargs: Any) -> RateBudget:
    return RateBudget(open_store(kind, where), KEY, log=logging.getLogger("budget-worker"), **kwargs)


def pace(job: dict[str, Any]) -> dict[str, Any]:
    budget = open_budget(job["kind"], job["where"])
    controller = budget.controller(4)
    skew = job.get("skew", 0.0)

    def clock() -> float:
        return time.monotonic() + skew

    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    while time.time() < start_at:
        time.sleep(0.005)
    end = start_at + job["seconds"]
    sent, first = 0, None
    while time.time() < end:
        now = clock()
        wait = controller.delay(1, now)
        if wait > 0:
            time.sleep(min(wait, max(0.0, end - time.time())))
            continue
        controller.on_sent(1, now)
        if first is None:
            first = time.time() - start_at
        sent += 1
        controller.on_batch_done(clock(), sent_at=now, accepted=1, throttled=0)
    return {"sent": sent, "first": first, "shared": budget.transactions, "failures": budget.failures}


def main() -> None:
    job = json.loads(sys.argv[1])
    if job["mode"] == "pace":
        print(json.dumps(pace(job)), flush=True)
        return
    if job["mode"] == "lease-and-wait":
        budget = open_budget(job["kind"], job["where"], lease_seconds=job["lease_seconds"])
        controller = budget.controller(job["leases"])
        for _ in range(job["leases"]):
            controller.on_sent(1, time.monotonic())
    if job["mode"] == "lock-and-wait":
        os.makedirs(job["where"], exist_ok=True)
        with cache_lock(budget_file(job["where"], KEY)):
            print("ready", flush=True)
            time.sleep(600)
    print("ready", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
