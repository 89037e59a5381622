"""Rules the emulator had written twice, with different results: now one piece of code owns each.

Each test here failed while the two copies disagreed (docs/emulator.md says which side was kept).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from meetings_emulator.config import EmulatorConfig, SeedUser, default_users
from meetings_emulator.errors import GraphError
from meetings_emulator.event_instances import occurrences, window_ticks
from meetings_emulator.event_times import to_utc_ticks
from meetings_emulator.events import EventStore
from meetings_emulator.meetings import MeetingStore
from meetings_emulator.service import EmulatorService

ADELE = default_users()[0]


def test_an_instances_window_is_read_to_the_tick_as_every_graph_date_time() -> None:
    # A daily series at 09:00 UTC; the window ends half a second after that day's start, so
    # the occurrence overlaps it (the window's fraction used to be dropped: it ended at 09:00).
    start = to_utc_ticks("2030-03-05T09:00:00", "UTC", "start")
    master = {
        "start": {"dateTime": "2030-03-05T09:00:00.0000000", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1, "firstDayOfWeek": "sunday"},
            "range": {"type": "numbered", "startDate": "2030-03-05", "numberOfOccurrences": 3},
        },
    }
    window = (window_ticks("2030-03-05T00:00:00Z", "startDateTime"), window_ticks("2030-03-05T09:00:00.5Z", "e"))
    assert [day.isoformat() for day, _, _ in occurrences(master, start, start + 10**10, window, set())] == [
        "2030-03-05"
    ]


@pytest.mark.parametrize("value", ["2030-03-05", "2030-03-05T09", "20300305T090000Z"])
def test_an_instances_window_needs_a_date_and_time(value: str) -> None:
    with pytest.raises(GraphError) as refused:
        window_ticks(value, "startDateTime")
    assert refused.value.status == 400


def test_meetings_and_events_read_one_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2031-01-02T03:04:05.1234567Z in 100 ns ticks: the seventh digit is not 0.
    ticks = 19_250_894_451_234_567
    monkeypatch.setattr(time, "time_ns", lambda: ticks * 100)
    _, meeting = MeetingStore().create_or_get("t", ADELE, {"externalId": "clock"})
    body = {
        "subject": "Clock",
        "start": {"dateTime": "2031-01-02T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2031-01-02T10:00:00", "timeZone": "UTC"},
    }
    _, event = EventStore().create("t", ADELE, body, lambda start, end, subject: "")
    assert meeting["creationDateTime"] == event.resource["createdDateTime"] == "2031-01-02T03:04:05.1234567Z"


@pytest.mark.parametrize(
    "user_id",
    [
        "0b6c2a1e4f3d4a5b8c9d1e2f3a4b5c09",
        "{0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c09}",
        "urn:uuid:0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c09",
    ],
)
def test_a_user_id_is_an_object_id_written_as_entra_writes_it(user_id: str) -> None:
    # onlineMeetings routes only resolve the 8-4-4-4-12 form: a user with another spelling of a
    # GUID could be added, then never found there.
    with pytest.raises(ValueError, match="not an Entra object id"):
        SeedUser(user_id, "dana@contoso.example", "Dana Scully")
    upper = SeedUser("0B6C2A1E-4F3D-4A5B-8C9D-1E2F3A4B5C09", "dana@contoso.example", "Dana Scully")
    assert upper.id == "0B6C2A1E-4F3D-4A5B-8C9D-1E2F3A4B5C09"  # the 8-4-4-4-12 form in any case is accepted


def test_the_mailbox_retry_after_is_checked_like_the_rate_limits() -> None:
    with pytest.raises(ValueError, match="retry_after"):
        EmulatorService(EmulatorConfig(rate_limit_retry_after=-1))
    with pytest.raises(ValueError, match="retry_after"):
        EmulatorService(EmulatorConfig(mailbox_retry_after=-1))
    service = EmulatorService(EmulatorConfig(rate_limit_retry_after="2.5", mailbox_retry_after="2.5"))  # type: ignore[arg-type]
    stats = service.stats_json()
    assert stats["rate_limit_retry_after"] == stats["mailbox_retry_after"] == 2.5
    service.reset()
    assert service.stats_json()["mailbox_retry_after"] == 2.5


def test_one_atomic_writer_leaves_no_temporary_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from meetings_emulator import persistence

    target = tmp_path / "ready.json"
    persistence.write_atomically(target, "{}")
    assert target.read_text() == "{}"

    def fail(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        persistence.write_atomically(target, '{"new": 1}')
    assert target.read_text() == "{}"
    assert os.listdir(tmp_path) == ["ready.json"]
