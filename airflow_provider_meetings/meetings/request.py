"""Building and validating createOrGet requests: pure functions, no Airflow, no network.

Rules that a caller meets here (and that the docs repeat):

* ``external_id``: a non-empty string of at most 256 characters without control characters;
  it is the meeting's identity together with the tenant and the organizer. Graph documents
  no limit: 256 is the provider's own, to keep ids readable and usable as keys (Outlook
  extended properties, file names).
* Missing values: a template that renders ``None`` or an empty variable books a meeting
  such as ``dag-None`` or ``dag-`` silently, so an external id, organizer, attendee UPN or
  subject with the word ``None`` as a whole segment (between non-alphanumerics) is
  refused, and so is an external id or UPN with an empty segment (a leading or trailing
  separator, or two in a row, separators being ``- _ . / : @`` and white space).
* ``user_id``: the organizer's Entra object id (a GUID) or UPN, a guest's
  ``name_example.org#EXT#@contoso.onmicrosoft.com`` included; it is percent-encoded into
  the URL path (``#`` as ``%23``), and anything else (slashes, ``..``, ``?``, a ``#``
  outside ``#EXT#``, ``%``, white space) is refused. ``None`` means ``/me`` (delegated tokens).
* Datetimes: timezone-aware ``datetime`` objects (pendulum's included) and ISO-8601
  strings **with** an offset or ``Z`` are converted to UTC. Naive values are refused,
  because guessing a timezone for a meeting silently moves it by hours.
* ``end_date_time`` needs ``start_date_time`` and must be after it. With neither, Graph
  makes the meeting start now and last one hour; with only a start, it lasts one hour.
* API version: Graph answers 400 for a property its version does not define. v1.0's
  ``meetingParticipants`` has only ``organizer`` and ``attendees`` (beta adds ``producers``
  and ``contributors``), and v1.0's createOrGet page lists no ``chatInfo`` (it is supported
  only in beta). Those are refused on v1.0 before any request. The tables below follow the
  official SDK models (``msgraph-sdk`` for v1.0, ``msgraph-beta-sdk`` for beta); the
  contract tests in ``tests/contract`` keep them equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from airflow_provider_meetings.graph.batch import GraphRequest
from airflow_provider_meetings.graph.errors import InvalidRequestError
from airflow_provider_meetings.graph.values import (
    UPN_RE,
    check_free_text,
    check_member,
    check_missing_value,
    check_properties,
    format_graph_datetime,
    is_guid,
    request_organizer,
    to_utc,
    user_path,
    validate_external_id,
)

API_VERSIONS = ("v1.0", "beta")
#: The path of createOrGet below the organizer (``users/{id}/`` or ``me/``).
CREATE_OR_GET_RESOURCE = "onlineMeetings/createOrGet"
#: Properties of ``meetingParticipants`` per Graph API version (official SDK models).
PARTICIPANT_ROLES_BY_VERSION: dict[str, tuple[str, ...]] = {
    "v1.0": ("organizer", "attendees"),
    "beta": ("organizer", "attendees", "producers", "contributors"),
}
#: Every role any version knows (the order bodies are built in).
PARTICIPANT_ROLES = PARTICIPANT_ROLES_BY_VERSION["beta"]
#: createOrGet arguments that only some versions accept: argument -> versions.
#: "chatInfo" is documented for createOrGet in beta only.
VERSIONED_ARGUMENTS: dict[str, tuple[str, ...]] = {"chat_info": ("beta",)}
#: Properties of ``meetingParticipantInfo`` and of ``chatInfo`` (the same in both versions).
PARTICIPANT_INFO_PROPERTIES = ("identity", "upn", "role")
CHAT_INFO_PROPERTIES = ("threadId", "messageId", "replyChainMessageId")
#: ``onlineMeetingRole`` (both versions; ``unknownFutureValue`` is Graph's evolvable-enum sentinel).
ONLINE_MEETING_ROLES = ("attendee", "presenter", "producer", "coorganizer")
_USE_BETA = "set the connection extra api_version to 'beta' (global cloud only)"


def _attendee(item: Any, where: str) -> dict[str, Any]:
    if isinstance(item, str):
        if is_guid(item):
            return {"identity": {"user": {"id": item}}}
        check_missing_value(item, where, empty_segments=False)  # first: "None" is no UPN either
        if UPN_RE.fullmatch(item):
            return {"upn": check_missing_value(item, where)}
        raise InvalidRequestError(where, f"{item!r} is neither an object id nor a UPN")
    if not isinstance(item, Mapping):
        raise InvalidRequestError(
            where, f"must be a mapping like {{'upn': 'name@contoso.com'}} or a UPN string, got {type(item).__name__}"
        )
    identity = item.get("identity")
    upn = item.get("upn")
    if identity is None and upn is None:
        raise InvalidRequestError(where, "needs 'identity' ({'user': {'id': <object id>}}) or 'upn' (or both)")
    check_properties(item, PARTICIPANT_INFO_PROPERTIES, where, model="meetingParticipantInfo")
    if "role" in item:
        check_member(item["role"], ONLINE_MEETING_ROLES, f"{where}.role")
    if identity is not None and not isinstance(identity, Mapping):
        raise InvalidRequestError(f"{where}.identity", f"must be a mapping, got {type(identity).__name__}")
    if upn is not None and not (isinstance(upn, str) and upn.strip()):
        raise InvalidRequestError(f"{where}.upn", f"must be a non-empty string, got {upn!r}")
    if upn is not None:
        check_missing_value(upn, f"{where}.upn")
    return dict(item)


def validate_api_version(api_version: Any) -> str:
    """Return ``api_version`` if it is a Graph API version the provider knows."""
    if api_version not in API_VERSIONS:
        raise InvalidRequestError("api_version", f"{api_version!r} is not one of {list(API_VERSIONS)}")
    return api_version


def normalize_participants(value: Any, *, api_version: str = "v1.0") -> dict[str, Any] | None:
    """Check Graph's ``meetingParticipants`` shape for ``api_version``; attendees may be UPN/GUID strings."""
    validate_api_version(api_version)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            "participants",
            f"must be a mapping like {{'attendees': [{{'upn': 'name@contoso.com'}}]}}, got {type(value).__name__}",
        )
    unknown = sorted(set(value) - set(PARTICIPANT_ROLES))
    if unknown:
        raise InvalidRequestError("participants", f"unknown key(s) {unknown}; allowed: {list(PARTICIPANT_ROLES)}")
    accepted = PARTICIPANT_ROLES_BY_VERSION[api_version]
    for role in PARTICIPANT_ROLES:
        if role in value and role not in accepted:
            raise InvalidRequestError(
                f"participants.{role}",
                f"is not a property of meetingParticipants in Graph {api_version} (api_version={api_version!r}, "
                f"which accepts only {sorted(accepted)}) and Graph would answer 400; {_USE_BETA}, "
                f"or drop '{role}' (list these people as attendees)",
            )
    result: dict[str, Any] = {}
    for role in PARTICIPANT_ROLES:
        if role not in value:
            continue
        members = value[role]
        if role == "organizer":
            result[role] = _attendee(members, f"participants.{role}") if members is not None else None
            continue
        if isinstance(members, (str, bytes)) or not isinstance(members, Sequence):
            raise InvalidRequestError(f"participants.{role}", f"must be a list, got {type(members).__name__}")
        result[role] = [_attendee(item, f"participants.{role}[{i}]") for i, item in enumerate(members)]
    return result


