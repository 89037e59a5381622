"""Optional persistence of meetings, events, policy changes and users added at run time to a JSON file."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from meetings_emulator.config import SeedUser
from meetings_emulator.events import StoredEvent
from meetings_emulator.meetings import StoredMeeting

STATE_VERSION = 1


@dataclass
class PersistedState:
    """What survives a restart.

    :param meetings: stored meetings.
    :param policies: user id -> granted, only where it differs from the seed.
    :param users: users added at run time (not those configured at start-up).
    """

    meetings: list[StoredMeeting] = field(default_factory=list)
    policies: dict[str, bool] = field(default_factory=dict)
    users: list[SeedUser] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)


def load_state(path: str | os.PathLike[str]) -> PersistedState:
    """Read a state file; a missing or empty file is an empty state."""
    file = Path(path)
    if not file.exists() or not file.read_text().strip():
        return PersistedState()
    data = json.loads(file.read_text())
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{file}: unsupported emulator state version {data.get('version')!r}")
    return PersistedState(
        meetings=[StoredMeeting.from_json(m) for m in data.get("meetings", [])],
        policies={str(k): bool(v) for k, v in data.get("policies", {}).items()},
        users=[SeedUser.from_json(u) for u in data.get("users", [])],
        events=[StoredEvent.from_json(e) for e in data.get("events", [])],
    )


def save_state(
    path: str | os.PathLike[str],
    meetings: list[StoredMeeting],
    policies: dict[str, bool],
    users: list[SeedUser] | None = None,
    events: list[StoredEvent] | None = None,
) -> None:
    """Write the state atomically (a temp file in the same directory, then ``os.replace``).

    :param path: the state file.
    :param meetings: every stored meeting.
    :param policies: user id -> granted, where it differs from the user's ``has_policy``.
    :param users: users added at run time.
    :param events: every stored calendar event (cancelled and deleted ones too).
    """
    payload = {
        "version": STATE_VERSION,
        "meetings": [m.to_json() for m in meetings],
        "policies": policies,
        "users": [u.to_json() for u in users or []],
        "events": [e.to_json() for e in events or []],
    }
    write_atomically(path, json.dumps(payload, indent=1))


def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` so that a reader sees the old file or the whole new one, never a part.

    A temp file in the same directory, flushed to disk, then ``os.replace``; the temp file is
    removed if anything fails. The one writer of the state file and the ``--ready-file``.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, file)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
