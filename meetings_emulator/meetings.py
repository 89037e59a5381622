"""The meeting store and createOrGet semantics, free of HTTP.

Identity of a meeting is tenant + organizer object id + ``externalId``. Times are kept as
integer ticks of 100 ns since the epoch so that Graph's seven fractional digits survive.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from meetings_emulator.config import SeedUser
from meetings_emulator.errors import EmptyPayload, GraphError, MeetingNotFound, bad_request
from meetings_emulator.ticks import TICKS_PER_SECOND, format_ticks, now_ticks, parse_datetime

#: What "Update onlineMeeting" lists as updatable
#: (https://learn.microsoft.com/graph/api/onlinemeeting-update, "Request body"). Other
#: properties of onlineMeeting (id, joinWebUrl, externalId, chatInfo, ...) are refused.
UPDATABLE_PROPERTIES = frozenset(
    {
        "allowAttendeeToEnableCamera",
        "allowAttendeeToEnableMic",
        "allowBreakoutRooms",
        "allowCopyingAndSharingMeetingContent",
        "allowedLobbyAdmitters",
        "allowedPresenters",
        "allowLiveShare",
        "allowMeetingChat",
        "allowPowerPointSharing",
        "allowRecording",
        "allowTeamworkReactions",
        "allowTranscription",
        "allowWhiteboard",
        "anonymizeIdentityForRoles",
        "endDateTime",
        "isEntryExitAnnounced",
        "lobbyBypassSettings",
        "participants",
        "recordAutomatically",
        "startDateTime",
        "subject",
        "watermarkProtection",
        "broadcastSettings",
    }
)
HOUR_TICKS = 3600 * TICKS_PER_SECOND


@dataclass
class StoredMeeting:
    """A meeting with the key it is stored under.

    :param tenant_id: tenant of the organizer.
    :param user_id: organizer object id.
    :param external_id: the caller's ``externalId``.
    :param resource: the onlineMeeting resource as Graph returns it (without ``@odata.context``).
    """

    tenant_id: str
    user_id: str
    external_id: str
    resource: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON form, used by persistence and the control endpoint."""
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "external_id": self.external_id,
            "meeting": self.resource,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredMeeting:
        """Inverse of :meth:`to_json`."""
        return cls(data["tenant_id"], data["user_id"], data["external_id"], dict(data["meeting"]))


