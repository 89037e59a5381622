"""Helpers of the e2e tests: the sample events at a date the scheduler runs, runs and reports.

The scheduler never starts a run whose logical date lies in the future ("Logical date is
in future"), and the sample events (``dags/data/events.csv``) are on 2026-12-07/08, the
date ``make demo`` books them for with ``airflow dags test``. The e2e tests therefore move
every event by the same whole number of days to a recent past day: same keys, titles,
organizers, attendees and times of day, so the same meetings (their external ids come from
the event keys).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DAG_ID = "teams_meetings_from_events"
MAPPED_TASK = "create_or_get_meeting"
REPORT_TASK = "write_report"
#: The mapped task that deletes cancelled events' meetings; no sample event is cancelled, so
#: it maps over nothing and Airflow marks it skipped.
CANCEL_TASK = "cancel_meeting"


def not_successful(states: Mapping[str, str | None]) -> dict[str, str | None]:
    """The task instances of a run that did not succeed (a successful events run: only
    :data:`CANCEL_TASK`, skipped)."""
    return {name: state for name, state in states.items() if state != "success"}


#: The logical date ``make demo`` runs the events DAG for (06:00 Paris on the sample day).
SAMPLE_ANCHOR = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)
#: The sample events span 27 hours from the anchor; 48 takes them all.
HORIZON_HOURS = 48


def past_anchor(days_ago: int, now: datetime | None = None) -> datetime:
    """05:00 UTC (the DAG's 06:00 Paris tick) ``days_ago`` days before today."""
    now = now or datetime.now(timezone.utc)
    return (now - timedelta(days=days_ago)).replace(hour=5, minute=0, second=0, microsecond=0)


def _parse(value: str) -> datetime:
    # Python 3.10's fromisoformat does not read a trailing Z.
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)


def write_shifted_events(source: Path, target: Path, anchor: datetime) -> list[dict[str, str]]:
    """Copy the events file with every ``start``/``end`` moved by ``anchor - SAMPLE_ANCHOR``
    (whole days); returns the rows written."""
    delta = timedelta(days=(anchor - SAMPLE_ANCHOR).days)
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [dict(row) for row in reader]
    for row in rows:
        for column in ("start", "end"):
            if row.get(column):
                row[column] = (_parse(row[column]) + delta).isoformat()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def external_id(event_key: str) -> str:
    """The meeting's external id for an event (as ``meetings_dag_helpers.events`` builds it)."""
    return f"{DAG_ID}-{event_key}"


def meetings_by_external_id(meetings: Iterable[Mapping[str, Any]], prefix: str) -> Counter[str]:
    """How many meetings the emulator holds per external id starting with ``prefix``."""
    return Counter(m["external_id"] for m in meetings if str(m.get("external_id", "")).startswith(prefix))


def assert_meetings_exactly_once(emulator: Any, expected_external_ids: Iterable[str], prefix: str) -> dict[str, Any]:
    """Every expected meeting exists exactly once, and no other with ``prefix``; returns them by external id."""
    held = emulator.meetings()
    counts = meetings_by_external_id(held, prefix)
    assert counts == Counter(set(expected_external_ids)), f"meetings per external id: {dict(counts)}"
    return {m["external_id"]: m["meeting"] for m in held if m["external_id"] in counts}


def read_report(path: Path) -> dict[str, dict[str, str]]:
    """The DAG's ``meetings.csv`` by event key."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["event_key"]: row for row in csv.DictReader(handle)}


@dataclass
class EventsRun:
    """One triggered run of ``teams_meetings_from_events`` over a shifted events file.

    :param api: the REST API client.
    :param run_id: the DAG run's id.
    :param anchor: its logical date.
    :param events: the rows of its events file.
    """

    api: Any
    run_id: str
    anchor: datetime
    events: list[dict[str, str]]

    @classmethod
    def trigger(
        cls, api: Any, *, anchor: datetime, events_file: Path, events: list[dict[str, str]], output_dir: Path
    ) -> EventsRun:
        """Trigger the run through the REST API, then unpause the DAG (a paused DAG's runs wait)."""
        run = api.trigger(
            DAG_ID,
            logical_date=anchor.isoformat(),
            conf={"events_file": str(events_file), "horizon_hours": HORIZON_HOURS, "output_dir": str(output_dir)},
        )
        api.set_paused(DAG_ID, False)
        return cls(api=api, run_id=run["dag_run_id"], anchor=anchor, events=events)

    @property
    def expected_external_ids(self) -> set[str]:
        return {external_id(row["event_key"]) for row in self.events}

    def wait(self, timeout: float) -> dict[str, Any]:
        return self.api.wait_for_run(DAG_ID, self.run_id, timeout=timeout)

    def task_instances(self) -> list[dict[str, Any]]:
        return self.api.task_instances(DAG_ID, self.run_id)

    def mapped(self, instances: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The mapped meeting tasks, by map index."""
        instances = self.task_instances() if instances is None else instances
        return sorted((ti for ti in instances if ti["task_id"] == MAPPED_TASK), key=lambda ti: ti["map_index"])

    def report(self) -> dict[str, dict[str, str]]:
        """The report the run wrote (its path is the report task's return value)."""
        path = self.api.xcom(DAG_ID, self.run_id, REPORT_TASK)
        return read_report(Path(path))

    def meeting_of(self, map_index: int) -> dict[str, Any]:
        """The meeting a mapped task returned (its ``return_value`` XCom)."""
        return self.api.xcom(DAG_ID, self.run_id, MAPPED_TASK, map_index=map_index)
