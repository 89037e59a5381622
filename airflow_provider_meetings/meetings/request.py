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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

from airflow_provider_meetings.graph.batch import GraphRequest
from airflow_provider_meetings.graph.errors import InvalidMeetingRequestError

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A conservative UPN: no characters that mean something in a URL path or query, except the
# "#EXT#" of a guest (B2B) user's UPN, e.g. "jane_example.org#EXT#@contoso.onmicrosoft.com"
# (https://learn.microsoft.com/entra/external-id/user-properties); user_path encodes it as %23EXT%23.
UPN_RE = re.compile(r"^[A-Za-z0-9!'^~_+-]+(\.[A-Za-z0-9!'^~_+-]+)*(#(?i:EXT)#)?@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_GUEST_MARK_RE = re.compile(r"#EXT#", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
#: The longest external id the provider sends. Graph documents no limit for ``externalId``;
#: this is the provider's own, chosen to keep ids readable and usable as keys (Outlook
#: extended properties, file names). Checked before any request.
MAX_EXTERNAL_ID_LENGTH = 256
# "None" as a whole segment: not next to a letter or digit ("x-None", "a/None/b"; not "Nonesuch").
_NONE_SEGMENT_RE = re.compile(r"(?<![^\W_])None(?![^\W_])")
# An empty segment: a separator first or last, or two in a row ("dag-", "a--b", "-2026-01-01").
_SEPARATORS = r"[-_./:@\s]"
_EMPTY_SEGMENT_RE = re.compile(rf"^{_SEPARATORS}|{_SEPARATORS}{{2}}|{_SEPARATORS}$")
_CHECK_TEMPLATE = (
    "check what the template reads (dag_run.conf, params, the Airflow variable or XCom) "
    "and give it a value or a default"
)
_FRACTION_RE = re.compile(r"(\.\d{6})\d+")

API_VERSIONS = ("v1.0", "beta")
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
_USE_BETA = "set the connection extra api_version to 'beta' (global cloud only)"


def is_guid(value: str) -> bool:
    """Whether ``value`` looks like an Entra object id."""
    return bool(GUID_RE.fullmatch(value))


def _check_none_word(value: str, field_name: str) -> None:
    """Refuse ``None`` as a whole segment, the text Jinja renders for a missing value."""
    if _NONE_SEGMENT_RE.search(value):
        raise InvalidMeetingRequestError(
            field_name,
            f"{value!r} contains None as a whole word: a template probably rendered a missing value; {_CHECK_TEMPLATE}",
        )


def _check_empty_parts(value: str, field_name: str) -> None:
    """Refuse a leading or trailing separator, or two in a row (a guest's ``#EXT#`` aside)."""
    if _EMPTY_SEGMENT_RE.search(_GUEST_MARK_RE.sub("", value)):
        raise InvalidMeetingRequestError(
            field_name,
            f"{value!r} has an empty part (it starts or ends with a separator, or has two in a row): "
            f"a template probably rendered an empty value; {_CHECK_TEMPLATE}",
        )


def check_missing_value(value: str, field_name: str, *, empty_segments: bool = True) -> str:
    """Return ``value`` unless it holds the text of a missing value.

    :param value: the rendered value
    :param field_name: the argument, named in the error
    :param empty_segments: also refuse a leading or trailing separator, or two in a row
        (``False`` for free text such as a subject)
    :raises InvalidMeetingRequestError: ``None`` as a whole segment, or an empty segment
    """
    _check_none_word(value, field_name)
    if empty_segments:
        _check_empty_parts(value, field_name)
    return value


def validate_external_id(value: Any, *, field_name: str = "external_id") -> str:
    """Return ``value`` if it is usable as a createOrGet ``externalId``."""
    if not isinstance(value, str):
        raise InvalidMeetingRequestError(
            field_name,
            f"must be a string, got {type(value).__name__} {value!r}; template it from a "
            "stable key such as '{{ dag.dag_id }}-{{ ds }}'",
        )
    if not value.strip():
        raise InvalidMeetingRequestError(
            field_name, "is empty; give each meeting a stable, unique id such as '{{ dag.dag_id }}-{{ ds }}'"
        )
    if _CONTROL_RE.search(value):
        raise InvalidMeetingRequestError(field_name, f"contains control characters: {value!r}")
    if len(value) > MAX_EXTERNAL_ID_LENGTH:
        raise InvalidMeetingRequestError(
            field_name,
            f"is {len(value):,} characters long ({value[:40]!r}...); external ids may have at most "
            f"{MAX_EXTERNAL_ID_LENGTH} (the provider's own limit: Graph documents none). Use a shorter "
            "stable key, such as the DAG id and an event key or a hash of the long part",
        )
    return check_missing_value(value, field_name)


def validate_user_id(value: Any, *, field_name: str = "user_id") -> str:
    """Return ``value`` if it is an object id (GUID) or a plain UPN."""
    if not isinstance(value, str):
        raise InvalidMeetingRequestError(
            field_name, f"must be a string (an Entra object id or UPN), got {type(value).__name__}"
        )
    if is_guid(value):
        return value
    _check_none_word(value, field_name)  # first: "None" is no UPN either, but this says why
    if UPN_RE.fullmatch(value):
        _check_empty_parts(value, field_name)
        return value
    raise InvalidMeetingRequestError(
        field_name,
        f"{value!r} is neither an Entra object id (GUID such as "
        "'00000000-0000-0000-0000-000000000000') nor a user principal name "
        "('name@contoso.com'); find the organizer's object id in Entra ID > Users",
    )


def user_path(user_id: str | None) -> str:
    """The Graph path segment of the organizer: ``users/<encoded id>`` or ``me``.

    Every reserved character is percent-encoded (``@`` as ``%40``, a guest's ``#EXT#`` as
    ``%23EXT%23``): a raw ``#`` would end the path and start a URL fragment.
    """
    if user_id is None:
        return "me"
    return "users/" + quote(validate_user_id(user_id), safe="")


def to_utc(value: Any, *, field_name: str) -> datetime | None:
    """Convert an aware datetime or an ISO-8601 string with an offset to a UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        iso = _FRACTION_RE.sub(r"\1", iso)  # Graph writes 7 fractional digits; Python reads 6
        try:
            parsed = datetime.fromisoformat(iso)
        except ValueError:
            raise InvalidMeetingRequestError(
                field_name,
                f"{value!r} is not an ISO-8601 datetime; use e.g. '2026-11-28T09:00:00Z' "
                "or '2026-11-28T10:00:00+01:00'",
            ) from None
        if parsed.tzinfo is None:
            raise InvalidMeetingRequestError(
                field_name,
                f"{value!r} has no timezone; add 'Z' for UTC or an offset such as '+01:00'",
            )
        return parsed.astimezone(timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise InvalidMeetingRequestError(
                field_name,
                f"{value.isoformat()} is a naive datetime; give it a timezone "
                "(datetime(..., tzinfo=timezone.utc) or pendulum.datetime(..., tz='Europe/Paris'))",
            )
        return value.astimezone(timezone.utc)
    if isinstance(value, date):
        raise InvalidMeetingRequestError(
            field_name, f"{value.isoformat()} is a date without a time; give a datetime with a timezone"
        )
    raise InvalidMeetingRequestError(
        field_name, f"must be a datetime or an ISO-8601 string, got {type(value).__name__}"
    )


def format_graph_datetime(value: datetime) -> str:
    """Graph's UTC form, e.g. ``2026-11-28T09:00:00.0000000Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _attendee(item: Any, where: str) -> dict[str, Any]:
    if isinstance(item, str):
        if is_guid(item):
            return {"identity": {"user": {"id": item}}}
        _check_none_word(item, where)
        if UPN_RE.fullmatch(item):
            _check_empty_parts(item, where)
            return {"upn": item}
        raise InvalidMeetingRequestError(where, f"{item!r} is neither an object id nor a UPN")
    if not isinstance(item, Mapping):
        raise InvalidMeetingRequestError(
            where, f"must be a mapping like {{'upn': 'name@contoso.com'}} or a UPN string, got {type(item).__name__}"
        )
    identity = item.get("identity")
    upn = item.get("upn")
    if identity is None and upn is None:
        raise InvalidMeetingRequestError(where, "needs 'identity' ({'user': {'id': <object id>}}) or 'upn' (or both)")
    if identity is not None and not isinstance(identity, Mapping):
        raise InvalidMeetingRequestError(f"{where}.identity", f"must be a mapping, got {type(identity).__name__}")
    if upn is not None and not (isinstance(upn, str) and upn.strip()):
        raise InvalidMeetingRequestError(f"{where}.upn", f"must be a non-empty string, got {upn!r}")
    if upn is not None:
        check_missing_value(upn, f"{where}.upn")
    return dict(item)


def validate_api_version(api_version: Any) -> str:
    """Return ``api_version`` if it is a Graph API version the provider knows."""
    if api_version not in API_VERSIONS:
        raise InvalidMeetingRequestError("api_version", f"{api_version!r} is not one of {list(API_VERSIONS)}")
    return api_version


def normalize_participants(value: Any, *, api_version: str = "v1.0") -> dict[str, Any] | None:
    """Check Graph's ``meetingParticipants`` shape for ``api_version``; attendees may be UPN/GUID strings."""
    validate_api_version(api_version)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidMeetingRequestError(
            "participants",
            f"must be a mapping like {{'attendees': [{{'upn': 'name@contoso.com'}}]}}, got {type(value).__name__}",
        )
    unknown = sorted(set(value) - set(PARTICIPANT_ROLES))
    if unknown:
        raise InvalidMeetingRequestError(
            "participants", f"unknown key(s) {unknown}; allowed: {list(PARTICIPANT_ROLES)}"
        )
    accepted = PARTICIPANT_ROLES_BY_VERSION[api_version]
    for role in PARTICIPANT_ROLES:
        if role in value and role not in accepted:
            raise InvalidMeetingRequestError(
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
            raise InvalidMeetingRequestError(f"participants.{role}", f"must be a list, got {type(members).__name__}")
        result[role] = [_attendee(item, f"participants.{role}[{i}]") for i, item in enumerate(members)]
    return result


@dataclass(frozen=True)
class MeetingSpec:
    """One meeting to create or get, as the caller gave it (not yet validated).

    :param external_id: the meeting's stable key (with tenant and organizer, its identity)
    :param user_id: organizer's object id or UPN; ``None`` for the connection's default
    :param subject: meeting subject
    :param start_date_time: aware datetime or ISO-8601 string with offset
    :param end_date_time: aware datetime or ISO-8601 string with offset
    :param participants: Graph ``meetingParticipants``
    :param chat_info: Graph ``chatInfo``
    """

    external_id: Any
    user_id: Any = None
    subject: Any = None
    start_date_time: Any = None
    end_date_time: Any = None
    participants: Any = None
    chat_info: Any = None

    @classmethod
    def from_mapping(cls, value: Any, *, where: str = "meeting") -> MeetingSpec:
        """Build a spec from a dict with the same keys as the arguments."""
        if isinstance(value, MeetingSpec):
            return value
        if not isinstance(value, Mapping):
            raise InvalidMeetingRequestError(where, f"must be a mapping, got {type(value).__name__}")
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise InvalidMeetingRequestError(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        if "external_id" not in value:
            raise InvalidMeetingRequestError(f"{where}.external_id", "is missing")
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


def build_create_or_get_body(
    external_id: Any,
    *,
    subject: Any = None,
    start_date_time: Any = None,
    end_date_time: Any = None,
    participants: Any = None,
    chat_info: Any = None,
    api_version: str = "v1.0",
) -> dict[str, Any]:
    """Validate the arguments and return the JSON body for createOrGet.

    :param api_version: the Graph API version the body is for (``v1.0`` or ``beta``);
        properties that version does not define are refused.
    """
    validate_api_version(api_version)
    body: dict[str, Any] = {"externalId": validate_external_id(external_id)}
    if subject is not None:
        if not isinstance(subject, str):
            raise InvalidMeetingRequestError("subject", f"must be a string, got {type(subject).__name__}")
        # Free text: " - " or "(...)" are usual in a subject, so only the None rule applies.
        body["subject"] = check_missing_value(subject, "subject", empty_segments=False)
    start = to_utc(start_date_time, field_name="start_date_time")
    end = to_utc(end_date_time, field_name="end_date_time")
    if end is not None and start is None:
        raise InvalidMeetingRequestError(
            "end_date_time",
            f"{end_date_time!r} was given without start_date_time; Graph needs a start "
            "to go with an end (give both, or only a start for a one-hour meeting)",
        )
    if start is not None and end is not None and end <= start:
        raise InvalidMeetingRequestError(
            "end_date_time",
            f"end_date_time {end_date_time!r} ({format_graph_datetime(end)}) is not after "
            f"start_date_time {start_date_time!r} ({format_graph_datetime(start)})",
        )
    if start is not None:
        body["startDateTime"] = format_graph_datetime(start)
    if end is not None:
        body["endDateTime"] = format_graph_datetime(end)
    normalized = normalize_participants(participants, api_version=api_version)
    if normalized is not None:
        body["participants"] = normalized
    if chat_info is not None:
        if api_version not in VERSIONED_ARGUMENTS["chat_info"]:
            raise InvalidMeetingRequestError(
                "chat_info",
                f"is supported only in Graph beta (Microsoft's createOrGet documents chatInfo for beta "
                f"only), not with api_version={api_version!r}; {_USE_BETA}, or drop chat_info",
            )
        if not isinstance(chat_info, Mapping):
            raise InvalidMeetingRequestError(
                "chat_info",
                f"must be a mapping like {{'threadId': '19:...@thread.v2'}}, got {type(chat_info).__name__}",
            )
        body["chatInfo"] = dict(chat_info)
    return body


def prepare_request(
    spec: MeetingSpec, *, default_user_id: str | None = None, api_version: str = "v1.0"
) -> PreparedRequest:
    """Validate ``spec`` and say where and what to send; ``None`` user means ``/me``.

    :param spec: the meeting as the caller gave it.
    :param default_user_id: organizer when ``spec.user_id`` is empty (``None``: ``/me``).
    :param api_version: the connection's Graph API version; what it does not define is refused.
    """
    user_id = spec.user_id if spec.user_id not in (None, "") else default_user_id
    path = f"{user_path(user_id)}/onlineMeetings/createOrGet"
    body = build_create_or_get_body(
        spec.external_id,
        subject=spec.subject,
        start_date_time=spec.start_date_time,
        end_date_time=spec.end_date_time,
        participants=spec.participants,
        chat_info=spec.chat_info,
        api_version=api_version,
    )
    return PreparedRequest(path=path, body=body, user_id=user_id)
