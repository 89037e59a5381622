"""``scripts/demo.py`` when things go wrong: a failing step, Ctrl-C.

``make demo`` itself, twice, as the README says, runs in tests/integration/docs/test_docs_run_as_written.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[3] / "scripts" / "demo.py"


def run_demo(demo_dir: Path) -> subprocess.CompletedProcess[str]:
    # As `make demo` runs it: no Airflow settings from the test session leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return subprocess.run(
        [sys.executable, str(DEMO), "--demo-dir", str(demo_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )


def test_demo_failure_exits_non_zero_and_shows_the_log(tmp_path: Path) -> None:
    """A broken Airflow home (a file where the SQLite folder should be) fails fast and says where to look."""
    (tmp_path / "airflow").write_text("not a folder")
    result = run_demo(tmp_path)
    assert result.returncode != 0
    assert "Demo failed" in result.stderr
    assert "logs" in result.stderr


def test_ctrl_c_stops_the_emulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    process = subprocess.Popen(
        [sys.executable, str(DEMO), "--demo-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal: a suite started in the background of a non-interactive
        # shell (`.ci/run &`) inherits SIGINT ignored, and Python then keeps ignoring it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "logs" / "airflow.log").exists():  # the first airflow command started
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr
    assert "emulator stopped" in (tmp_path / "logs" / "emulator.log").read_text().lower()
