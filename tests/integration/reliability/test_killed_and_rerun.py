"""A worker killed in the middle of a bulk call, then re-run: the set completes, no duplicates.

The bulk call runs in a subprocess (a real worker would be a separate process too);
SIGKILL gives it no chance to clean up, and a ``$batch`` may be in flight when it dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from reliability_testlib import FAST_RETRY_EXTRAS, Expected, assert_exactly_once, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

CONN_ID = "meetings_killed_worker"
MEETINGS = 200

WORKER = """
import json, sys
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

specs = json.loads(sys.argv[1])
results = OnlineMeetingsHook(conn_id=sys.argv[2]).create_or_get_meetings(specs, max_concurrency=2)
print("RESULTS " + json.dumps([r.to_dict() for r in results]))
"""


def run_worker(emu: Any, specs: list[dict[str, Any]]) -> subprocess.Popen[str]:
    env = {**os.environ, **emu.environment(CONN_ID, **FAST_RETRY_EXTRAS)}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(specs), CONN_ID],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def emu(graph_emulator: Any) -> Any:
    graph_emulator.reset()
    yield graph_emulator
    graph_emulator.reset()


def test_bulk_killed_mid_run_then_rerun_completes_without_duplicates(emu):
    users = [u["id"] for u in emu.users if u["hasPolicy"]]
    expected = [Expected(users[n % len(users)], f"killed-{n:04d}") for n in range(MEETINGS)]
    specs = [{"external_id": e.external_id, "user_id": e.user_id} for e in expected]
    emu.set_latency(150)  # per $batch: ~10 batches of 20 at 2 in flight take ~1 s

    first = run_worker(emu, specs)
    try:
        assert wait_until(lambda: len(emu.meetings()) >= 40, timeout=30), first.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    # A batch may have been in flight: the emulator still processes it after the kill.
    time.sleep(0.4)
    made_before_rerun = {m["external_id"] for m in emu.meetings()}
    assert 40 <= len(made_before_rerun) < MEETINGS, "the kill did not land mid-run"

    second = run_worker(emu, specs)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err[-3000:]
    (line,) = [line for line in out.splitlines() if line.startswith("RESULTS ")]
    results = json.loads(line[len("RESULTS ") :])

    stored = assert_exactly_once(emu, expected)
    assert all(r["error"] is None for r in results)
    for item, result in zip(expected, results, strict=True):
        assert result["meeting_id"] == stored[(item.user_id, item.external_id)]["id"]
        # Meetings of the killed run come back (200), only the missing ones are created.
        assert result["created"] is (item.external_id not in made_before_rerun), item
