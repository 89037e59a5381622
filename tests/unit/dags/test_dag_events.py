"""Reading and validating the events file of ``teams_meetings_from_events``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from meetings_dag_helpers.events import (
    Event,
    EventsFileError,
    bulk_items,
    cancel_kwargs,
    chunks,
    event_external_id,
    event_key_of,
    meeting_kwargs,
    parse_event,
    parse_events,
    read_events_file,
    resolve_events_file,
)
from meetings_dag_helpers.window import starting_in

UTC = timezone.utc
DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
ROW = {
    "event_key": "interview-1",
    "title": "Interview",
    "start": "2026-12-07T09:00:00+01:00",
    "end": "2026-12-07T09:45:00+01:00",
    "organizer": "adelev@contoso.example",
    "attendees": "alexw@contoso.example; 0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c03",
}


def test_parse_event_full_row() -> None:
    event = parse_event(ROW)
    assert event == Event(
        key="interview-1",
        title="Interview",
        start=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        end=datetime(2026, 12, 7, 8, 45, tzinfo=UTC),
        organizer="adelev@contoso.example",
        attendees=("alexw@contoso.example", "0b6c2a1e-4f3d-4a5b-8c9d-1e2f3a4b5c03"),
    )


def test_parse_event_optional_columns_empty() -> None:
    event = parse_event({**ROW, "end": "", "organizer": " ", "attendees": ""})
    assert (event.end, event.organizer, event.attendees) == (None, None, ())


@pytest.mark.parametrize(
    ("status", "cancelled"),
    [
        pytest.param(None, False, id="no status column"),
        pytest.param("", False, id="empty"),
        pytest.param("scheduled", False, id="scheduled"),
        pytest.param("cancelled", True, id="cancelled"),
        pytest.param(" Canceled ", True, id="US spelling, any case"),
    ],
)
def test_parse_event_status(status: str | None, cancelled: bool) -> None:
    row = dict(ROW) if status is None else {**ROW, "status": status}
    assert parse_event(row).cancelled is cancelled


def test_cancel_kwargs_name_the_meeting_only() -> None:
    event = parse_event({**ROW, "status": "cancelled"})
    assert cancel_kwargs(event, dag_id="dag", default_organizer="x@contoso.example") == {
        "external_id": "dag-interview-1",
        "user_id": "adelev@contoso.example",
    }
    no_organizer = parse_event({**ROW, "organizer": "", "status": "cancelled"})
    assert cancel_kwargs(no_organizer, dag_id="dag", default_organizer="") == {"external_id": "dag-interview-1"}


def test_parse_event_json_attendee_list() -> None:
    event = parse_event({**ROW, "attendees": ["alexw@contoso.example"]})
    assert event.attendees == ("alexw@contoso.example",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"event_key": ""}, "event_key missing", id="no-key"),
        pytest.param({"title": None}, "title missing", id="no-title"),
        pytest.param({"start": ""}, "start missing", id="no-start"),
        pytest.param({"start": "2026-12-07T09:00:00"}, "no timezone", id="naive-start"),
        pytest.param({"end": "tomorrow"}, "not an ISO-8601", id="bad-end"),
        pytest.param({"end": "2026-12-07T08:00:00Z"}, "not after start", id="end-before-start"),
        pytest.param({"organizer": "Adele Vance"}, "neither an Entra object id", id="bad-organizer"),
        pytest.param({"attendees": "alexw@contoso.example;not a user"}, "neither", id="bad-attendee"),
        pytest.param({"attendees": 42}, "list", id="attendees-not-list"),
        pytest.param({"title": "{{ conn.msgraph_meetings_default.password }}"}, "Jinja", id="template-in-title"),
        pytest.param({"event_key": "a{%b"}, "Jinja", id="template-in-key"),
        pytest.param({"title": "two\nlines"}, "control characters", id="newline"),
        pytest.param({"organiser": "x"}, "unknown column", id="typo-column"),
        pytest.param({"title": 7}, "must be text", id="number-title"),
        pytest.param({"status": "postponed"}, "status must be empty, 'scheduled' or 'cancelled'", id="bad-status"),
    ],
)
def test_parse_event_refuses(changes: dict, message: str) -> None:
    with pytest.raises(EventsFileError, match=message) as info:
        parse_event({**ROW, **changes}, where="line 3")
    assert str(info.value).startswith("line 3: ")


CSV = """event_key,title,start,end,organizer,attendees
a,First,2026-12-07T09:00:00+01:00,,,
b,"Second, with comma",2026-12-07T10:00:00Z,2026-12-07T11:00:00Z,alexw@contoso.example,meganb@contoso.example

