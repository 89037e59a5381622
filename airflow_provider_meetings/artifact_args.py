"""The arguments that name a meeting and its artifacts, shared by the artifacts sensor,
its trigger, the fetch operator and the hook (through ``artifacts/``): checked once, the
same way everywhere.

The meeting is named by exactly one of ``meeting_id``, ``join_url`` (looked up with
``$filter=JoinWebUrl eq '…'``) or ``external_id`` (a calendar event's external id: the
event's Teams link is then looked up); ``user_id`` is the organizer (not given: the
connection's ``default_user_id``, or ``/me`` with a delegated connection). An empty value
(``None``, ``""`` or white space only: what a templated field renders when it is unset)
means "not given". See docs/artifacts.md, "Naming the meeting".

Pure: the standard library only (imported when Airflow parses a DAG file): no Airflow, no
network, no hook. ``artifacts/`` raises these rules' :class:`ArgumentError` again as the
provider's ``InvalidRequestError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

__all__ = [
    "ARTIFACTS",
    "MEETING_KEYS",
    "MeetingNames",
    "REFERENCE_KEYS",
    "SESSION_KEYS",
    "SHOWN_CHARS",
    "ArgumentError",
    "check_artifacts",
    "checked_names",
    "describe_reference",
    "meeting_reference",
    "shown",
]

#: The artifacts of a meeting, in the order the provider fetches them.
ARTIFACTS: tuple[str, ...] = ("attendance", "transcript", "recording")
#: The keyword names that name a meeting (as the hook methods take them).
MEETING_KEYS: tuple[str, ...] = ("meeting_id", "join_url", "external_id")


class MeetingNames(TypedDict, total=False):
    """The keywords that name a meeting to the hook's artifacts methods (``**names``): exactly
    one of ``meeting_id``, ``join_url`` or ``external_id``, the organizer ``user_id``, and
    which of its sessions count (``not_before``, ``before``).

    :param user_id: the organizer, Entra object id or UPN; not given: the connection's
        ``default_user_id``, else ``/me`` (delegated connections only)
    :param meeting_id: Graph's meeting id (used as given)
    :param join_url: the join URL (found with ``$filter=JoinWebUrl eq '...'``)
    :param external_id: the external id of a **calendar event** (for a createOrGet meeting,
        pass its meeting id or join URL from the creating task's XCom)
    :param not_before: an aware datetime or ISO-8601 text with an offset: only what sessions
        that started then or later left counts (attendance reports by ``meetingStartDateTime``,
        transcripts and recordings by ``createdDateTime``); not given: every session's. One join
        URL serves every session of a recurring meeting (docs/artifacts.md, "Sessions of a series")
    :param before: the same kind of value: only what sessions that started earlier left counts
        (with ``not_before``, one run's window: a backfilled run fetches its own session only)
    """

    user_id: str | None
    meeting_id: str | None
    join_url: str | None
    external_id: str | None
    not_before: str | datetime | None
    before: str | datetime | None


#: The keywords of :class:`MeetingNames` that choose the sessions (a window of start times).
SESSION_KEYS: tuple[str, ...] = ("not_before", "before")
#: Every keyword of :class:`MeetingNames`: the meeting, its organizer, which sessions (the
#: templated fields of the sensor and the operator, and of a trigger's reference).
REFERENCE_KEYS: tuple[str, ...] = tuple(MeetingNames.__annotations__)

#: The longest value a log line or an error shows whole (a join URL is longer, and carries no secret).
SHOWN_CHARS = 80


class ArgumentError(ValueError):
    """An argument refused by these rules; its text is what the operators show.

    :param argument: the argument refused: ``artifacts``, one of :data:`MEETING_KEYS`,
        ``user_id``, ``not_before``, ``before``, or ``meeting`` (which of :data:`MEETING_KEYS`
        were given)
    :param problem: what is wrong and what to do, without the argument's name (for an
        error of the form ``argument: problem``, as ``InvalidRequestError``'s)
    :param message: the whole text (default: ``"<argument> <problem>"``)
    """

    def __init__(self, argument: str, problem: str, message: str | None = None) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(message if message is not None else f"{argument} {problem}")


def check_artifacts(value: Any) -> tuple[str, ...]:
    """``value`` (one name or several) as a tuple of known artifact names, without repeats,
    in the order of :data:`ARTIFACTS` (the order the provider fetches them).

    :param value: ``"transcript"``, or an iterable of names, e.g. ``["recording", "attendance"]``
    :return: e.g. ``("attendance", "recording")``
    :raises ArgumentError: (a ``ValueError``, argument ``artifacts``) not text, an unknown
        name, or none at all
    """
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else None
    if not names or not all(isinstance(name, str) for name in names):
        raise ArgumentError("artifacts", f"must name at least one of {list(ARTIFACTS)}, got {value!r}")
    unknown = sorted({name for name in names if name not in ARTIFACTS})
    if unknown:
        problem = f"unknown artifact(s) {unknown}: choose from {list(ARTIFACTS)}"
        raise ArgumentError("artifacts", problem, problem)
    return tuple(name for name in ARTIFACTS if name in names)


def meeting_reference(
    *,
    meeting_id: Any = None,
    join_url: Any = None,
    external_id: Any = None,
    user_id: Any = None,
    not_before: Any = None,
    before: Any = None,
) -> dict[str, str]:
    """The keyword arguments naming one meeting for the hook's artifact methods: each value
    stripped, empty ones (``None``, ``""``, white space) left out as not given.

    Only the choice is checked here (and that values are text); what makes a value usable
    (an ``https://`` join URL, an organizer's id, ISO-8601 ``not_before`` and ``before``) is
    ``artifacts/locate.py``'s. A datetime of :data:`SESSION_KEYS` (what a template rendered as
    a native object gives) becomes its ISO-8601 text, so the reference stays text (trigger
    kwargs, XCom).

    :param meeting_id: Graph's meeting id
    :param join_url: the meeting's join URL
    :param external_id: the external id of the calendar event that holds the meeting
    :param user_id: the organizer (left out: the connection's default, or ``/me``)
    :param not_before: only sessions that started then or later (:class:`MeetingNames`)
    :param before: only sessions that started earlier (:class:`MeetingNames`)
    :return: e.g. ``{"meeting_id": "MSo1...", "user_id": "adele@contoso.com"}``
    :raises ArgumentError: (a ``ValueError``) none or more than one of ``meeting_id``,
        ``join_url``, ``external_id`` (argument ``meeting``), a value that is not text (that
        argument), or a naive ``not_before`` or ``before`` datetime
    """
    given = {
        "meeting_id": meeting_id,
        "join_url": join_url,
        "external_id": external_id,
        "user_id": user_id,
        "not_before": _as_text(not_before, "not_before"),
        "before": _as_text(before, "before"),
    }
    for name, value in given.items():
        if value is not None and not isinstance(value, str):
            raise ArgumentError(name, f"must be text, got {type(value).__name__}: {value!r}")
    reference = {name: value.strip() for name, value in given.items() if value and value.strip()}
    named = [name for name in MEETING_KEYS if name in reference]
    if len(named) != 1:
        problem = (
            "name the meeting by exactly one of meeting_id, join_url or external_id (a calendar event's); "
            f"got {named or 'none'} (an empty value counts as not given). For a createOrGet meeting pass the "
            "meeting id or join URL from the creating task's XCom: its external id cannot be looked up without "
            "creating the meeting"
        )
        raise ArgumentError("meeting", problem, problem)
    return reference


def checked_names(method: str, names: MeetingNames) -> MeetingNames:
    """``names`` when each is a keyword of :class:`MeetingNames`; a misspelt one is the
    ``TypeError`` Python gives an unknown keyword, naming ``method``, the function the caller
    called (not :func:`meeting_reference`, which takes them apart), before anything else is
    checked or sent.

    :param method: the name of the function that took ``**names``
    :param names: its keywords
    """
    unknown = sorted(set(names) - set(REFERENCE_KEYS))
    if unknown:
        raise TypeError(f"{method}() got an unexpected keyword argument {unknown[0]!r}")
    return names


def _as_text(value: Any, name: str) -> Any:
    """A time of :data:`SESSION_KEYS`: an aware datetime as ISO-8601 text, anything else as given."""
    if not isinstance(value, datetime):
        return value
    if value.utcoffset() is None:
        raise ArgumentError(name, f"is a naive datetime ({value.isoformat()}): give it a timezone, e.g. UTC")
    return value.isoformat()


def shown(name: str, value: str) -> str:
    """``name=value`` for a log line or an error, a value longer than :data:`SHOWN_CHARS`
    shortened (a join URL: it is long and carries no secret).

    :param name: the argument, e.g. ``join_url``
    :param value: its value
    """
    return f"{name}={value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 3] + '...'}"


def describe_reference(reference: Mapping[str, str]) -> str:
    """``meeting_id=… user_id=…`` for a log line (each value as :func:`shown` shows it).

    :param reference: what :func:`meeting_reference` returned
    """
    return " ".join(shown(name, value) for name, value in reference.items())
