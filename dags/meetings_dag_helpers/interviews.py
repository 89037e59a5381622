"""Reading an interview schedule (the stand-in for an applicant tracking system's export)
and turning each interview into the arguments of one calendar-event task.

The file is CSV with a header row:
``interview_key,role,candidate,candidate_email,start,end,panel,optional,status,comment``.

* ``interview_key``, ``candidate``, ``candidate_email``, ``start``, ``end`` and ``panel``
  are required; ``role`` names the position in the subject.
* ``start``/``end`` are ISO-8601 with an offset (``2026-12-07T10:00:00+01:00``) or ``Z``.
* ``panel`` (required attendees) and ``optional`` (optional attendees) are e-mail
  addresses separated by ``;``.
* ``status`` is empty (or ``scheduled``) for an interview that takes place, ``cancelled``
  for one whose event must be cancelled; ``comment`` is the text the attendees receive
  with the cancellation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .common import DataFileError, check_text, csv_rows, date_time, parse_unique, read_data_file

COLUMNS = (
    "interview_key",
    "role",
    "candidate",
    "candidate_email",
    "start",
    "end",
    "panel",
    "optional",
    "status",
    "comment",
)
REQUIRED = ("interview_key", "candidate", "candidate_email", "start", "end", "panel")
SCHEDULED = ("", "scheduled")
CANCELLED = ("cancelled", "canceled")
#: The comment sent with a cancellation when the file gives none.
DEFAULT_COMMENT = "This interview is cancelled."
# A deliberately loose check: Graph validates addresses; this catches a shifted CSV column.
EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


class ScheduleError(DataFileError):
    """The schedule file, or one of its rows, cannot be used."""


@dataclass(frozen=True)
class Interview:
    """One interview of the schedule.

    :param key: the interview's stable key in the source system
    :param role: the position interviewed for (may be empty)
    :param candidate: the candidate's name
    :param candidate_email: the candidate's address (a required attendee)
    :param start: aware start, as written in the file
    :param end: aware end
    :param panel: required attendees' addresses
    :param optional: optional attendees' addresses
    :param cancelled: the interview is cancelled: its event must be cancelled
    :param comment: the cancellation's comment
    """

    key: str
    role: str
    candidate: str
    candidate_email: str
    start: datetime
    end: datetime
    panel: tuple[str, ...]
    optional: tuple[str, ...] = ()
    cancelled: bool = False
    comment: str = ""


def check_email(value: str, name: str, where: str) -> str:
    """``value`` when it looks like one e-mail address."""
    if not EMAIL_RE.match(value):
        raise ScheduleError(f"{where}: {name} is not an e-mail address: {value!r}")
    return value


def addresses(value: str, name: str, where: str) -> tuple[str, ...]:
    """The ``;`` separated addresses of one cell."""
    return tuple(check_email(item.strip(), name, where) for item in value.split(";") if item.strip())


def aware(value: str, name: str, where: str) -> datetime:
    """An ISO-8601 value with an offset (``Z`` too), its offset kept: the instant the file
    means; the event is written in the DAG's ``time_zone`` param (an event's zone is a name,
    which an offset is not)."""
    moment = date_time(value, name, where, error=ScheduleError, keep_offset=True)
    assert moment is not None  # required: checked before
    return moment


def parse_interview(row: Mapping[str, str | None], *, where: str = "interview") -> Interview:
    """Validate one CSV row into an :class:`Interview`."""
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise ScheduleError(f"{where}: unknown column(s) {unknown}; allowed: {list(COLUMNS)}")
    values = {name: check_text(row.get(name), name, where, error=ScheduleError) for name in COLUMNS}
    missing = [name for name in REQUIRED if not values[name]]
    if missing:
        raise ScheduleError(f"{where}: {', '.join(missing)} missing")
    start, end = aware(values["start"], "start", where), aware(values["end"], "end", where)
    if end <= start:
        raise ScheduleError(f"{where}: end {values['end']} is not after start {values['start']}")
    status = values["status"].lower()
    if status not in SCHEDULED + CANCELLED:
        raise ScheduleError(f"{where}: status must be empty, 'scheduled' or 'cancelled', got {values['status']!r}")
    return Interview(
        key=values["interview_key"],
        role=values["role"],
        candidate=values["candidate"],
        candidate_email=check_email(values["candidate_email"], "candidate_email", where),
        start=start,
        end=end,
        panel=addresses(values["panel"], "panel", where),
        optional=addresses(values["optional"], "optional", where),
        cancelled=status in CANCELLED,
        comment=values["comment"],
    )


def parse_schedule(text: str) -> list[Interview]:
    """Every interview of a CSV schedule; keys must be unique."""
    return parse_unique(
        csv_rows(text, error=ScheduleError), parse_interview, key_name="interview_key", error=ScheduleError
    )


def read_schedule(path: Path) -> list[Interview]:
    """Read and validate a schedule file (errors name the file and the line)."""
    return read_data_file(path, parse_schedule, what="schedule file", error=ScheduleError)


def interview_external_id(dag_id: str, interview_key: str) -> str:
    """The event's external id: DAG id plus the interview's own key."""
    return f"{dag_id}-{interview_key}"


def subject(interview: Interview) -> str:
    """``Interview: <candidate>`` plus the role when the file names one."""
    return f"Interview: {interview.candidate}" + (f" ({interview.role})" if interview.role else "")


def event_kwargs(interview: Interview, *, dag_id: str, organizer: str | None, time_zone: str | None) -> dict[str, Any]:
    """Arguments of ``CreateOrGetTeamsEventOperator`` for one interview (JSON-serialisable).

    The candidate and the panel are required attendees, ``optional`` ones optional. An
    empty ``organizer`` leaves ``user_id`` out (the connection's ``default_user_id``, or
    ``/me`` with a delegated connection).
    """
    attendees: list[dict[str, str]] = [
        {"address": interview.candidate_email, "name": interview.candidate, "type": "required"}
    ]
    attendees += [{"address": a, "type": "required"} for a in interview.panel]
    attendees += [{"address": a, "type": "optional"} for a in interview.optional]
    role = f" for the role {html.escape(interview.role)}" if interview.role else ""
    kwargs: dict[str, Any] = {
        "external_id": interview_external_id(dag_id, interview.key),
        "subject": subject(interview),
        "start": interview.start.isoformat(),
        "end": interview.end.isoformat(),
        "attendees": attendees,
        "body": f"<p>Interview with {html.escape(interview.candidate)}{role}. Join with the Teams link below.</p>",
    }
    if organizer:
        kwargs["user_id"] = organizer
    if time_zone:
        kwargs["time_zone"] = time_zone
    return kwargs


def cancel_kwargs(interview: Interview, *, dag_id: str, organizer: str | None) -> dict[str, Any]:
    """Arguments of ``CancelTeamsEventOperator`` for a cancelled interview."""
    kwargs: dict[str, Any] = {
        "external_id": interview_external_id(dag_id, interview.key),
        "comment": interview.comment or DEFAULT_COMMENT,
    }
    if organizer:
        kwargs["user_id"] = organizer
    return kwargs
