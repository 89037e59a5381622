"""A recording over 100 MiB through ``hook.download_recordings``: same SHA-256, flat memory (issue 23).

The download runs in a subprocess so that its peak RSS is its own (``VmHWM`` of
``/proc/self/status``, reset to the current RSS just before by ``/proc/self/clear_refs``): the
growth from just before the download (client built, token fetched, modules imported) to
the end must stay under 40 MiB whatever the recording's size, since recordings are
streamed in 1 MiB chunks to disk and never held in memory. Run by ``make e2e``; it needs
only the emulator (the session fixture), not the stack.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meetings_emulator.config import ORGANIZER_ID

REPO = Path(__file__).resolve().parents[2]
RECORDING_SIZE = 110 * 1024 * 1024 + 4321
MAX_GROWTH = 40 * 1024 * 1024
CONN_ID = "meetings_large_download"

DOWNLOAD = """
import json, sys, time
from pathlib import Path
from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # kB

def reset_peak():
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux >= 4.0)
    return status("VmRSS")

join_url, destination = sys.argv[1], sys.argv[2]
with OnlineMeetingsHook(%(conn_id)r) as hook:
    hook.meeting_artifacts_status(join_url=join_url)  # token, TLS, imports: not the download's
    hook.artifact_destination(destination)
    before = reset_peak()
    started = time.monotonic()
    paths = hook.download_recordings(destination, join_url=join_url)
    seconds = time.monotonic() - started
    after = status("VmHWM")
    # The control: the same measurement sees a recording held in memory.
    control_before = reset_peak()
    held = Path(paths[0]).read_bytes()
    control_after = status("VmHWM")
    del held
    print(json.dumps({"paths": paths, "before": before, "after": after, "seconds": seconds,
                      "control": control_after - control_before}))
"""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_a_recording_over_100_mib_streams_with_flat_memory(graph_emulator: Any, tmp_path: Path) -> None:
    from airflow_provider_meetings.hooks.online_meetings import OnlineMeetingsHook

    graph_emulator.reset()
    env = {
        **os.environ,
        f"AIRFLOW_CONN_{CONN_ID.upper()}": graph_emulator.connection_json(default_user_id=ORGANIZER_ID),
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = env[f"AIRFLOW_CONN_{CONN_ID.upper()}"]
    try:
        with OnlineMeetingsHook(CONN_ID) as hook:
            start = datetime.datetime(2030, 3, 5, 9, 0, tzinfo=datetime.timezone.utc)
            join_url = hook.create_or_get_event(
                "large-recording", subject="Lecture", start=start, end=start + datetime.timedelta(hours=1)
            ).join_url
    finally:
        os.environ.pop(f"AIRFLOW_CONN_{CONN_ID.upper()}", None)
    held = graph_emulator.hold_meeting(join_url, attendees=[], recording_size=RECORDING_SIZE)

    done = subprocess.run(
        [sys.executable, "-c", DOWNLOAD % {"conn_id": CONN_ID}, join_url, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    [path] = [Path(p) for p in result["paths"]]
    assert path.stat().st_size == RECORDING_SIZE
    assert sha256_of(path) == held["recordingSha256"]
    growth = result["after"] - result["before"]
    print(
        f"control {result['control'] / 2**20:.0f} MiB; recording {RECORDING_SIZE / 2**20:.1f} MiB in {result['seconds']:.1f}s "
        f"({RECORDING_SIZE / 2**20 / result['seconds']:.0f} MiB/s), peak RSS growth {growth / 2**20:.1f} MiB"
    )
    assert growth < MAX_GROWTH, f"peak RSS grew by {growth / 2**20:.1f} MiB"
    assert result["control"] > RECORDING_SIZE * 0.9, "the measurement does not see memory use"


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-s"])
