"""Reading and validating the interview schedule of ``teams_interview_loop``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from meetings_dag_helpers.interviews import (
    DEFAULT_COMMENT,
    ScheduleError,
    cancel_kwargs,
    event_kwargs,
    parse_interview,
    parse_schedule,
    read_schedule,
)
from meetings_dag_helpers.window import starting_in

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
ROW = {
    "interview_key": "de-1",
    "role": "Data engineer",
    "candidate": "Ada <Lovelace>",
    "candidate_email": "ada@example.org",
    "start": "2026-12-07T10:00:00+01:00",
    "end": "2026-12-07T11:00:00+01:00",
    "panel": "alexw@contoso.example; meganb@contoso.example",
    "optional": "lynner@contoso.example",
    "status": "",
    "comment": "",
}


def test_the_sample_schedule_parses() -> None:
    interviews = read_schedule(DAGS_DIR / "data" / "interviews.csv")
    assert [i.key for i in interviews] == ["de-4711-tech", "de-4712-tech", "ml-0815-final"]
    assert not any(i.cancelled for i in interviews)


def test_event_kwargs_invite_the_candidate_and_the_panel() -> None:
    kwargs = event_kwargs(
        parse_interview(ROW), dag_id="loop", organizer="hr@contoso.example", time_zone="Europe/Berlin"
    )
    assert kwargs["external_id"] == "loop-de-1"
    assert kwargs["subject"] == "Interview: Ada <Lovelace> (Data engineer)"
    assert kwargs["attendees"] == [
        {"address": "ada@example.org", "name": "Ada <Lovelace>", "type": "required"},
        {"address": "alexw@contoso.example", "type": "required"},
        {"address": "meganb@contoso.example", "type": "required"},
        {"address": "lynner@contoso.example", "type": "optional"},
    ]
    assert "Ada &lt;Lovelace&gt;" in kwargs["body"]  # the body is HTML
    assert (kwargs["start"], kwargs["user_id"], kwargs["time_zone"]) == (
        "2026-12-07T10:00:00+01:00",
        "hr@contoso.example",
        "Europe/Berlin",
    )
    assert "user_id" not in event_kwargs(parse_interview(ROW), dag_id="loop", organizer="", time_zone=None)


def test_cancelled_interviews_carry_their_comment() -> None:
    interview = parse_interview({**ROW, "status": "Cancelled", "comment": "Filled"})
    assert interview.cancelled
    assert cancel_kwargs(interview, dag_id="loop", organizer=None) == {"external_id": "loop-de-1", "comment": "Filled"}
    no_comment = parse_interview({**ROW, "status": "canceled"})
    assert cancel_kwargs(no_comment, dag_id="loop", organizer="x@y.z")["comment"] == DEFAULT_COMMENT


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"panel": ""}, "panel missing"),
        ({"candidate_email": "Ada Lovelace"}, "not an e-mail address"),
        ({"start": "2026-12-07T10:00:00"}, "has no timezone"),
        ({"end": "2026-12-07T09:00:00+01:00"}, "is not after start"),
        ({"status": "maybe"}, "status must be"),
        ({"candidate": "{{ var.value.secret }}"}, "Jinja"),
        ({"extra": "x"}, "unknown column"),
    ],
)
def test_bad_rows_are_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_interview({**ROW, **change})


def test_repeated_keys_are_refused_and_the_window_is_half_open() -> None:
    header = ",".join(ROW)
    line = ",".join(f'"{v}"' for v in ROW.values())
    with pytest.raises(ScheduleError, match="repeats line 2"):
        parse_schedule(f"{header}\n{line}\n{line}\n")
    (interview,) = parse_schedule(f"{header}\n{line}\n\n")
    start = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    assert starting_in([interview], start, start.replace(hour=10)) == [interview]
    assert starting_in([interview], start.replace(hour=8), start) == []


@pytest.mark.parametrize(
    ("start", "utc"),
    [
        pytest.param("2026-12-07T10:00:00+01:00", datetime(2026, 12, 7, 9, tzinfo=timezone.utc), id="offset"),
        pytest.param("2026-12-07T09:00:00z", datetime(2026, 12, 7, 9, tzinfo=timezone.utc), id="lower-case-z"),
        pytest.param(
            "2026-12-07T09:00:00.5000000Z",
            datetime(2026, 12, 7, 9, 0, 0, 500000, tzinfo=timezone.utc),
            id="graph-7-digits",
        ),
    ],
)
def test_times_are_read_as_the_events_file_reads_them(start: str, utc: datetime) -> None:
    from meetings_dag_helpers.events import parse_event

    interview = parse_interview({**ROW, "start": start})
    event = parse_event({"event_key": "k", "title": "T", "start": start})
    assert interview.start == event.start == utc


def test_an_interview_keeps_the_offset_of_the_file() -> None:
    interview = parse_interview(ROW)
    assert interview.start.isoformat() == "2026-12-07T10:00:00+01:00"  # the instant as the file writes it
