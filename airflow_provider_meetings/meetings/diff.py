"""Keeping a meeting in step with its event: what differs, and what to send about it.

Pure functions, no Airflow, no network. Graph's rules, from Microsoft's "Update
onlineMeeting" page (https://learn.microsoft.com/graph/api/onlinemeeting-update, "Request
body"): "supply *only* the values for properties that should be updated", except that

* "Adjusting the start or end date/time [...] always requires both **startDateTime** and
  **endDateTime**": a change of either sends both;
* "Adjusting the **attendees** field [...] always requires the full list of attendees":
  a change of attendees sends the whole list;
* "The **organizer** field of the **participants** property can't be updated": it is never
  sent. When the caller's ``participants.organizer`` names someone other than the meeting's
  organizer, :func:`meeting_changes` raises :class:`OrganizerMismatchError` (the organizer
  is the user in the path, ``user_id``: another organizer is another meeting).

What is compared, and how (the caller's arguments are the createOrGet body already built
and validated by :func:`~airflow_provider_meetings.meetings.request.prepare_request`):

* only what the caller gave: an argument left out (``None``) is left as the meeting has it;
* ``subject``: as text (``None`` and ``""`` alike);
* times: as instants in UTC, to the microsecond (Graph writes seven fractional digits,
  ``2020-02-06T01:49:21.3524945Z``; Python keeps six; offsets such as ``+01:00`` are
  converted). A start without an end means a one-hour meeting, as createOrGet makes it;
* attendees: as a set of people, in any order. Two entries are the same person when they
  share the Entra object id (``identity.user.id``) or the UPN, both case-insensitive
  (Graph may add the one the caller left out); a ``role`` counts only when the caller
  gave one (Graph answers ``null`` for an attendee sent without one, as the createOrGet
  page's example shows; a null or missing role reads as ``attendee``). Repeating a person
  in the list changes nothing.
* ``chat_info`` and beta's ``producers``/``contributors`` apply when the meeting is created;
  the update page lists only attendees as updatable participants, so they are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.graph.values import format_graph_datetime, to_utc
from airflow_provider_meetings.meetings.request import PreparedRequest
from airflow_provider_meetings.meetings.results import CREATED, EXISTING, UNCHANGED, MeetingStatus

#: Meeting fields a sync needs from the createOrGet answer to compare.
SYNC_MEETING_FIELDS: tuple[str, ...] = ("id", "joinWebUrl", "subject", "startDateTime", "endDateTime", "participants")
#: Graph's length of a meeting created with a start and no end (createOrGet page).
DEFAULT_DURATION = timedelta(hours=1)
#: What an attendee whose role is null or missing is (Graph answers ``null`` when none was sent).
_DEFAULT_ROLE = "attendee"


class OrganizerMismatchError(InvalidRequestError):
    """``participants.organizer`` names someone other than the meeting's organizer.

    Graph cannot change a meeting's organizer; the organizer is the user in the request
    path (``user_id``), and another organizer means another meeting.
    """

    def __init__(self, wanted: Mapping[str, Any], actual: Mapping[str, Any]) -> None:
        super().__init__(
            "participants.organizer",
            f"names {_who(wanted)}, but the meeting's organizer is {_who(actual)}, and Graph cannot change "
            "a meeting's organizer. The organizer is the user_id the meeting is booked for: drop "
            "participants.organizer, or pass that person as user_id (which books a separate meeting)",
        )


# -- identities ---------------------------------------------------------------------------


def person_keys(participant: Any) -> frozenset[str]:
    """What identifies a participant: ``id:<object id>`` and ``upn:<upn>``, lower case.

    A participant with neither (an application, a phone) is identified by the kind and id of
    its ``identity`` (``identity:application:<id>``), else by the whole ``identity``.
    """
    if not isinstance(participant, Mapping):
        return frozenset()
    keys = set()
    identity = participant.get("identity")
    user = identity.get("user") if isinstance(identity, Mapping) else None
    user_id = user.get("id") if isinstance(user, Mapping) else None
    if isinstance(user_id, str) and user_id.strip():
        keys.add("id:" + user_id.strip().lower())
    upn = participant.get("upn")
    if isinstance(upn, str) and upn.strip():
        keys.add("upn:" + upn.strip().lower())
    if not keys and isinstance(identity, Mapping):
        # An application, device or phone: its kind and id, as Graph's answer adds fields
        # (displayName, "user": null) that a whole-object comparison would see as a change.
        for kind, member in sorted(identity.items()):
            member_id = member.get("id") if isinstance(member, Mapping) else None
            if isinstance(member_id, str) and member_id.strip():
                keys.add(f"identity:{kind}:{member_id.strip().lower()}")
    if not keys and identity is not None:
        keys.add("identity:" + json.dumps(identity, sort_keys=True, default=str))
    return frozenset(keys)


def _kinds(keys: frozenset[str]) -> set[str]:
    return {key.split(":", 1)[0] for key in keys}


def _who(participant: Mapping[str, Any]) -> str:
    keys = sorted(person_keys(participant))
    return " / ".join(repr(key.split(":", 1)[1]) for key in keys) if keys else "nobody"


def organizer_conflict(wanted: Any, meeting: Mapping[str, Any]) -> OrganizerMismatchError | None:
    """The error to raise when ``wanted`` is not the meeting's organizer, else ``None``.

    They differ only when they can be compared (both have an object id, or both a UPN) and
    share no key: a UPN on one side and only an object id on the other is not a conflict.
    """
    if not isinstance(wanted, Mapping):
        return None
    participants = meeting.get("participants")
    actual = participants.get("organizer") if isinstance(participants, Mapping) else None
    if not isinstance(actual, Mapping):
        return None
    wanted_keys, actual_keys = person_keys(wanted), person_keys(actual)
    if wanted_keys & actual_keys or not _kinds(wanted_keys) & _kinds(actual_keys):
        return None
    return OrganizerMismatchError(wanted, actual)


def check_organizer(wanted: Mapping[str, Any], meeting: Mapping[str, Any]) -> None:
    """Raise :class:`OrganizerMismatchError` when the createOrGet body ``wanted`` names an
    organizer (``participants.organizer``) other than ``meeting``'s."""
    participants = wanted.get("participants")
    conflict = organizer_conflict(participants.get("organizer") if isinstance(participants, Mapping) else None, meeting)
    if conflict is not None:
        raise conflict


