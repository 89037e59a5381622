"""Minutes attended per person and no-shows against an invitation list, from the
attendance files that ``FetchTeamsMeetingArtifactsOperator`` writes.

Who is who: Graph's attendance record names a person by ``identity.id`` (the Entra
object id of a member of the tenant) and ``emailAddress``, which is null for anonymous
and phone participants and differs for guests (GRAPH_FACTS "No-shows"). So a person is
keyed by ``identity.id`` first, then by the address (case-insensitive), then by the
display name; an invitee matches an attendee by id when the invitation list knows the
invitee's id, else by address. Attendees that match no invitee are listed as
``uninvited`` (a guest who joined under another address shows up there, and the
invitee as a no-show: a person reads the report).

Pure: no Airflow, no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_meetings.attendance_table import table_csv

REPORT_FILE = "attendance_minutes.csv"
REPORT_COLUMNS = ("external_id", "meeting_id", "person", "email", "identity_id", "invited", "status", "minutes")
ATTENDED, NO_SHOW, UNINVITED = "attended", "no_show", "uninvited"


@dataclass(frozen=True)
class Invitee:
    """One person on an invitation list.

    :param email: the address invited
    :param name: the name, when known
    :param kind: ``required`` or ``optional``
    :param id: the Entra object id, when known (matched before the address)
    """

    email: str
    name: str = ""
    kind: str = "required"
    id: str | None = None


@dataclass
class Attendee:
    """One person of the attendance rows, with the seconds attended over every report."""

    key: str
    name: str
    email: str | None
    identity_id: str | None
    seconds: int = 0


def person_key(row: Mapping[str, Any]) -> str:
    """``id:<identity.id>``, else ``email:<address>``, else ``name:<display name>``."""
    if row.get("identity_id"):
        return f"id:{row['identity_id']}"
    if row.get("email"):
        return f"email:{str(row['email']).lower()}"
    return f"name:{row.get('display_name') or 'unknown'}"


def attendees(rows: Iterable[Mapping[str, Any]]) -> list[Attendee]:
    """The people of the attendance rows (one row per interval), each with the seconds
    attended summed over the meeting's reports (each record's total counted once)."""
    people: dict[str, Attendee] = {}
    counted: set[tuple[str, str]] = set()
    for row in rows:
        key = person_key(row)
        person = people.setdefault(
            key,
            Attendee(
                key=key, name=row.get("display_name") or "", email=row.get("email"), identity_id=row.get("identity_id")
            ),
        )
        person.email = person.email or row.get("email")
        report = str(row.get("report_id") or "")
        if (key, report) not in counted:
            counted.add((key, report))
            person.seconds += int(row.get("total_attendance_seconds") or 0)
    return list(people.values())


def match(invitees: Iterable[Invitee], people: Iterable[Attendee]) -> list[dict[str, Any]]:
    """One line per invitee (``attended`` or ``no_show``) and per attendee that matches
    no invitee (``uninvited``), with the minutes attended (one decimal)."""
    people = list(people)
    by_id = {p.identity_id: p for p in people if p.identity_id}
    by_email = {p.email.lower(): p for p in people if p.email}
    lines: list[dict[str, Any]] = []
    matched: set[str] = set()
    for invitee in invitees:
        person = (by_id.get(invitee.id) if invitee.id else None) or by_email.get(invitee.email.lower())
        if person is not None and person.key in matched:
            person = None  # one attendee answers for one invitee
        if person is not None:
            matched.add(person.key)
        lines.append(
            {
                "person": invitee.name or (person.name if person else "") or invitee.email,
                "email": invitee.email,
                "identity_id": person.identity_id if person else invitee.id,
                "invited": invitee.kind,
                "status": ATTENDED if person and person.seconds > 0 else NO_SHOW,
                "minutes": round(person.seconds / 60, 1) if person else 0.0,
            }
        )
    for person in people:
        if person.key not in matched:
            lines.append(
                {
                    "person": person.name or person.email or person.key,
                    "email": person.email,
                    "identity_id": person.identity_id,
                    "invited": "",
                    "status": UNINVITED,
                    "minutes": round(person.seconds / 60, 1),
                }
            )
    return lines


def read_attendance_json(data: bytes | str) -> dict[str, Any]:
    """An ``attendance.json`` written by the fetch operator: ``{"meeting_id", "rows", ...}``."""
    document = json.loads(data)
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        raise ValueError("not an attendance.json of FetchTeamsMeetingArtifactsOperator (no 'rows' list)")
    return document


def attendance_json_path(extra: Mapping[str, Any]) -> str | None:
    """The ``attendance.json`` path in an asset event's ``extra`` (or the operator's XCom)."""
    for path in (extra.get("paths") or {}).get("attendance") or ():
        if str(path).endswith(".json"):
            return str(path)
    return None


def report_csv(lines: Iterable[Mapping[str, Any]]) -> str:
    """The report as CSV text with the :data:`REPORT_COLUMNS` header."""
    return table_csv(lines, REPORT_COLUMNS)
