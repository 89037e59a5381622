"""``make demo`` end to end, twice: the edited events file moves and cancels meetings; the
second demo finds every meeting again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[3] / "scripts" / "demo.py"
STATUS = r"(created|reused|updated|unchanged|cancelled|not_found|unknown|-)"
ROW_RE = re.compile(rf"^\s+(\S+)\s+{STATUS}\s+{STATUS}\s+https://", re.MULTILINE)


def run_demo(demo_dir: Path) -> subprocess.CompletedProcess[str]:
    # As `make demo` runs it: no Airflow settings from the test session leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return subprocess.run(
        [sys.executable, str(DEMO), "--demo-dir", str(demo_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def statuses(stdout: str) -> dict[str, tuple[str, str]]:
    """event -> (status on run 1, status with the edited events file)."""
    return {event: (one, two) for event, one, two in ROW_RE.findall(stdout)}


def test_demo_twice(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert statuses(first.stdout) == {
        "office-hour-2026-12-07": ("created", "-"),
        "course-ml101-2026-12-07": ("created", "updated"),
        "interview-4711": ("created", "cancelled"),
        "ticket-INC-1042": ("created", "unchanged"),
    }, first.stdout
    assert "Run 1: 4 meetings: 4 created." in first.stdout
    assert "1 updated, 1 unchanged, 1 cancelled. The emulator holds 3." in first.stdout
    assert (tmp_path / "emulator-state.json").exists()
    assert (tmp_path / "logs" / "teams_meetings_from_events.log").exists()
    assert "cancelled" in (tmp_path / "events-edited.csv").read_text()

    # From the state the first demo left: run 1 moves the lecture back and books the
    # cancelled interview again; the edit then applies once more.
    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert statuses(second.stdout) == {
        "office-hour-2026-12-07": ("reused", "-"),
        "course-ml101-2026-12-07": ("updated", "updated"),
        "interview-4711": ("created", "cancelled"),
        "ticket-INC-1042": ("unchanged", "unchanged"),
    }, second.stdout
    assert "The emulator holds 3." in second.stdout


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
