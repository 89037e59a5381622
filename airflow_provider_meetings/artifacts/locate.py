"""Which meeting: by ``meeting_id``, by ``join_url`` or by the ``external_id`` of a calendar event.

* ``meeting_id``: used as given (percent-encoded as one path segment: Graph's ids are
  base64 and can hold ``/``, ``+`` and ``=``).
* ``join_url``: ``GET .../onlineMeetings?$filter=JoinWebUrl eq '...'`` (onlinemeeting-get,
  example 3). The join URL already holds ``%``-escapes; it is an OData string literal (a
  quote inside is doubled) and the whole filter is URL-encoded once more. Needs
  ``OnlineMeetings.Read.All`` (app, plus the access policy) or ``OnlineMeetings.Read``.
* ``external_id``: only of a calendar event (looked up as ``events/`` does, then its
  ``onlineMeeting.joinUrl`` as above). A createOrGet meeting cannot be looked up by its
  external id without createOrGet, which would create it: pass its meeting id or join URL
  from the creating task's XCom.

Everything is checked by :func:`prepare_meeting_ref` before any request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_meetings.artifacts.errors import MeetingNotFoundError, artifact_error
from airflow_provider_meetings.events.api import CalendarEventsApi, prepare_calendar_lookup
from airflow_provider_meetings.events.request import PreparedEvent
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.graph.values import check_missing_value, user_path, validate_user_id

if TYPE_CHECKING:
    from airflow_provider_meetings.graph.client import GraphRestClient

__all__ = ["MeetingRef", "MeetingLocator", "ResolvedMeeting", "join_url_filter_path", "prepare_meeting_ref"]

_NAMES = ("meeting_id", "join_url", "external_id")
_MAX_ID_LENGTH = 2048


@dataclass(frozen=True)
class MeetingRef:
    """A meeting as the caller named it, checked.

    :param user_id: the organizer (``None``: ``/me``, delegated tokens)
    :param meeting_id: Graph's meeting id
    :param join_url: the meeting's join URL
    :param external_id: the external id of the calendar event that holds the meeting
    :param event_lookup: the checked calendar lookup of ``external_id``
    """

    user_id: str | None
    meeting_id: str | None = None
    join_url: str | None = None
    external_id: str | None = None
    event_lookup: PreparedEvent | None = None

    @property
    def named(self) -> str:
        """How the caller named it, for logs and errors (the join URL shortened)."""
        if self.meeting_id is not None:
            return f"meeting_id={self.meeting_id}"
        if self.join_url is not None:
            url = self.join_url
            return f"join_url={url[:60]}..." if len(url) > 60 else f"join_url={url}"
        return f"external_id={self.external_id}"


@dataclass(frozen=True)
class ResolvedMeeting:
    """A meeting Graph knows: its organizer and id.

    :param user_id: the organizer (``None``: ``/me``)
    :param meeting_id: Graph's meeting id
    """

    user_id: str | None
    meeting_id: str

    @property
    def path(self) -> str:
        """``users/{id}/onlineMeetings/{meetingId}`` (``me/...``), each id one encoded segment."""
        return f"{user_path(self.user_id)}/onlineMeetings/{quote(self.meeting_id, safe='')}"


def _check_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(name, f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidRequestError(name, "is empty; a template probably rendered a missing value")
    if len(value) > _MAX_ID_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRequestError(name, f"is not a usable value: {value[:60]!r}")
    return value


def prepare_meeting_ref(
    settings: ConnectionSettings,
    *,
    user_id: Any = None,
    meeting_id: Any = None,
    join_url: Any = None,
    external_id: Any = None,
) -> MeetingRef:
    """Check how a meeting is named, against the connection, before any request.

    :param settings: the connection's settings (default organizer, token kind)
    :param user_id: the organizer; default: the connection's ``default_user_id``, else ``/me``
    :param meeting_id: Graph's meeting id
    :param join_url: the meeting's join URL
    :param external_id: the external id of the calendar event that holds the meeting
    :raises InvalidRequestError: none or more than one named, bad values, or no
        organizer with an app-only token
    """
    given = {
        name: value
        for name, value in zip(_NAMES, (meeting_id, join_url, external_id), strict=True)
        if value is not None
    }
    if len(given) != 1:
        which = ", ".join(given) if given else "none"
        raise InvalidRequestError(
            "meeting",
            f"name the meeting by exactly one of meeting_id, join_url or external_id (given: {which})",
        )
    user = user_id if user_id is not None else settings.default_user_id
    if user is not None:
        user = validate_user_id(user)
    elif not settings.delegated:
        raise InvalidRequestError(
            "user_id",
            "no organizer: app-only tokens cannot use /me. Pass user_id (the meeting's organizer), set the "
            "connection extra default_user_id, or use a delegated connection",
        )
    if meeting_id is not None:
        return MeetingRef(
            user,
            meeting_id=check_missing_value(_check_text(meeting_id, "meeting_id"), "meeting_id", empty_segments=False),
        )
    if join_url is not None:
        url = _check_text(join_url, "join_url").strip()
        if not url.lower().startswith("https://"):
            raise InvalidRequestError("join_url", f"must be the meeting's https:// join URL, got {url[:60]!r}")
        return MeetingRef(user, join_url=url)
    lookup = prepare_calendar_lookup(external_id, settings, user_id=user)
    return MeetingRef(user, external_id=lookup.external_id, event_lookup=lookup)


def join_url_filter_path(user_id: str | None, join_url: str) -> str:
    """``users/{id}/onlineMeetings?$filter=JoinWebUrl eq '...'`` (``me/...`` for ``None``).

    The join URL is an OData string literal (a quote inside is doubled, OData 4.01 ABNF
    ``SQUOTE-in-string``) and, escapes and all, URL-encoded once more ("joinWebUrl must be
    URL encoded", onlinemeeting-get).
    """
    literal = join_url.replace("'", "''")
    return f"{user_path(user_id)}/onlineMeetings?$filter=" + quote(f"JoinWebUrl eq '{literal}'", safe="'")


class MeetingLocator:
    """Finds the meeting a :class:`MeetingRef` names.

    :param client: the connection's Graph client
    :param delegated: whether the tokens are delegated (names the permission in a 403)
    :param object_id: the object id of an organizer given by UPN (the hook looks it up once,
        as for createOrGet); ``None``: organizers are used as given
    """

    def __init__(
        self, client: GraphRestClient, *, delegated: bool, object_id: Callable[[str], str] | None = None
    ) -> None:
        self.client = client
        self.delegated = delegated
        self.object_id = object_id

    def resolve(self, ref: MeetingRef) -> ResolvedMeeting:
        """The meeting's organizer (by object id) and id (no request for a ``meeting_id`` of an
        organizer given by object id).

        The ``onlineMeetings`` routes take the organizer's object id only (a UPN there has
        been reported to answer 404; docs/emulator.md); an organizer given by UPN is looked
        up once (``GET /users/{upn}?$select=id``), as for createOrGet. The calendar lookup of
        an ``external_id`` goes to the mailbox as given, which a UPN names too.

        :raises MeetingNotFoundError: no meeting or event matched
        :raises ArtifactPermissionError: 403 to the join-URL lookup
        :raises OrganizerLookupError: the UPN could not be looked up (from ``object_id``)
        """
        user_id = ref.user_id
        if user_id is not None and self.object_id is not None:
            user_id = self.object_id(user_id)
        if ref.meeting_id is not None:
            return ResolvedMeeting(user_id, ref.meeting_id)
        join_url = ref.join_url if ref.join_url is not None else self._event_join_url(ref)
        return ResolvedMeeting(user_id, self._by_join_url(ref, user_id, join_url))

    def _by_join_url(self, ref: MeetingRef, user_id: str | None, join_url: str) -> str:
        try:
            found = self.client.get_all(join_url_filter_path(user_id, join_url), what=f"GET onlineMeetings {ref.named}")
        except GraphAPIError as error:
            mapped = artifact_error(error, artifact="lookup", delegated=self.delegated)
            if mapped is error:
                raise
            raise mapped from error
        ids = [item["id"] for item in found if isinstance(item, dict) and isinstance(item.get("id"), str)]
        if not ids:
            who = f"organizer {ref.user_id!r}" if ref.user_id else "the signed-in user"
            raise MeetingNotFoundError(
                f"no online meeting of {who} has this join URL ({ref.named}): check the URL and the organizer "
                "(Graph finds a meeting by join URL only under its organizer)"
            )
        return ids[0]

    def _event_join_url(self, ref: MeetingRef) -> str:
        assert ref.event_lookup is not None  # prepare_meeting_ref set it with external_id
        event = CalendarEventsApi(self.client, delegated=self.delegated).find(ref.event_lookup)
        who = f"user {ref.user_id!r}" if ref.user_id else "the signed-in user"
        if event is None:
            raise MeetingNotFoundError(
                f"no calendar event of {who} has external_id={ref.external_id!r}. external_id finds the meeting "
                "of a calendar event only: for a meeting made with createOrGet (CreateOrGetOnlineMeetingOperator), pass "
                "meeting_id or join_url from the creating task's XCom (looking it up by external id would create it)"
            )
        url = (event.get("onlineMeeting") or {}).get("joinUrl")
        if not isinstance(url, str) or not url:
            raise MeetingNotFoundError(
                f"the calendar event external_id={ref.external_id!r} of {who} has no Teams meeting "
                "(onlineMeeting.joinUrl is missing): it has no artifacts"
            )
        return url
