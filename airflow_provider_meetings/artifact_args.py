"""The arguments that name a meeting and its artifacts, shared by the artifacts sensor,
its trigger and the fetch operator: checked once, the same way everywhere.

The meeting is named by exactly one of ``meeting_id``, ``join_url`` (looked up with
``$filter=JoinWebUrl eq '…'``) or ``external_id`` (a calendar event's external id: the
event's Teams link is then looked up); ``user_id`` is the organizer (``None``: the
connection's ``default_user_id``, or ``/me`` with a delegated connection). See
docs/artifacts.md, "Naming the meeting".

Pure: no Airflow, no network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The artifacts of a meeting, in the order the provider fetches them.
ARTIFACTS: tuple[str, ...] = ("attendance", "transcript", "recording")
#: The keyword names that name a meeting (as the hook methods take them).
MEETING_KEYS: tuple[str, ...] = ("meeting_id", "join_url", "external_id")


def check_artifacts(value: Any) -> tuple[str, ...]:
    """``value`` (one name or several) as a tuple of known artifact names, without repeats.

    :raises ValueError: an unknown name, or none at all
    """
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else None
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"artifacts must name at least one of {list(ARTIFACTS)}, got {value!r}")
    unknown = sorted({name for name in names if name not in ARTIFACTS})
    if unknown:
        raise ValueError(f"unknown artifact(s) {unknown}: choose from {list(ARTIFACTS)}")
    return tuple(name for name in ARTIFACTS if name in names)


def meeting_reference(
    *,
    meeting_id: str | None = None,
    join_url: str | None = None,
    external_id: str | None = None,
    user_id: str | None = None,
) -> dict[str, str]:
    """The keyword arguments naming one meeting for the hook's artifact methods (empty
    values left out).

    :raises ValueError: none or more than one of ``meeting_id``, ``join_url``, ``external_id``,
        or a value that is not text
    """
    given = {"meeting_id": meeting_id, "join_url": join_url, "external_id": external_id, "user_id": user_id}
    for name, value in given.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {type(value).__name__}: {value!r}")
    reference = {name: value.strip() for name, value in given.items() if value and value.strip()}
    named = [name for name in MEETING_KEYS if name in reference]
    if len(named) != 1:
        raise ValueError(
            "name the meeting by exactly one of meeting_id, join_url or external_id (a calendar event's); "
            f"got {named or 'none'}. For a createOrGet meeting pass the meeting id or join URL from the "
            "creating task's XCom: its external id cannot be looked up without creating the meeting"
        )
    return reference


def describe_reference(reference: Mapping[str, str]) -> str:
    """``meeting_id=… user_id=…`` for a log line (a join URL shortened: it is long and carries no secret)."""
    parts = []
    for name, value in reference.items():
        shown = value if len(value) <= 80 else f"{value[:77]}..."
        parts.append(f"{name}={shown}")
    return " ".join(parts)
