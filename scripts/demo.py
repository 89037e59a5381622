#!/usr/bin/env python
"""``make demo``: run the sample DAGs against the local Graph emulator, end to end.

1. starts the emulator in a subprocess, its meetings kept in ``.demo/emulator-state.json``;
2. prepares an Airflow home in ``.demo/airflow`` (SQLite, ``airflow db migrate``, the
   repository's ``dags/`` folder, no example DAGs) and the ``teams_meetings`` pool;
3. runs ``airflow dags test`` for both sample DAGs with the emulator as the
   ``msgraph_meetings_default`` connection (output in ``.demo/logs/``);
4. edits a copy of the events file (one event an hour later, one cancelled) and runs the
   events DAG again on it: the moved event's meeting is updated, the cancelled one's
   deleted, the others unchanged;
5. runs the interview loop (``teams_interview_loop``): one Outlook calendar event per
   interview in ``dags/data/interviews.csv``, the candidate and the panel invited;
6. prints the meetings from the DAGs' reports and the interview events with their
   invitations (as the emulator stores them), and stops the emulator.

A second ``make demo`` finds the meetings again (the state file persists): the first run
moves the lecture back and books the cancelled interview again, the edit applies once
more; the interview events are found unchanged. ``rm -rf .demo`` starts from scratch.
Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meetings_emulator import EmulatorProcess

REPO = Path(__file__).resolve().parent.parent
POOL = "teams_meetings"
POOL_SLOTS = 2
CONN_ENV = "AIRFLOW_CONN_MSGRAPH_MEETINGS_DEFAULT"
STEP_TIMEOUT = 240.0
URL_WIDTH = 64


@dataclass(frozen=True)
class DemoDag:
    """A sample DAG and the logical date the demo runs it for (fixed, to match dags/data)."""

    dag_id: str
    logical_date: str
    what: str


DEMO_DAGS = (
    DemoDag("teams_weekly_office_hour", "2026-12-07T07:00:00+00:00", "weekly office hour"),
    DemoDag("teams_meetings_from_events", "2026-12-07T05:00:00+00:00", "one meeting per event"),
)
EVENTS_DAG = DEMO_DAGS[1]
#: The sample DAG that books calendar events (issue 22), at its 07:00 Europe/Berlin cron tick.
INTERVIEW_DAG = DemoDag("teams_interview_loop", "2026-12-07T06:00:00+00:00", "one calendar event per interview")
EVENTS_FILE = REPO / "dags" / "data" / "events.csv"
#: The demo's edit of the events file: this event an hour later, that one cancelled.
MOVED_EVENT, MOVED_BY = "course-ml101-2026-12-07", timedelta(hours=1)
CANCELLED_EVENT = "interview-4711"
STATUS_WIDTH = 9


class DemoError(Exception):
    """A step failed; the message says which and where its log is."""


def airflow_env(base: Mapping[str, str], *, demo_dir: Path, connection_json: str) -> dict[str, str]:
    """The environment of every ``airflow`` command of the demo."""
    home = demo_dir / "airflow"
    env = dict(base)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Explicit, so that a developer's own AIRFLOW__DATABASE__... is never touched.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            CONN_ENV: connection_json,
            "NO_PROXY": ",".join(filter(None, [base.get("NO_PROXY", ""), "127.0.0.1,localhost"])),
        }
    )
    return env


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + line for line in text[-lines:])


def run_step(title: str, args: Sequence[str], *, env: Mapping[str, str], log: Path, hint: str = "") -> None:
    """Run one command, its output appended to ``log``; print one line with the time it took."""
    print(f"  {title} ...", end="", flush=True)
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"\n$ {' '.join(args)}\n")
        handle.flush()
        try:
            result = subprocess.run(
                list(args), env=dict(env), stdout=handle, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT, cwd=REPO
            )
            code: int | str = result.returncode
        except subprocess.TimeoutExpired:
            code = f"no result after {STEP_TIMEOUT:.0f} s"
    if code == 0:
        print(f" ok ({time.monotonic() - started:.1f} s)")
        return
    print(" FAILED")
    print(f"\n  Last lines of {log}:\n{_tail(log)}\n", file=sys.stderr)
    raise DemoError(f"{title} failed (exit {code}); full output in {log}" + (f"\n  {hint}" if hint else ""))


def airflow(*args: str) -> list[str]:
    """An ``airflow`` command line using this interpreter's Airflow."""
    return [sys.executable, "-m", "airflow", *args]


