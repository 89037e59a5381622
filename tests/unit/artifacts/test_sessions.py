"""artifacts/sessions.py: a window of session starts (``not_before``, ``before``) keeps what those sessions left."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_meetings.artifacts.sessions import ALL_SESSIONS, ARTIFACT_CREATED, REPORT_START, SessionWindow

NINE = dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc)


def test_without_not_before_everything_counts() -> None:
    items = [{"id": "a", REPORT_START: "2026-11-30T09:00:00Z"}]
    assert ALL_SESSIONS.keep(iter(items), REPORT_START) == items


def test_items_dated_before_are_left_out_in_order() -> None:
    reports = [
        {"id": "last-week", REPORT_START: "2026-11-30T08:58:00.1234567Z"},
        {"id": "on-time", REPORT_START: "2026-12-07T09:00:00Z"},
        {"id": "later", REPORT_START: "2026-12-07T10:05:00+01:00"},  # 09:05 UTC
        {"id": "just-before", REPORT_START: "2026-12-07T09:59:59+01:00"},  # 08:59:59 UTC
    ]
    assert [r["id"] for r in SessionWindow(NINE).keep(reports, REPORT_START)] == ["on-time", "later"]


@pytest.mark.parametrize(
    ("created", "kept"),
    [
        ({"t1": "2026-11-30T09:10:00Z", "t2": "2026-12-07T09:10:00Z"}, ["t2"]),
        ({"none": None, "bad": "yesterday", "blank": " "}, ["none", "bad", "blank"]),  # no readable time: kept
        (
            {"before": "2026-12-07T08:59:59", "at": "2026-12-07T09:00:00.0000000"},
            ["at"],
        ),  # no offset: UTC, as Graph means it
    ],
    ids=["by created", "unreadable kept", "no offset is UTC"],
)
def test_transcripts_and_recordings_go_by_created(created, kept) -> None:
    files = [{"id": key} if value is None else {"id": key, ARTIFACT_CREATED: value} for key, value in created.items()]
    assert [f["id"] for f in SessionWindow(NINE).keep(files, ARTIFACT_CREATED)] == kept


def test_before_is_the_first_start_that_no_longer_counts() -> None:
    weekly = [{"id": f"w{d}", REPORT_START: f"2026-12-{d:02d}T09:00:00Z"} for d in (7, 14, 21)]
    window = SessionWindow(NINE, NINE.replace(day=14))
    assert [r["id"] for r in window.keep(weekly, REPORT_START)] == ["w7"]
    assert [r["id"] for r in SessionWindow(before=NINE.replace(day=14)).keep(weekly, REPORT_START)] == ["w7"]
    assert [r["id"] for r in SessionWindow(NINE.replace(day=14)).keep(weekly, REPORT_START)] == ["w14", "w21"]
