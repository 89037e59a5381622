"""artifacts/destinations.py: a whole file written under a temporary name and moved into place."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_meetings.artifacts.destinations import LocalFolder


def test_a_file_is_written_whole_under_its_final_name(tmp_path: Path) -> None:
    path = LocalFolder(tmp_path).write_file("meeting-abc", "attendance.csv", b"a,b\n")
    assert Path(path) == tmp_path / "meeting-abc" / "attendance.csv"
    assert [p.name for p in (tmp_path / "meeting-abc").iterdir()] == ["attendance.csv"]
    assert Path(path).read_bytes() == b"a,b\n"


class BrokenFile:
    """A file whose write fails (a full disk, a dropped upload)."""

    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    destination = LocalFolder(tmp_path)
    discarded = []

    class Failing(LocalFolder):
        def open_temporary(self, folder: str, name: str):
            file, handle = destination.open_temporary(folder, name)
            file.close()
            return BrokenFile(), (file, handle)

        def discard(self, file, handle) -> None:
            discarded.append(name)
            destination.discard(*handle)

    name = "attendance.json"
    with pytest.raises(OSError, match="No space left"):
        Failing(tmp_path).write_file("meeting-abc", name, b"{}")
    assert discarded == [name]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