def read_reports(output_dir: Path) -> list[tuple[str, dict[str, str]]]:
    """``(dag_id, row)`` of every ``meetings.csv`` the sample DAGs wrote under ``output_dir``."""
    if str(REPO / "dags") not in sys.path:
        sys.path.insert(0, str(REPO / "dags"))
    from meetings_dag_helpers.outputs import REPORT_FILE, read_report

    rows = []
    for dag in DEMO_DAGS:
        for path in sorted((output_dir / dag.dag_id).glob(f"*/{REPORT_FILE}")):
            rows.extend((dag.dag_id, row) for row in read_report(path))
    return rows


def edit_events(text: str) -> str:
    """The events file with :data:`MOVED_EVENT` moved by :data:`MOVED_BY` and :data:`CANCELLED_EVENT` cancelled."""
    rows = list(csv.DictReader(io.StringIO(text)))
    keys = {row["event_key"] for row in rows}
    if not {MOVED_EVENT, CANCELLED_EVENT} <= keys:
        raise DemoError(f"{EVENTS_FILE} no longer has the events {MOVED_EVENT} and {CANCELLED_EVENT} the demo edits")
    for row in rows:
        if row["event_key"] == MOVED_EVENT:
            for column in ("start", "end"):
                if row[column]:
                    moved = datetime.fromisoformat(row[column].replace("Z", "+00:00")) + MOVED_BY
                    row[column] = moved.isoformat()
        if row["event_key"] == CANCELLED_EVENT:
            row["status"] = "cancelled"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(first: Sequence[tuple[str, dict[str, str]]], edited: Sequence[tuple[str, dict[str, str]]]) -> str:
    """The meetings as a small fixed-width table: each event's status on the first run and
    on the run with the edited events file (``-``: not in that run)."""
    after = {row["event_key"]: row for _, row in edited}
    keys = list(dict.fromkeys([row["event_key"] for _, row in first] + list(after)))
    before = {row["event_key"]: row for _, row in first}
    lines = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        url = (new or {}).get("join_url") or (old or {}).get("join_url") or ""
        lines.append((key, old["status"] if old else "-", new["status"] if new else "-", _shorten(url, URL_WIDTH)))
    header = ("event", "run 1", "edited", "join URL")
    width = max(len(header[0]), *(len(line[0]) for line in lines)) if lines else len(header[0])
    return "\n".join(
        f"  {key:<{width}}  {one:<{STATUS_WIDTH}}  {two:<{STATUS_WIDTH}}  {url}".rstrip()
        for key, one, two, url in [header, *lines]
    )


def summary(rows: Sequence[tuple[str, dict[str, str]]]) -> str:
    """``2 created, 1 updated``: how many rows have each status, in order of appearance."""
    counts: dict[str, int] = {}
    for _, row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "none"


def event_key(event: Mapping[str, Any]) -> str:
    """The external id the provider stored on a calendar event (its extended property), or ``""``."""
    values = [p.get("value", "") for p in event.get("singleValueExtendedProperties") or []]
    return values[0] if values else ""


def interview_events(
    stored: Sequence[Mapping[str, Any]], before: Mapping[str, str], dag_id: str = INTERVIEW_DAG.dag_id
) -> list[dict[str, Any]]:
    """The interview loop's events among the emulator's (``GET /_emulator/events``), each with
    what this run did to it: ``created`` (not there before), ``updated`` (its ``changeKey``
    changed), ``unchanged``; ``cancelled`` for a cancelled one.

    :param stored: the emulator's events
    :param before: ``changeKey`` by event id before the run
    :param dag_id: the DAG whose events to show (external ids ``<dag_id>-<interview key>``)
    """
    rows = []
    for record in stored:
        event = record["event"]
        key = event_key(event)
        if not key.startswith(f"{dag_id}-") or record.get("state") == "deleted":
            continue
        if record.get("state") == "cancelled":
            status = "cancelled"
        elif event["id"] not in before:
            status = "created"
        else:
            status = "updated" if before[event["id"]] != event.get("changeKey") else "unchanged"
        rows.append(
            {
                "key": key[len(dag_id) + 1 :],
                "status": status,
                "subject": event.get("subject", ""),
                "start": event["start"],
                "end": event["end"],
                "organizer": event.get("organizer", {}).get("emailAddress", {}).get("address", ""),
                "attendees": [(a["emailAddress"]["address"], a.get("type", "required")) for a in event["attendees"]],
                "join_url": (event.get("onlineMeeting") or {}).get("joinUrl") or "",
            }
        )
    return sorted(rows, key=lambda row: (row["start"]["dateTime"], row["key"]))


