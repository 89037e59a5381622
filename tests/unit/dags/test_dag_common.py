"""What the readers of the sample DAGs' data files share (``meetings_dag_helpers.common``),
raised as each reader's own error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from meetings_dag_helpers.common import (
    DataFileError,
    check_text,
    csv_rows,
    date_time,
    parse_unique,
    read_data_file,
)
from meetings_dag_helpers.events import EventsFileError, read_events_file
from meetings_dag_helpers.interviews import ScheduleError, read_schedule


class RowError(DataFileError):
    pass


@dataclass(frozen=True)
class Item:
    key: str


def parse_item(row: dict, *, where: str) -> Item:
    return Item(check_text(row.get("key"), "key", where, error=RowError))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(7, "key must be text, got int", id="not-text"),
        pytest.param("a\tb", "control characters", id="tab"),
        pytest.param("{{ conn.x.password }}", "Jinja template marker", id="jinja"),
        pytest.param("{# comment #}", "Jinja template marker", id="jinja-comment"),
    ],
)
def test_check_text_refuses_with_the_readers_error(value: object, message: str) -> None:
    with pytest.raises(RowError, match=f"^line 4: .*{message}"):
        check_text(value, "key", "line 4", error=RowError)


def test_check_text_strips_and_reads_none_as_empty() -> None:
    assert check_text("  a b ", "key", "x", error=RowError) == "a b"
    assert check_text(None, "key", "x", error=RowError) == ""


def test_date_time_in_utc_or_as_written() -> None:
    assert date_time("2026-12-07T10:00:00+01:00", "start", "x", error=RowError) == datetime(
        2026, 12, 7, 9, tzinfo=timezone.utc
    )
    kept = date_time("2026-12-07T10:00:00+01:00", "start", "x", error=RowError, keep_offset=True)
    assert kept is not None and kept.utcoffset() == timedelta(hours=1)
    assert date_time("", "end", "x", error=RowError) is None
    with pytest.raises(RowError, match="^line 2: .*start.*no timezone"):
        date_time("2026-12-07T10:00:00", "start", "line 2", error=RowError)


def test_csv_rows_name_their_line_and_skip_blank_ones() -> None:
    rows = csv_rows('key,title\na,"two\nlines"\n\n , \nb,B\n', error=RowError)
    assert rows == [("line 3", {"key": "a", "title": "two\nlines"}), ("line 6", {"key": "b", "title": "B"})]
    with pytest.raises(RowError, match="^line 2: more values than header columns"):
        csv_rows("key\na,b\n", error=RowError)


def test_parse_unique_refuses_a_repeated_key() -> None:
    rows = [("line 2", {"key": "a"}), ("line 3", {"key": "b"})]
    assert parse_unique(rows, parse_item, key_name="key", error=RowError) == [Item("a"), Item("b")]
    with pytest.raises(RowError, match="^line 4: key 'a' repeats line 2"):
        parse_unique([*rows, ("line 4", {"key": "a"})], parse_item, key_name="key", error=RowError)


def test_read_data_file_names_the_file_and_drops_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(b"\xef\xbb\xbfkey\nx\n")
    assert read_data_file(path, lambda text: text, what="items file", error=RowError) == "key\nx\n"

    def refuse(text: str) -> None:
        raise RowError("line 2: bad")

    with pytest.raises(RowError, match=f"^{path}: line 2: bad$"):
        read_data_file(path, refuse, what="items file", error=RowError)
    with pytest.raises(RowError, match="^cannot read items file .*missing.csv"):
        read_data_file(tmp_path / "missing.csv", lambda text: text, what="items file", error=RowError)


@pytest.mark.parametrize(
    ("read", "error", "header"),
    [
        (read_events_file, EventsFileError, "event_key,title,start"),
        (read_schedule, ScheduleError, "interview_key,candidate,candidate_email,start,end,panel"),
    ],
    ids=["events", "schedule"],
)
def test_both_readers_refuse_a_bad_cell_alike(read, error, header: str, tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    cells = ",".join(["{{ x }}"] + ["x"] * (header.count(",")))
    path.write_text(f"{header}\n{cells}\n", encoding="utf-8")
    with pytest.raises(error, match=r"file\.csv: line 2: \w+ contains a Jinja template marker"):
        read(path)
    assert issubclass(error, DataFileError)