class MeetingStore:
    """Meetings keyed by (tenant, organizer, externalId); not thread-safe (caller locks)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str, str], StoredMeeting] = {}
        self._by_id: dict[str, StoredMeeting] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def all(self) -> list[StoredMeeting]:
        """Every stored meeting, oldest first."""
        return list(self._by_key.values())

    def clear(self) -> None:
        """Forget every meeting."""
        self._by_key.clear()
        self._by_id.clear()

    def add(self, meeting: StoredMeeting) -> None:
        """Store a meeting (used when loading persisted state)."""
        key = (meeting.tenant_id, meeting.user_id, meeting.external_id)
        self._by_key[key] = meeting
        self._by_id[meeting.resource["id"]] = meeting

    def create_or_get(self, tenant_id: str, organizer: SeedUser, body: Any) -> tuple[bool, dict[str, Any]]:
        """Apply createOrGet; returns ``(created, resource)``. Raises 400 :class:`GraphError`.

        An existing meeting is returned as stored: a changed subject or time in ``body``
        does not update it.
        """
        if not isinstance(body, dict):
            raise EmptyPayload()
        external_id = body.get("externalId")
        if not isinstance(external_id, str) or not external_id.strip():
            raise bad_request("Invalid request: externalId is required and must not be empty.")
        start_raw, end_raw = body.get("startDateTime"), body.get("endDateTime")
        start = parse_datetime(start_raw, "startDateTime") if start_raw is not None else None
        end = parse_datetime(end_raw, "endDateTime") if end_raw is not None else None
        if end is not None and start is None:
            raise bad_request("Invalid request: endDateTime requires startDateTime.")
        # "An error is thrown if the endDateTime is provided without the startDateTime or if the
        # endDateTime is earlier than the startDateTime" (createOrGet page, Notes): an end equal
        # to the start is not named, so it is accepted (an assumption, docs/emulator.md).
        if start is not None and end is not None and end < start:
            raise bad_request("Invalid request: endDateTime must be later than startDateTime.")
        participants = body.get("participants")
        if participants is not None and not isinstance(participants, dict):
            raise bad_request("Invalid value for 'participants'.")
        key = (tenant_id, organizer.id, external_id)
        existing = self._by_key.get(key)
        if existing is not None:
            return False, copy.deepcopy(existing.resource)
        if start is None:
            start = now_ticks()
        if end is None:
            end = start + HOUR_TICKS
        resource = _new_meeting(tenant_id, organizer, external_id, start, end, body)
        self.add(StoredMeeting(tenant_id, organizer.id, external_id, resource))
        return True, copy.deepcopy(resource)

    def get(self, tenant_id: str, user_id: str, meeting_id: str) -> dict[str, Any]:
        """A meeting of that organizer by id; raises 404 :class:`GraphError`."""
        return copy.deepcopy(self._owned(tenant_id, user_id, meeting_id).resource)

    def update(self, tenant_id: str, user_id: str, meeting_id: str, body: Any) -> dict[str, Any]:
        """Apply a PATCH with the rules of "Update onlineMeeting"; returns the updated resource.

        Start and end only together; ``participants`` may carry only ``attendees``, which
        replace the whole list; the organizer cannot change. Raises 404/400 :class:`GraphError`.
        """
        meeting = self._owned(tenant_id, user_id, meeting_id)
        if not isinstance(body, dict):
            raise EmptyPayload()
        for name in body:
            if name not in UPDATABLE_PROPERTIES:
                raise bad_request(f"Invalid request: property '{name}' of an onlineMeeting cannot be updated.")
        resource = copy.deepcopy(meeting.resource)
        if ("startDateTime" in body) != ("endDateTime" in body):
            # "Adjusting the start or end date/time of an online meeting always requires both
            # startDateTime and endDateTime properties in the request body."
            raise bad_request("Invalid request: startDateTime and endDateTime must be updated together.")
        if "startDateTime" in body:
            start = parse_datetime(body["startDateTime"], "startDateTime")
            end = parse_datetime(body["endDateTime"], "endDateTime")
            if end < start:
                raise bad_request("Invalid request: endDateTime must be later than startDateTime.")
            resource["startDateTime"], resource["endDateTime"] = format_ticks(start), format_ticks(end)
        if "participants" in body:
            resource["participants"]["attendees"] = _updated_attendees(body["participants"])
        for name, value in body.items():
            if name in ("startDateTime", "endDateTime", "participants"):
                continue
            if isinstance(value, dict) and isinstance(resource.get(name), dict):
                resource[name] = {**resource[name], **value}
            else:
                resource[name] = copy.deepcopy(value)
        meeting.resource = resource
        return copy.deepcopy(resource)

    def delete(self, tenant_id: str, user_id: str, meeting_id: str) -> None:
        """Forget a meeting; a later createOrGet with its externalId makes a new one. Raises 404."""
        meeting = self._owned(tenant_id, user_id, meeting_id)
        del self._by_key[(meeting.tenant_id, meeting.user_id, meeting.external_id)]
        del self._by_id[meeting.resource["id"]]

    def _owned(self, tenant_id: str, user_id: str, meeting_id: str) -> StoredMeeting:
        meeting = self._by_id.get(meeting_id)
        if meeting is None or (meeting.tenant_id, meeting.user_id) != (tenant_id, user_id):
            raise MeetingNotFound()
        return meeting

    def find(self, key: str) -> StoredMeeting | None:
        """A meeting of any organizer by its id or its ``joinWebUrl`` (for the control API), or ``None``."""
        found = self._by_id.get(key)
        if found is None:
            found = next((m for m in self._by_key.values() if m.resource["joinWebUrl"] == key), None)
        return found

    def require(self, key: str) -> StoredMeeting:
        """Like :meth:`find`; raises ``KeyError`` (``"meeting {key}"``) for an unknown meeting."""
        found = self.find(key)
        if found is None:
            raise KeyError(f"meeting {key}")
        return found

    def find_by_join_web_url(self, tenant_id: str, user_id: str, url: str) -> list[dict[str, Any]]:
        """Meetings of that organizer with this ``joinWebUrl`` (zero or one)."""
        return [
            copy.deepcopy(m.resource)
            for m in self._by_key.values()
            if (m.tenant_id, m.user_id) == (tenant_id, user_id) and m.resource["joinWebUrl"] == url
        ]


def require_join_url_organizer(join_web_url: str, user_id: str) -> None:
    """Refuse a lookup by ``joinWebUrl`` whose context names another organizer than the caller.

    A Teams join URL carries its organizer in ``context={"Tid": ..., "Oid": ...}``, and Graph
    matches that ``Oid`` against the user the request acts for (the one of ``/users/{id}``, the
    signed-in user of ``/me``): users report 404 ``NotFound`` "Organizer Id mismatch User Id:
    ..." (microsoftgraph/microsoft-graph-docs#10770) and 403 when an attendee rather than the
    organizer asks (microsoftgraph/microsoft-graph-docs-contrib#436). The emulator answers the
    404 of the first report; the id in its message is an assumption (the report hides it). A
    URL without a readable ``Oid`` is left to the filter (it matches no meeting).

    :param join_web_url: the URL of the ``$filter``, decoded once
    :param user_id: the object id of the user the request acts for
    :raises GraphError: 404 when the join URL names another organizer
    """
    try:
        context = json.loads(parse_qs(urlsplit(join_web_url).query)["context"][0])
        organizer = context["Oid"]
    except (KeyError, IndexError, TypeError, ValueError):
        return
    if not isinstance(organizer, str) or organizer.lower() != user_id.lower():
        raise GraphError(404, "NotFound", f"Organizer Id mismatch User Id: {user_id}.")


def _updated_attendees(participants: Any) -> list[dict[str, Any]]:
    """The new attendee list of a PATCH: only ``attendees`` can change, always as the full list."""
    if not isinstance(participants, dict):
        raise bad_request("Invalid value for 'participants'.")
    if "organizer" in participants:
        # "The organizer of the meeting can't be modified after the meeting is created."
        raise bad_request("Invalid request: the organizer of an onlineMeeting cannot be updated.")
    others = sorted(set(participants) - {"attendees", "@odata.type"})
    if others:
        raise bad_request(f"Invalid request: only attendees of participants can be updated, not {others}.")
    attendees = participants.get("attendees")
    if not isinstance(attendees, list) or not all(isinstance(a, dict) for a in attendees):
        raise bad_request("Invalid value for 'participants.attendees': expected the full list of attendees.")
    return [_attendee_as_returned(a) for a in attendees]


def _attendee_as_returned(attendee: Mapping[str, Any]) -> dict[str, Any]:
    """An attendee as Graph answers it: ``role`` as sent, ``null`` when none was sent.

    Microsoft's createOrGet example answers ``"role": null`` for an attendee sent without one
    (https://learn.microsoft.com/graph/api/onlinemeeting-createorget, "Response"; the
    organizer is ``presenter``), as users report too (Microsoft Q&A 323299). Clients read a
    null role as ``attendee``.
    """
    return {**attendee, "role": attendee.get("role")}


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def _new_meeting(
    tenant_id: str,
    organizer: SeedUser,
    external_id: str,
    start: int,
    end: int,
    body: Mapping[str, Any],
) -> dict[str, Any]:
    thread_token = base64.b64encode(secrets.token_bytes(36)).decode().replace("+", "a").replace("/", "b")
    thread_id = f"19:meeting_{thread_token}@thread.v2"
    meeting_id = base64.urlsafe_b64encode(f"1*{organizer.id}*0**{thread_id}".encode()).rstrip(b"=").decode()
    context = f"%7b%22Tid%22%3a%22{tenant_id}%22%2c%22Oid%22%3a%22{organizer.id}%22%7d"
    join_url = f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread_token}%40thread.v2/0?context={context}"
    sent = body.get("participants") or {}
    attendees = []
    for attendee in sent.get("attendees") or []:
        if isinstance(attendee, dict):
            attendees.append(_attendee_as_returned(attendee))
    chat_info = {"threadId": thread_id, "messageId": "0", "replyChainMessageId": None}
    if isinstance(body.get("chatInfo"), dict):
        chat_info.update(body["chatInfo"])
    return {
        "id": meeting_id,
        "creationDateTime": format_ticks(now_ticks()),
        "startDateTime": format_ticks(start),
        "endDateTime": format_ticks(end),
        "joinUrl": join_url,
        "joinWebUrl": join_url,
        "meetingCode": _digits(12),
        "subject": body.get("subject") if isinstance(body.get("subject"), str) else None,
        "externalId": external_id,
        "isBroadcast": False,
        "autoAdmittedUsers": "everyoneInCompany",
        "outerMeetingAutoAdmittedUsers": None,
        "isEntryExitAnnounced": True,
        "allowedPresenters": "everyone",
        "allowMeetingChat": "enabled",
        "allowTeamworkReactions": True,
        "allowAttendeeToEnableMic": True,
        "allowAttendeeToEnableCamera": True,
        "recordAutomatically": False,
        "videoTeleconferenceId": _digits(10),
        "participants": {
            "organizer": {
                "upn": organizer.user_principal_name,
                "role": "presenter",
                "identity": {
                    "user": {
                        "id": organizer.id,
                        "displayName": organizer.display_name,
                        "tenantId": tenant_id,
                        "identityProvider": "AAD",
                    }
                },
            },
            "attendees": attendees,
        },
        "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
        "joinMeetingIdSettings": {
            "isPasscodeRequired": True,
            "joinMeetingId": _digits(12),
            "passcode": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6)),
        },
        "audioConferencing": {
            "conferenceId": _digits(9),
            "tollNumber": "+12525634478",
            "tollFreeNumber": "+18666390588",
            "tollNumbers": ["+12525634478"],
            "tollFreeNumbers": ["+18666390588"],
            "dialinUrl": f"https://dialin.teams.microsoft.com/{tenant_id}?id={_digits(9)}",
        },
        "chatInfo": chat_info,
    }