"""


def test_parse_events_csv_skips_blank_lines() -> None:
    events = parse_events(CSV, suffix=".csv")
    assert [e.key for e in events] == ["a", "b"]
    assert events[1].title == "Second, with comma"


def test_parse_events_json() -> None:
    text = json.dumps([{"event_key": "a", "title": "T", "start": "2026-12-07T09:00:00Z"}])
    assert [e.key for e in parse_events(text, suffix=".JSON")] == ["a"]


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        pytest.param(CSV + "a,Again,2026-12-08T09:00:00Z,,,\n", ".csv", "repeats line 2", id="duplicate-key"),
        pytest.param("event_key,title,start\na,T,2026-12-07T09:00:00Z,extra\n", ".csv", "more values", id="extra-cell"),
        pytest.param("{}", ".json", "list of objects", id="json-not-list"),
        pytest.param("[", ".json", "not valid JSON", id="json-broken"),
        pytest.param("", ".xlsx", "unsupported", id="suffix"),
    ],
)
def test_parse_events_refuses(text: str, suffix: str, message: str) -> None:
    with pytest.raises(EventsFileError, match=message):
        parse_events(text, suffix=suffix)


def test_read_events_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("event_key,title,start\nx,T,yesterday\n")
    with pytest.raises(EventsFileError, match=r"events\.csv: line 2: start"):
        read_events_file(path)
    with pytest.raises(EventsFileError, match="cannot read"):
        read_events_file(tmp_path / "missing.csv")


def test_resolve_events_file(tmp_path: Path) -> None:
    assert resolve_events_file("data/events.csv", DAGS_DIR) == DAGS_DIR / "data" / "events.csv"
    assert resolve_events_file(str(tmp_path / "e.csv"), DAGS_DIR) == tmp_path / "e.csv"


def test_the_window_is_half_open_and_sorted() -> None:
    start = datetime(2026, 12, 7, 5, tzinfo=UTC)
    events = [
        Event("late", "T", start + timedelta(hours=3)),
        Event("at-end", "T", start + timedelta(days=1)),
        Event("at-start", "T", start),
        Event("before", "T", start - timedelta(seconds=1)),
    ]
    assert [e.key for e in starting_in(events, start, start + timedelta(days=1))] == ["at-start", "late"]


def test_meeting_kwargs_defaults() -> None:
    event = Event("k1", "Title", datetime(2026, 12, 7, 8, tzinfo=UTC))
    kwargs = meeting_kwargs(
        event, dag_id="dag", default_organizer="adelev@contoso.example", default_duration=timedelta(minutes=30)
    )
    assert kwargs == {
        "external_id": "dag-k1",
        "subject": "Title",
        "start_date_time": "2026-12-07T08:00:00+00:00",
        "end_date_time": "2026-12-07T08:30:00+00:00",
        "user_id": "adelev@contoso.example",
    }
    json.dumps(kwargs)  # XCom-able


def test_meeting_kwargs_event_values_win() -> None:
    event = parse_event(ROW)
    kwargs = meeting_kwargs(
        event, dag_id="dag", default_organizer="x@contoso.example", default_duration=timedelta(minutes=30)
    )
    assert kwargs["user_id"] == "adelev@contoso.example"
    assert kwargs["end_date_time"] == "2026-12-07T08:45:00+00:00"
    assert kwargs["participants"] == {"attendees": list(event.attendees)}


def test_meeting_kwargs_empty_default_organizer_leaves_it_to_the_connection() -> None:
    event = Event("k1", "Title", datetime(2026, 12, 7, 8, tzinfo=UTC))
    kwargs = meeting_kwargs(event, dag_id="dag", default_organizer="", default_duration=timedelta(minutes=30))
    assert "user_id" not in kwargs


def test_external_id_round_trip() -> None:
    assert event_external_id("dag", "course-1") == "dag-course-1"
    assert event_key_of("dag", "dag-course-1") == "course-1"
    assert event_key_of("dag", "other-course-1") == "other-course-1"


def test_sample_events_file_is_valid() -> None:
    events = read_events_file(DAGS_DIR / "data" / "events.csv")
    assert len(events) >= 4
    day = datetime(2026, 12, 7, 5, tzinfo=UTC)  # the demo's run: 06:00 Europe/Paris
    assert 0 < len(starting_in(events, day, day + timedelta(days=1))) < len(events)


def test_bulk_items_meetings_and_cancellations() -> None:
    kept = parse_event(ROW)
    gone = parse_event({**ROW, "event_key": "interview-2", "status": "cancelled"})
    items = bulk_items(
        [kept, gone], dag_id="dag", default_organizer="x@contoso.example", default_duration=timedelta(minutes=30)
    )
    assert items[0] == meeting_kwargs(
        kept, dag_id="dag", default_organizer="x@contoso.example", default_duration=timedelta(minutes=30)
    )
    assert items[1] == {"external_id": "dag-interview-2", "user_id": "adelev@contoso.example", "cancelled": True}


@pytest.mark.parametrize(
    ("n", "count", "sizes"),
    [(10, 4, [3, 3, 2, 2]), (4, 4, [1, 1, 1, 1]), (3, 4, [1, 1, 1]), (0, 4, []), (7, 1, [7])],
)
def test_chunks_are_consecutive_nearly_equal_and_never_empty(n: int, count: int, sizes: list[int]) -> None:
    items = list(range(n))
    parts = chunks(items, count)
    assert [len(p) for p in parts] == sizes
    assert [x for p in parts for x in p] == items


def test_chunks_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        chunks([1], 0)