def format_events(rows: Sequence[Mapping[str, Any]]) -> str:
    """The interview events: key, what the run did, when, subject; then who is invited and the link."""
    if not rows:
        return "  (none)"
    width = max(len(row["key"]) for row in rows)
    lines = []
    for row in rows:
        start, end = row["start"], row["end"]
        when = f"{start['dateTime'][:10]} {start['dateTime'][11:16]}-{end['dateTime'][11:16]} {start['timeZone']}"
        lines.append(f"  {row['key']:<{width}}  {row['status']:<{STATUS_WIDTH}}  {when}  {row['subject']}")
        invited: dict[str, list[str]] = {}
        for address, kind in row["attendees"]:
            invited.setdefault(kind, []).append(address)
        who = "; ".join(f"{kind}: {', '.join(addresses)}" for kind, addresses in invited.items())
        lines.append(f"  {'':<{width}}  invitations from {row['organizer']} to {who}")
        lines.append(f"  {'':<{width}}  Teams link: {_shorten(row['join_url'], URL_WIDTH)}")
    return "\n".join(lines)


@contextmanager
def emulator(demo_dir: Path, log: Path) -> Iterator[EmulatorProcess]:
    """The emulator as a subprocess, stopped on exit (also on errors and Ctrl-C)."""
    try:
        from meetings_emulator import start_emulator_process
    except ImportError as err:  # pragma: no cover - only without the [emulator] extra
        raise DemoError(f"the emulator cannot start ({err}); install with: pip install -e '.[emulator]'") from err
    log.parent.mkdir(parents=True, exist_ok=True)
    ready = False
    with log.open("a", encoding="utf-8") as handle:
        try:
            with start_emulator_process(
                state_file=str(demo_dir / "emulator-state.json"),
                ca_file=str(demo_dir / "emulator-ca.pem"),
                stdout=handle,
                stderr=handle,
            ) as process:
                ready = True
                yield process
        except (RuntimeError, TimeoutError) as err:
            if ready:
                raise
            raise DemoError(f"the emulator did not start: {err}; see {log}") from err


def prepare_airflow(demo_dir: Path, env: Mapping[str, str], log: Path) -> None:
    """Migrate the SQLite database (skipped when this Airflow version did it) and create the pool."""
    marker = demo_dir / "airflow" / ".migrated"
    if marker.is_file() and marker.read_text() == _airflow_version() and (marker.parent / "airflow.db").is_file():
        print("  airflow db migrate (SQLite) ... up to date")
    else:
        run_step("airflow db migrate (SQLite)", airflow("db", "migrate"), env=env, log=log)
        marker.write_text(_airflow_version())
    run_step(
        f"airflow pools set {POOL} {POOL_SLOTS}",
        airflow("pools", "set", POOL, str(POOL_SLOTS), "Microsoft Graph createOrGet calls (sample DAGs)"),
        env=env,
        log=log,
    )


def print_results(
    first: Sequence[tuple[str, dict[str, str]]],
    edited: Sequence[tuple[str, dict[str, str]]],
    *,
    held: int,
    interviews: Sequence[Mapping[str, Any]],
    demo_dir: Path,
    seconds: float,
) -> None:
    """The table of meetings, the interview events with their invitations, and what to do next."""
    print()
    print(format_table(first, edited))
    print()
    print(f"Run 1: {len(first)} meetings: {summary(first)}.")
    print(
        f"Edited events file ({MOVED_EVENT} an hour later, {CANCELLED_EVENT} cancelled): {summary(edited)}. "
        f"The emulator holds {held}."
    )
    print()
    print(
        f"Interview loop ({INTERVIEW_DAG.dag_id}): {len(interviews)} Outlook calendar events with a Teams "
        "meeting; the attendees receive the invitations (the emulator sends no mail):"
    )
    print(format_events(interviews))
    print()
    print(
        f"Took {seconds:.0f} s. Reports: {_rel(demo_dir / 'output')}/ and {_rel(demo_dir / 'output-edited')}/, "
        f"<dag_id>/<run>/meetings.csv   Logs: {_rel(demo_dir / 'logs')}/"
    )
    print(
        "Run `make demo` again: run 1 finds the meetings (the lecture moves back, the interview is booked "
        "again), the edit applies once more, and the interview events are found unchanged."
    )
    print(f"Start over with `rm -rf {_rel(demo_dir)}`. Against a real tenant: docs/tutorial.md.")