def _role(participant: Mapping[str, Any]) -> str | None:
    role = participant.get("role")
    return role.strip().lower() if isinstance(role, str) and role.strip() else None


def same_attendees(wanted: Sequence[Any], current: Sequence[Any]) -> bool:
    """Whether two attendee lists name the same people (see the module docstring)."""
    present = [attendee for attendee in current if isinstance(attendee, Mapping)]
    by_key: dict[str, list[int]] = {}
    for position, attendee in enumerate(present):
        for key in person_keys(attendee):
            by_key.setdefault(key, []).append(position)
    matched: set[int] = set()
    for attendee in wanted:
        role = _role(attendee) if isinstance(attendee, Mapping) else None
        candidates = {position for key in person_keys(attendee) for position in by_key.get(key, ())}
        fitting = {p for p in candidates if role is None or (_role(present[p]) or _DEFAULT_ROLE) == role}
        if not fitting:
            return False  # someone to add (or whose role changes)
        matched |= fitting
    return len(matched) == len(present)  # nobody to remove


# -- times ----------------------------------------------------------------------------------


def _instant(value: Any, field_name: str) -> datetime | None:
    """A Graph or caller date-time as an aware UTC datetime; ``None`` if absent or unreadable."""
    try:
        return to_utc(value, field_name=field_name)
    except InvalidRequestError:
        return None


