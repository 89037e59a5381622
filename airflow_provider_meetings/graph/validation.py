"""Checks every resource makes of what a caller gives, beside :mod:`~airflow_provider_meetings.graph.values`:
free text, and the size of a bulk call. Pure functions, no network.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_meetings.graph.batch import MAX_BULK_ITEMS
from airflow_provider_meetings.graph.errors import InvalidMeetingRequestError
from airflow_provider_meetings.graph.values import check_missing_value

__all__ = ["check_bulk_size", "check_free_text"]


def check_free_text(value: Any, field_name: str) -> str:
    """Return ``value`` if it is a string without the text of a missing value.

    Free text (a subject, a name): " - " or "(...)" are usual in it, so only the ``None`` rule
    of :func:`~airflow_provider_meetings.graph.values.check_missing_value` applies.

    :param value: the rendered value
    :param field_name: the argument, named in the error
    :raises InvalidMeetingRequestError: not a string, or ``None`` as a whole word
    """
    if not isinstance(value, str):
        raise InvalidMeetingRequestError(field_name, f"must be a string, got {type(value).__name__}")
    return check_missing_value(value, field_name, empty_segments=False)


def check_bulk_size(count: int, field_name: str) -> None:
    """Refuse a bulk call of more than :data:`~airflow_provider_meetings.graph.batch.MAX_BULK_ITEMS` items.

    :param count: how many items the call has
    :param field_name: the argument that holds them, e.g. ``meetings``
    :raises InvalidMeetingRequestError: too many items (checked before anything is sent)
    """
    if count > MAX_BULK_ITEMS:
        raise InvalidMeetingRequestError(
            field_name,
            f"has {count:,} items; one bulk call takes at most {MAX_BULK_ITEMS:,}. "
            "Split the list across tasks (e.g. by week or by organizer); nothing was sent",
        )