@dataclass(frozen=True)
class MeetingSpec:
    """One meeting to create or get, as the caller gave it: typed as the hook's
    :meth:`~airflow_provider_meetings.hooks.online_meetings.OnlineMeetingsHook.create_or_get_meeting`
    declares its arguments, and not yet checked (a bulk item may hold anything; preparing it checks).

    :param external_id: the meeting's stable key (with tenant and organizer, its identity)
    :param user_id: organizer's object id or UPN; ``None`` for the connection's default
    :param subject: meeting subject
    :param start_date_time: aware datetime or ISO-8601 string with offset
    :param end_date_time: aware datetime or ISO-8601 string with offset
    :param participants: Graph ``meetingParticipants``
    :param chat_info: Graph ``chatInfo``
    """

    external_id: str
    user_id: str | None = None
    subject: str | None = None
    start_date_time: Any = None
    end_date_time: Any = None
    participants: Mapping[str, Any] | None = None
    chat_info: Mapping[str, Any] | None = None

    @classmethod
    def from_mapping(cls, value: Any, *, where: str = "meeting") -> MeetingSpec:
        """Build a spec from a dict with the same keys as the arguments."""
        if isinstance(value, MeetingSpec):
            return value
        if not isinstance(value, Mapping):
            raise InvalidRequestError(where, f"must be a mapping, got {type(value).__name__}")
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise InvalidRequestError(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        if "external_id" not in value:
            raise InvalidRequestError(f"{where}.external_id", "is missing")
        return cls(**value)


@dataclass(frozen=True)
class PreparedRequest(GraphRequest):
    """A validated onlineMeetings call: a :class:`~airflow_provider_meetings.graph.batch.GraphRequest`
    whose ``key`` is the meeting's external id (default: the body's ``externalId``).

    :param path: below the versioned Graph root, e.g. ``users/<id>/onlineMeetings/createOrGet``
    :param body: the JSON body (``None`` for GET and DELETE)
    :param user_id: the organizer (``None`` for ``/me``), named in errors
    :param method: HTTP method
    :param key: the meeting's external id
    """

    method: str = "POST"

    def __post_init__(self) -> None:
        if self.key is None and self.body is not None and "externalId" in self.body:
            object.__setattr__(self, "key", self.body["externalId"])

    @property
    def external_id(self) -> str | None:
        """The meeting's external id (the request's ``key``)."""
        return self.key

    @property
    def operation(self) -> str:
        """A short name for logs: ``createOrGet``, ``PATCH onlineMeetings``, ``GET users``..."""
        last = self.path.rstrip("/").rsplit("/", 1)[-1]
        if self.method == "POST" and last == "createOrGet":
            return "createOrGet"
        resource = "onlineMeetings" if "/onlineMeetings" in self.path else self.path.split("/", 1)[0]
        return f"{self.method} {resource}"


def build_create_or_get_body(spec: MeetingSpec, *, api_version: str = "v1.0") -> dict[str, Any]:
    """Validate the meeting's fields and return the JSON body for createOrGet (``spec.user_id``
    is where it goes, not part of the body: see :func:`prepare_request`).

    :param spec: the meeting as the caller gave it
    :param api_version: the Graph API version the body is for (``v1.0`` or ``beta``);
        properties that version does not define are refused.
    """
    validate_api_version(api_version)
    external_id, subject, chat_info = spec.external_id, spec.subject, spec.chat_info
    start_date_time, end_date_time = spec.start_date_time, spec.end_date_time
    body: dict[str, Any] = {"externalId": validate_external_id(external_id)}
    if subject is not None:
        body["subject"] = check_free_text(subject, "subject")
    start = to_utc(start_date_time, field_name="start_date_time")
    end = to_utc(end_date_time, field_name="end_date_time")
    if end is not None and start is None:
        raise InvalidRequestError(
            "end_date_time",
            f"{end_date_time!r} was given without start_date_time; Graph needs a start "
            "to go with an end (give both, or only a start for a one-hour meeting)",
        )
    if start is not None and end is not None and end <= start:
        raise InvalidRequestError(
            "end_date_time",
            f"end_date_time {end_date_time!r} ({format_graph_datetime(end)}) is not after "
            f"start_date_time {start_date_time!r} ({format_graph_datetime(start)})",
        )
    if start is not None:
        body["startDateTime"] = format_graph_datetime(start)
    if end is not None:
        body["endDateTime"] = format_graph_datetime(end)
    normalized = normalize_participants(spec.participants, api_version=api_version)
    if normalized is not None:
        body["participants"] = normalized
    if chat_info is not None:
        if api_version not in VERSIONED_ARGUMENTS["chat_info"]:
            raise InvalidRequestError(
                "chat_info",
                f"is supported only in Graph beta (Microsoft's createOrGet documents chatInfo for beta "
                f"only), not with api_version={api_version!r}; {_USE_BETA}, or drop chat_info",
            )
        if not isinstance(chat_info, Mapping):
            raise InvalidRequestError(
                "chat_info",
                f"must be a mapping like {{'threadId': '19:...@thread.v2'}}, got {type(chat_info).__name__}",
            )
        check_properties(chat_info, CHAT_INFO_PROPERTIES, "chat_info", model="chatInfo")
        body["chatInfo"] = dict(chat_info)
    return body


def prepare_request(
    spec: MeetingSpec, *, default_user_id: str | None = None, api_version: str = "v1.0", delegated: bool = True
) -> PreparedRequest:
    """Validate ``spec`` and say where and what to send; ``None`` user means ``/me``.

    :param spec: the meeting as the caller gave it.
    :param default_user_id: organizer when ``spec.user_id`` is not given (``None`` or ``""``);
        ``None``: ``/me``.
    :param api_version: the connection's Graph API version; what it does not define is refused.
    :param delegated: whether the connection's tokens are delegated (``False``: ``/me`` is
        refused, an organizer is needed); the organizer follows
        :func:`~airflow_provider_meetings.graph.values.request_organizer`.
    :raises InvalidRequestError: which field, what is wrong, what to do
    """
    user_id = request_organizer(
        spec.user_id, default_user_id=default_user_id, delegated=delegated, resource=CREATE_OR_GET_RESOURCE
    )
    path = f"{user_path(user_id)}/{CREATE_OR_GET_RESOURCE}"
    body = build_create_or_get_body(spec, api_version=api_version)
    return PreparedRequest(path=path, body=body, user_id=user_id)
