"""A recording is streamed as it is generated: the emulator process's memory stays flat.

The emulator runs in its own process (its RSS is then its own); the download is 20 MiB
(the 100 MiB figure of the issue belongs to ``make bench``/``make e2e``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from artifact_testlib import calendar_meeting, meeting_path, segment
from emulator_testlib import GRAPH_SCOPE, make_app, make_session

from meetings_emulator import start_emulator_process
from meetings_emulator.recording_stream import BLOCK_SIZE

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (``VmHWM``) in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_20_mib_recording_is_served_without_the_emulator_growing(tmp_path: Path) -> None:
    with start_emulator_process(ca_file=str(tmp_path / "ca.pem")) as emu:
        session = make_session(emu.ca_path)
        token = make_app(emu).acquire_token_for_client(GRAPH_SCOPE)["access_token"]

        def graph(method: str, path: str, **kwargs: Any) -> Any:
            headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
            return session.request(method, f"{emu.url}/v1.0{path}", headers=headers, timeout=30, **kwargs)

        join_url = calendar_meeting(graph, emu.default_user_id)

        def download(size: int) -> None:
            held = emu.hold_meeting(join_url, attendees=[], recording_size=size)
            path = meeting_path(emu.default_user_id, held["meetingId"])
            response = graph("GET", f"{path}/recordings/{segment(held['recordingId'])}/content", stream=True)
            digest, received = hashlib.sha256(), 0
            for chunk in response.iter_content(BLOCK_SIZE):
                digest.update(chunk)
                received += len(chunk)
            assert (received, digest.hexdigest()) == (size, held["recordingSha256"])

        download(2 * MIB)  # warm up: TLS buffers, code paths, allocator arenas
        before = _peak_rss(emu.process.pid)
        download(20 * MIB)
        grown = _peak_rss(emu.process.pid) - before
    # Holding (hashing) and serving work one 64 KiB block at a time; a body built in memory
    # would add at least 20 MiB.
    assert grown < 4 * MIB, f"peak RSS grew by {grown / MIB:.1f} MiB"