def run_demo(demo_dir: Path) -> int:
    """The whole demo; returns the process exit code."""
    started = time.monotonic()
    logs, output_dir, edited_dir = demo_dir / "logs", demo_dir / "output", demo_dir / "output-edited"
    for folder in (logs, output_dir, edited_dir):  # only this run's logs and reports count
        shutil.rmtree(folder, ignore_errors=True)
    print("Teams meetings demo: the sample DAGs against the local Graph emulator (nothing leaves this machine)")
    with emulator(demo_dir, logs / "emulator.log") as emu:
        print(f"  emulator listening on {emu.url} (meetings kept in {_rel(demo_dir / 'emulator-state.json')})")
        env = airflow_env(os.environ, demo_dir=demo_dir, connection_json=emu.connection_json())
        prepare_airflow(demo_dir, env, logs / "airflow.log")
        conf = json.dumps({"output_dir": str(output_dir)})
        for dag in DEMO_DAGS:
            run_step(
                f"airflow dags test {dag.dag_id} {dag.logical_date[:10]} ({dag.what})",
                airflow("dags", "test", dag.dag_id, dag.logical_date, "-c", conf),
                env=env,
                log=logs / f"{dag.dag_id}.log",
                hint="Common causes and fixes: docs/tutorial.md, section 11 (Troubleshooting).",
            )
        edited_file = demo_dir / "events-edited.csv"
        edited_file.write_text(edit_events(EVENTS_FILE.read_text(encoding="utf-8")), encoding="utf-8")
        run_step(
            f"airflow dags test {EVENTS_DAG.dag_id} {EVENTS_DAG.logical_date[:10]} ({_rel(edited_file)}: "
            "one event moved, one cancelled)",
            airflow(
                "dags",
                "test",
                EVENTS_DAG.dag_id,
                EVENTS_DAG.logical_date,
                "-c",
                json.dumps({"output_dir": str(edited_dir), "events_file": str(edited_file)}),
            ),
            env=env,
            log=logs / f"{EVENTS_DAG.dag_id}-edited.log",
        )
        # The meetings the two DAGs made (those behind calendar events are the events' own).
        held = sum(not str(m.get("external_id", "")).startswith("calendar-event-") for m in emu.meetings())
        before = {e["event"]["id"]: e["event"].get("changeKey", "") for e in emu.events()}
        run_step(
            f"airflow dags test {INTERVIEW_DAG.dag_id} {INTERVIEW_DAG.logical_date[:10]} ({INTERVIEW_DAG.what})",
            airflow("dags", "test", INTERVIEW_DAG.dag_id, INTERVIEW_DAG.logical_date),
            env=env,
            log=logs / f"{INTERVIEW_DAG.dag_id}.log",
            hint="Common causes and fixes: docs/events.md and docs/tutorial.md, section 11 (Troubleshooting).",
        )
        interviews = interview_events(emu.events(), before)
    first, edited = read_reports(output_dir), read_reports(edited_dir)
    if not first or not edited:
        raise DemoError(f"the DAGs ran but wrote no report under {output_dir if not first else edited_dir}")
    if not interviews:
        raise DemoError(f"{INTERVIEW_DAG.dag_id} ran but the emulator holds none of its events")
    print_results(
        first, edited, held=held, interviews=interviews, demo_dir=demo_dir, seconds=time.monotonic() - started
    )
    return 0


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow-core")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", type=Path, default=REPO / ".demo", help="working folder (default: .demo)")
    args = parser.parse_args(argv)
    try:
        return run_demo(args.demo_dir.resolve())
    except DemoError as err:
        print(f"\nDemo failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; the emulator was stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
