"""The fetch operator without a network: arguments, and writing a small file whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_meetings.artifacts.destinations import LocalFolder
from airflow_provider_meetings.operators.meeting_artifacts import FetchTeamsMeetingArtifactsOperator, write_whole


def test_defaults_and_templated_fields() -> None:
    task = FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", external_id="interview-1")
    assert task.artifacts == ("attendance", "transcript", "recording")
    assert set(task.template_fields) == {"destination", "meeting_id", "join_url", "external_id", "user_id"}
    assert task.template_ext == ()


def test_unknown_artifacts_fail_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"unknown artifact\(s\) \['chat'\]"):
        FetchTeamsMeetingArtifactsOperator(task_id="store", destination="/data", meeting_id="m", artifacts=["chat"])


def test_a_file_is_written_whole_under_its_final_name(tmp_path: Path) -> None:
    path = write_whole(LocalFolder(tmp_path), "meeting-abc", "attendance.csv", b"a,b\n")
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
        write_whole(Failing(tmp_path), "meeting-abc", name, b"{}")
    assert discarded == [name]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