def wanted_times(body: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """Start and end a createOrGet body asks for; ``None`` when it names no start."""
    start = _instant(body.get("startDateTime"), "startDateTime")
    if start is None:
        return None
    end = _instant(body.get("endDateTime"), "endDateTime")
    return start, end if end is not None else start + DEFAULT_DURATION


# -- the diff -------------------------------------------------------------------------------


def meeting_changes(wanted: Mapping[str, Any], meeting: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that brings ``meeting`` to what ``wanted`` asks for; ``{}`` when nothing differs.

    :param wanted: a createOrGet body (``subject``, ``startDateTime``, ``endDateTime``,
        ``participants``...), as built by ``prepare_request``
    :param meeting: Graph's ``onlineMeeting`` as createOrGet returned it
    :raises OrganizerMismatchError: when ``participants.organizer`` is someone else
    """
    check_organizer(wanted, meeting)
    participants = wanted.get("participants")
    participants = participants if isinstance(participants, Mapping) else {}
    changes: dict[str, Any] = {}
    subject = wanted.get("subject")
    if subject is not None and (subject or None) != (meeting.get("subject") or None):
        changes["subject"] = subject
    times = wanted_times(wanted)
    if times is not None:
        current = (
            _instant(meeting.get("startDateTime"), "startDateTime"),
            _instant(meeting.get("endDateTime"), "endDateTime"),
        )
        if current != times:  # one changed: Graph needs both
            changes["startDateTime"], changes["endDateTime"] = (format_graph_datetime(t) for t in times)
    attendees = participants.get("attendees")
    if attendees is not None:
        current_participants = meeting.get("participants")
        current_attendees = (
            current_participants.get("attendees") if isinstance(current_participants, Mapping) else None
        ) or []
        if not same_attendees(attendees, current_attendees):
            changes["participants"] = {"attendees": [dict(a) for a in attendees]}  # the full list
    return changes


# -- requests about one meeting -------------------------------------------------------------


def meeting_path(create_or_get_path: str, meeting_id: str) -> str:
    """The meeting's own path, next to the createOrGet path that found it.

    ``users/<id>/onlineMeetings/createOrGet`` -> ``users/<id>/onlineMeetings/<meeting id>``
    (the id percent-encoded, as the Graph SDKs' URL templates do).
    """
    base, _, last = create_or_get_path.rstrip("/").rpartition("/")
    if last != "createOrGet" or not base.endswith("onlineMeetings"):
        raise ValueError(f"not a createOrGet path: {create_or_get_path!r}")
    if not isinstance(meeting_id, str) or not meeting_id:
        raise ValueError("the meeting has no id")
    return f"{base}/{quote(meeting_id, safe='')}"


def update_request(prepared: PreparedRequest, meeting_id: str, changes: Mapping[str, Any]) -> PreparedRequest:
    """``PATCH`` of the meeting createOrGet found for ``prepared``."""
    return PreparedRequest(
        path=meeting_path(prepared.path, meeting_id),
        body=dict(changes),
        user_id=prepared.user_id,
        method="PATCH",
        key=prepared.key,
    )


def delete_request(prepared: PreparedRequest, meeting_id: str) -> PreparedRequest:
    """``DELETE`` of the meeting createOrGet found for ``prepared``."""
    return PreparedRequest(
        path=meeting_path(prepared.path, meeting_id),
        body=None,
        user_id=prepared.user_id,
        method="DELETE",
        key=prepared.key,
    )


# -- what follows a createOrGet answer --------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """What follows a createOrGet answer: one more request, or the meeting's outcome as it is.

    :param request: the ``PATCH`` or ``DELETE`` to send (``None``: nothing to send)
    :param outcome: the outcome when nothing is sent (``created``, ``existing``, ``unchanged``)
    :param changes: the fields a ``PATCH`` changes, for its log line
    """

    request: PreparedRequest | None = None
    outcome: MeetingStatus | None = None
    changes: tuple[str, ...] = ()


def meeting_id_of(meeting: Mapping[str, Any], *, created: bool) -> str:
    """The id of the meeting createOrGet returned (a PATCH or DELETE needs it).

    :raises GraphAPIError: ``InvalidResponse`` when the answer had none
    """
    meeting_id = meeting.get("id")
    if not isinstance(meeting_id, str) or not meeting_id:
        raise GraphAPIError(201 if created else 200, "InvalidResponse", "the createOrGet answer had no meeting id")
    return meeting_id


def after_create_or_get(
    prepared: PreparedRequest,
    meeting: Mapping[str, Any],
    *,
    created: bool,
    cancel: bool = False,
    compare: bool = True,
) -> NextStep:
    """The one rule, for single and bulk calls alike, of what to send after createOrGet answered.

    * a cancel: ``DELETE`` the meeting found (created or not: a cancel leaves none behind);
    * without ``compare`` (createOrGet alone): nothing, ``created`` or ``existing``;
    * a meeting created as asked: nothing (only the organizer can disagree);
    * an existing meeting: one ``PATCH`` of what differs (:func:`meeting_changes`), or
      nothing (``unchanged``).

    :param prepared: the createOrGet request (its body is what the caller wants)
    :param meeting: the onlineMeeting createOrGet returned
    :param created: whether createOrGet created it (201)
    :param cancel: the meeting is to be deleted
    :param compare: compare an existing meeting with ``prepared`` (sync, ``update_existing``)
    :raises OrganizerMismatchError: when the caller names another organizer
    :raises GraphAPIError: ``InvalidResponse`` when a request is due and the answer had no meeting id
    """
    if cancel:
        return NextStep(request=delete_request(prepared, meeting_id_of(meeting, created=created)))
    if not compare:
        return NextStep(outcome=CREATED if created else EXISTING)
    wanted = prepared.body or {}
    if created:  # made as asked
        check_organizer(wanted, meeting)
        return NextStep(outcome=CREATED)
    changes = meeting_changes(wanted, meeting)
    if not changes:
        return NextStep(outcome=UNCHANGED)
    patch = update_request(prepared, meeting_id_of(meeting, created=created), changes)
    return NextStep(request=patch, changes=tuple(changes))
