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

Everything is checked by :func:`prepare_meeting_ref` before any request. The choice (exactly
one of the three; an empty value, ``None``, ``""`` or white space, is not given) is
:func:`~airflow_provider_meetings.artifact_args.meeting_reference`'s, the rule the sensor and
the operator apply; this module adds what makes each value usable. The organizer is
:func:`~airflow_provider_meetings.graph.values.request_organizer`'s (the default of the
connection, ``/me`` only for a delegated one). ``not_before`` and ``before`` (which sessions
count) are checked here too, and travel with the :class:`MeetingRef` as its ``sessions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from airflow_provider_meetings.artifact_args import ArgumentError, checked_names, meeting_reference, shown
from airflow_provider_meetings.artifacts.errors import MeetingNotFoundError, artifact_error
from airflow_provider_meetings.artifacts.sessions import ALL_SESSIONS, SessionWindow
from airflow_provider_meetings.events.api import CalendarEventsApi, prepare_calendar_lookup
from airflow_provider_meetings.events.request import PreparedEvent
from airflow_provider_meetings.graph.errors import GraphAPIError, InvalidRequestError
from airflow_provider_meetings.graph.settings import ConnectionSettings
from airflow_provider_meetings.graph.values import (
    check_missing_value,
    odata_string,
    request_organizer,
    to_utc,
    user_path,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_provider_meetings.artifact_args import MeetingNames
    from airflow_provider_meetings.graph.client import GraphRestClient

__all__ = [
    "MEETINGS_RESOURCE",
    "session_window",
    "MeetingLocator",
    "MeetingRef",
    "ResolvedMeeting",
    "join_url_filter_path",
    "prepare_meeting_ref",
]

_MAX_ID_LENGTH = 2048
#: The path of the meetings below the organizer (``users/{id}/`` or ``me/``).
MEETINGS_RESOURCE = "onlineMeetings"


@dataclass(frozen=True)
class MeetingRef:
    """A meeting as the caller named it, checked.

    :param user_id: the organizer (``None``: ``/me``, delegated tokens)
    :param meeting_id: Graph's meeting id
    :param join_url: the meeting's join URL
    :param event_lookup: the checked calendar lookup of the event that holds the meeting
        (named by its external id: :attr:`external_id`)
    :param sessions: which sessions count (``not_before``, ``before``; default: all)
    """

    user_id: str | None
    meeting_id: str | None = None
    join_url: str | None = None
    event_lookup: PreparedEvent | None = None
    sessions: SessionWindow = ALL_SESSIONS

    @property
    def external_id(self) -> str | None:
        """The calendar event's external id (of :attr:`event_lookup`), when it names the meeting."""
        return self.event_lookup.external_id if self.event_lookup is not None else None

    @property
    def named(self) -> str:
        """How the caller named it, for logs and errors (a long join URL shortened, as the
        sensor's and the operator's log lines show it:
        :func:`~airflow_provider_meetings.artifact_args.shown`)."""
        if self.meeting_id is not None:
            return shown("meeting_id", self.meeting_id)
        if self.join_url is not None:
            return shown("join_url", self.join_url)
        return shown("external_id", self.external_id or "")


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
        return f"{user_path(self.user_id)}/{MEETINGS_RESOURCE}/{quote(self.meeting_id, safe='')}"


def _check_usable(value: str, name: str) -> str:
    """A given value (text, stripped, not empty: :func:`meeting_reference`'s) that an id or a URL can be."""
    if len(value) > _MAX_ID_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRequestError(name, f"is not a usable value: {value[:60]!r}")
    return value


def prepare_meeting_ref(settings: ConnectionSettings, **names: Unpack[MeetingNames]) -> MeetingRef:
    """Check how a meeting is named, against the connection, before any request.

    Each value is stripped, and an empty one (``None``, ``""``, white space: what a template
    renders when unset) is not given, as for the sensor and the operator (docs/artifacts.md,
    "Naming the meeting").

    :param settings: the connection's settings (default organizer, token kind)
    :param names: the keywords of :class:`~airflow_provider_meetings.artifact_args.MeetingNames`,
        as :func:`~airflow_provider_meetings.artifact_args.meeting_reference` takes them:
        exactly one of ``meeting_id``, ``join_url`` (``https://``) or ``external_id`` (a calendar
        event's), the organizer ``user_id`` (not given: the connection's ``default_user_id``,
        else ``/me`` for delegated connections only), and the sessions' ``not_before`` and ``before``
    :raises InvalidRequestError: none or more than one named (field ``meeting``), a value that
        is not text or not usable (its field), no organizer with an app-only token (``user_id``),
        a ``not_before`` or ``before`` that is no aware ISO-8601 datetime, or a ``before`` not
        later than ``not_before``
    :raises TypeError: a keyword that is none of these
    """
    try:
        reference = meeting_reference(**checked_names("prepare_meeting_ref", names))
    except ArgumentError as error:
        raise InvalidRequestError(error.argument, error.problem) from None
    sessions = session_window(reference)
    user = request_organizer(
        reference.get("user_id"),
        default_user_id=settings.default_user_id,
        delegated=settings.delegated,
        resource=MEETINGS_RESOURCE,
    )
    if "meeting_id" in reference:
        meeting = _check_usable(reference["meeting_id"], "meeting_id")
        return MeetingRef(
            user, meeting_id=check_missing_value(meeting, "meeting_id", empty_segments=False), sessions=sessions
        )
    if "join_url" in reference:
        url = _check_usable(reference["join_url"], "join_url")
        if not url.lower().startswith("https://"):
            raise InvalidRequestError("join_url", f"must be the meeting's https:// join URL, got {url[:60]!r}")
        return MeetingRef(user, join_url=url, sessions=sessions)
    lookup = prepare_calendar_lookup(reference["external_id"], settings, user_id=user)
    return MeetingRef(user, event_lookup=lookup, sessions=sessions)


def session_window(reference: Mapping[str, str]) -> SessionWindow:
    """The window of :data:`~airflow_provider_meetings.artifact_args.SESSION_KEYS` in a
    reference (:func:`~airflow_provider_meetings.artifact_args.meeting_reference`'s), checked.

    :raises InvalidRequestError: a bound that is no aware ISO-8601 datetime, or ``before`` not
        later than ``not_before``
    """
    not_before = to_utc(reference.get("not_before"), field_name="not_before")
    before = to_utc(reference.get("before"), field_name="before")
    if not_before is not None and before is not None and before <= not_before:
        raise InvalidRequestError(
            "before",
            f"{reference['before']!r} is not later than not_before {reference['not_before']!r}: "
            "no session could start in between",
        )
    return SessionWindow(not_before, before)


def join_url_filter_path(user_id: str | None, join_url: str) -> str:
    """``users/{id}/onlineMeetings?$filter=JoinWebUrl eq '...'`` (``me/...`` for ``None``).

    The join URL is an OData string literal (a quote inside is doubled, OData 4.01 ABNF
    ``SQUOTE-in-string``) and, escapes and all, URL-encoded once more ("joinWebUrl must be
    URL encoded", onlinemeeting-get).
    """
    return f"{user_path(user_id)}/{MEETINGS_RESOURCE}?$filter=" + quote(
        f"JoinWebUrl eq {odata_string(join_url)}", safe="'"
    )


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
