"""artifacts/sessions.py: ``not_before`` keeps what the sessions from then on left."""

from __future__ import annotations

import datetime as dt

from airflow_provider_meetings.artifacts.sessions import ARTIFACT_CREATED, REPORT_START, since

NINE = dt.datetime(2026, 12, 7, 9, tzinfo=dt.timezone.utc)


def test_without_not_before_everything_counts() -> None:
    items = [{"id": "a", REPORT_START: "2026-11-30T09:00:00Z"}]
    assert since(iter(items), REPORT_START, None) == items


def test_items_dated_before_are_left_out_in_order() -> None:
    reports = [
        {"id": "last-week", REPORT_START: "2026-11-30T08:58:00.1234567Z"},
        {"id": "on-time", REPORT_START: "2026-12-07T09:00:00Z"},
        {"id": "later", REPORT_START: "2026-12-07T10:05:00+01:00"},  # 09:05 UTC
        {"id": "just-before", REPORT_START: "2026-12-07T09:59:59+01:00"},  # 08:59:59 UTC
    ]
    assert [r["id"] for r in since(reports, REPORT_START, NINE)] == ["on-time", "later"]


def test_transcripts_and_recordings_go_by_created() -> None:
    files = [
        {"id": "t1", ARTIFACT_CREATED: "2026-11-30T09:10:00Z"},
        {"id": "t2", ARTIFACT_CREATED: "2026-12-07T09:10:00Z"},
    ]
    assert [f["id"] for f in since(files, ARTIFACT_CREATED, NINE)] == ["t2"]


def test_an_item_without_a_readable_time_is_kept() -> None:
    files = [{"id": "none"}, {"id": "null", ARTIFACT_CREATED: None}, {"id": "bad", ARTIFACT_CREATED: "yesterday"}]
    assert [f["id"] for f in since(files, ARTIFACT_CREATED, NINE)] == ["none", "null", "bad"]


def test_a_time_without_offset_is_utc_as_graph_means_it() -> None:
    files = [
        {"id": "before", ARTIFACT_CREATED: "2026-12-07T08:59:59"},
        {"id": "at", ARTIFACT_CREATED: "2026-12-07T09:00:00.0000000"},
    ]
    assert [f["id"] for f in since(files, ARTIFACT_CREATED, NINE)] == ["at"]
