"""Values every Graph resource checks before any request: pure functions, no network.

The rules (the docs repeat them, e.g. docs/operators.md):

* ``external_id``: a non-empty string of at most 256 characters without control characters.
  Graph documents no limit: 256 is the provider's own, to keep ids readable and usable as
  keys (Outlook extended properties, file names).
* Missing values: a template that renders ``None`` or an empty variable would book
  ``dag-None`` or ``dag-`` silently, so a value with the word ``None`` as a whole segment
  (between non-alphanumerics) is refused, and so is an id or UPN with an empty segment (a
  leading or trailing separator, or two in a row, separators being ``- _ . / : @`` and
  white space).
* ``user_id``: an Entra object id (a GUID) or UPN, a guest's
  ``name_example.org#EXT#@contoso.onmicrosoft.com`` included; it is percent-encoded into
  the URL path (``#`` as ``%23``), and anything else (slashes, ``..``, ``?``, a ``#``
  outside ``#EXT#``, ``%``, white space) is refused. ``None`` means ``/me`` (delegated tokens).
* The organizer of a request (:func:`request_organizer`): ``user_id`` when given (``None``
  and ``""``, what an unset template renders, are not given), else the connection's
  ``default_user_id``, else ``/me``, which only a delegated token may use.
* OData string literals (:func:`odata_string`): in single quotes, a quote inside doubled.
* Datetimes: timezone-aware ``datetime`` objects (pendulum's included) and ISO-8601
  strings **with** an offset or ``Z``; naive values are refused, because guessing a
  timezone silently moves a meeting by hours. :func:`to_aware` keeps the value's own zone
  (a string's is its offset), :func:`to_utc` converts to UTC.
* The organizer as a key (:func:`organizer_key`): without case, ``""`` for ``/me``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

from airflow_provider_meetings.graph.errors import InvalidRequestError

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


def is_guid(value: str) -> bool:
    """Whether ``value`` looks like an Entra object id."""
    return bool(GUID_RE.fullmatch(value))


def _check_none_word(value: str, field_name: str) -> None:
    """Refuse ``None`` as a whole segment, the text Jinja renders for a missing value."""
    if _NONE_SEGMENT_RE.search(value):
        raise InvalidRequestError(
            field_name,
            f"{value!r} contains None as a whole word: a template probably rendered a missing value; {_CHECK_TEMPLATE}",
        )


def _check_empty_parts(value: str, field_name: str) -> None:
    """Refuse a leading or trailing separator, or two in a row (a guest's ``#EXT#`` aside)."""
    if _EMPTY_SEGMENT_RE.search(_GUEST_MARK_RE.sub("", value)):
        raise InvalidRequestError(
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
    :raises InvalidRequestError: ``None`` as a whole segment, or an empty segment
    """
    _check_none_word(value, field_name)
    if empty_segments:
        _check_empty_parts(value, field_name)
    return value


def check_free_text(value: Any, field_name: str) -> str:
    """Return ``value`` if it is a string without the text of a missing value.

    Free text (a subject, a name): " - " or "(...)" are usual in it, so only the ``None`` rule
    of :func:`check_missing_value` applies.

    :param value: the rendered value
    :param field_name: the argument, named in the error
    :raises InvalidRequestError: not a string, or ``None`` as a whole word
    """
    if not isinstance(value, str):
        raise InvalidRequestError(field_name, f"must be a string, got {type(value).__name__}")
    return check_missing_value(value, field_name, empty_segments=False)


def validate_external_id(value: Any, *, field_name: str = "external_id") -> str:
    """Return ``value`` if it is usable as a createOrGet ``externalId``."""
    if not isinstance(value, str):
        raise InvalidRequestError(
            field_name,
            f"must be a string, got {type(value).__name__} {value!r}; template it from a "
            "stable key such as '{{ dag.dag_id }}-{{ ds }}'",
        )
    if not value.strip():
        raise InvalidRequestError(
            field_name, "is empty; give each meeting a stable, unique id such as '{{ dag.dag_id }}-{{ ds }}'"
        )
    if _CONTROL_RE.search(value):
        raise InvalidRequestError(field_name, f"contains control characters: {value!r}")
    if len(value) > MAX_EXTERNAL_ID_LENGTH:
        raise InvalidRequestError(
            field_name,
            f"is {len(value):,} characters long ({value[:40]!r}...); external ids may have at most "
            f"{MAX_EXTERNAL_ID_LENGTH} (the provider's own limit: Graph documents none). Use a shorter "
            "stable key, such as the DAG id and an event key or a hash of the long part",
        )
    return check_missing_value(value, field_name)


def validate_user_id(value: Any, *, field_name: str = "user_id") -> str:
    """Return ``value`` if it is an object id (GUID) or a plain UPN."""
    if not isinstance(value, str):
        raise InvalidRequestError(
            field_name, f"must be a string (an Entra object id or UPN), got {type(value).__name__}"
        )
    if is_guid(value):
        return value
    _check_none_word(value, field_name)  # first: "None" is no UPN either, but this says why
    if UPN_RE.fullmatch(value):
        _check_empty_parts(value, field_name)
        return value
    raise InvalidRequestError(
        field_name,
        f"{value!r} is neither an Entra object id (GUID such as "
        "'00000000-0000-0000-0000-000000000000') nor a user principal name "
        "('name@contoso.com'); find the organizer's object id in Entra ID > Users",
    )


def user_path(user_id: str | None) -> str:
    """The Graph path segment of a user: ``users/<encoded id>`` or ``me``.

    Every reserved character is percent-encoded (``@`` as ``%40``, a guest's ``#EXT#`` as
    ``%23EXT%23``): a raw ``#`` would end the path and start a URL fragment.
    """
    if user_id is None:
        return "me"
    return "users/" + quote(validate_user_id(user_id), safe="")


def organizer_key(user_id: str | None) -> str:
    """An organizer compared as Entra compares it: an object id or UPN without case; ``""``
    for ``/me`` (``None``, or ``""`` as an unset template renders it).

    The one key of "the same organizer" in bulk calls (repeated items), and part of an
    event's ``transactionId``.

    :param user_id: the organizer as checked (:func:`request_organizer`), ``None`` for ``/me``
    """
    return user_id.lower() if user_id else ""


def request_organizer(user_id: Any, *, default_user_id: str | None, delegated: bool, resource: str) -> str | None:
    """The organizer a request is for, checked: ``user_id`` when given, else the
    connection's ``default_user_id``, else ``None`` (``/me``) for a delegated connection.

    ``/me`` needs a signed-in user: "Calling the /me endpoint requires a signed-in user and
    therefore a delegated permission. Application permissions are not supported"
    (https://learn.microsoft.com/graph/api/user-get, "HTTP request"), so an app-only
    connection must name the organizer.

    :param user_id: the organizer as the caller gave it; ``None`` and ``""`` (what a template
        renders when unset) mean not given
    :param default_user_id: the connection's extra ``default_user_id`` (``None``: not set)
    :param delegated: whether the connection's tokens act as a signed-in user (a refresh token)
    :param resource: the path below the user that the request is for, e.g. ``events`` or
        ``onlineMeetings/createOrGet``: named in the error
    :return: the organizer's object id or UPN as given (checked by :func:`validate_user_id`),
        or ``None`` for ``/me``
    :raises InvalidRequestError: (field ``user_id``) a bad organizer, or none with an app-only token
    """
    organizer = user_id if user_id not in (None, "") else default_user_id
    if organizer is not None:
        return validate_user_id(organizer)
    if not delegated:
        raise InvalidRequestError(
            "user_id",
            f"no organizer: app-only tokens cannot use /me/{resource} (they sign in no user). Pass user_id "
            "(the organizer's Entra object id or UPN), set the connection extra default_user_id, or use a "
            "delegated connection (a refresh_token)",
        )
    return None


def check_properties(value: Mapping[str, Any], allowed: Sequence[str], where: str, *, model: str) -> None:
    """Refuse a key of a mapping passed on to Graph that its type ``model`` does not define
    (Graph answers 400); ``@odata.`` annotations pass.

    :param allowed: the type's properties (the contract tests keep them equal to the SDK models)
    :raises InvalidRequestError: naming the keys and the ones allowed
    """
    unknown = sorted(str(name) for name in value if name not in allowed and not str(name).startswith("@odata."))
    if unknown:
        raise InvalidRequestError(where, f"{unknown} not properties of Graph's {model}; allowed: {list(allowed)}")


def check_member(value: Any, allowed: Sequence[str], where: str) -> Any:
    """Return ``value`` if it is a member of a Graph enum; Graph's members are lower camel case
    (``monday``, ``presenter``), so ``Monday`` is refused with the spelling to use."""
    if value in allowed:
        return value
    spelling = {member.lower(): member for member in allowed}
    hint = f" (write {spelling[value.lower()]!r})" if isinstance(value, str) and value.lower() in spelling else ""
    raise InvalidRequestError(where, f"{value!r} is not one of {list(allowed)}{hint}")


def odata_string(value: str) -> str:
    """An OData string literal: ``value`` in single quotes, each quote inside doubled
    (``O'Brien-1`` gives ``'O''Brien-1'``; OData 4.01 ABNF, ``SQUOTE-in-string``).

    URL-encoding the query that holds it is the caller's: each path encodes its own way.

    :param value: the text to compare with, e.g. an external id or a join URL
    """
    return "'" + value.replace("'", "''") + "'"


def parse_iso(text: str) -> datetime:
    """``datetime.fromisoformat`` that also reads Graph's timestamps, whose 7 fraction digits
    (``2026-11-28T09:00:00.0000000``) are cut to the 6 Python reads.

    :param text: an ISO-8601 date and time, with or without an offset
    :raises ValueError: as ``datetime.fromisoformat`` does
    """
    return datetime.fromisoformat(_FRACTION_RE.sub(r"\1", text))


def to_aware(value: Any, *, field_name: str) -> datetime | None:
    """An aware datetime as given, or an ISO-8601 string with an offset parsed: its own
    ``tzinfo`` kept (a zoneinfo or pendulum zone of a datetime; a fixed offset, UTC for ``Z``
    and ``+00:00``, of a string), so the datetime and the string of one instant give one value.

    :param value: an aware ``datetime``, an ISO-8601 string with an offset or ``Z``, or ``None``
    :param field_name: the argument, named in the error
    :return: the aware datetime, or ``None`` for ``None`` and a blank string
    :raises InvalidRequestError: naive values, dates, text that is no ISO-8601 datetime, other types
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        try:
            parsed = parse_iso(iso)
        except ValueError:
            raise InvalidRequestError(
                field_name,
                f"{value!r} is not an ISO-8601 datetime; use e.g. '2026-11-28T09:00:00Z' "
                "or '2026-11-28T10:00:00+01:00'",
            ) from None
        if parsed.tzinfo is None:
            raise InvalidRequestError(
                field_name,
                f"{value!r} has no timezone; add 'Z' for UTC or an offset such as '+01:00'",
            )
        return parsed
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise InvalidRequestError(
                field_name,
                f"{value.isoformat()} is a naive datetime; give it a timezone "
                "(datetime(..., tzinfo=timezone.utc) or pendulum.datetime(..., tz='Europe/Paris'))",
            )
        return value
    if isinstance(value, date):
        raise InvalidRequestError(
            field_name, f"{value.isoformat()} is a date without a time; give a datetime with a timezone"
        )
    raise InvalidRequestError(field_name, f"must be a datetime or an ISO-8601 string, got {type(value).__name__}")


def to_utc(value: Any, *, field_name: str) -> datetime | None:
    """Convert an aware datetime or an ISO-8601 string with an offset to a UTC datetime
    (:func:`to_aware`'s rules and errors)."""
    aware = to_aware(value, field_name=field_name)
    return None if aware is None else aware.astimezone(timezone.utc)


def format_graph_datetime(value: datetime) -> str:
    """Graph's UTC form, e.g. ``2026-11-28T09:00:00.0000000Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
