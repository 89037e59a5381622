"""What the provider returns: plain, JSON-friendly result types (no I/O, no heavy imports).

The operators import these when Airflow parses DAG files, so this module must stay light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_meetings.graph.batch import BulkProgress, FailableResult
from airflow_provider_meetings.graph.errors import error_fields
from airflow_provider_meetings.graph.fields import ResourceField

__all__ = [
    "CANCELLED",
    "CREATED",
    "EXISTING",
    "NOT_FOUND",
    "UNCHANGED",
    "UPDATED",
    "BulkItemResult",
    "BulkProgress",
    "MeetingResult",
    "MeetingStatus",
    "SyncResult",
]

#: What a call did about a meeting (``SyncResult.status``, ``BulkItemResult.outcome``, the
#: XCom ``status``): ``created`` (201), ``existing`` (200, not compared: createOrGet without
#: ``update_existing``), ``updated`` (one PATCH), ``unchanged`` (nothing differed, no PATCH),
#: ``cancelled`` (a meeting existed and was deleted), ``not_found`` (a cancel found none).
MeetingStatus = Literal["created", "existing", "updated", "unchanged", "cancelled", "not_found"]
CREATED: MeetingStatus = "created"
EXISTING: MeetingStatus = "existing"
UPDATED: MeetingStatus = "updated"
UNCHANGED: MeetingStatus = "unchanged"
CANCELLED: MeetingStatus = "cancelled"
NOT_FOUND: MeetingStatus = "not_found"


@dataclass(frozen=True)
class MeetingResult:
    """The outcome of one createOrGet call.

    :param meeting: Graph's ``onlineMeeting`` JSON, as returned
    :param created: ``True`` when Graph created the meeting (201), ``False`` when it
        returned an existing one (200)
    :param user_id: the organizer's Entra object id, where the request went (``None``: ``/me``)
    :param given_user_id: the organizer as given: a UPN (looked up to ``user_id``) or the
        object id itself; ``None`` for ``/me``
    """

    meeting: dict[str, Any]
    created: bool
    user_id: str | None = None
    given_user_id: str | None = None

    meeting_id = ResourceField("meeting", "id", "Graph's meeting id.")
    join_url = ResourceField("meeting", "joinWebUrl", "The ``joinWebUrl`` attendees open.")


@dataclass(frozen=True)
class SyncResult(MeetingResult):
    """The outcome of one sync: createOrGet, then a PATCH of what differed (if anything did).

    :param meeting: the meeting as it is now (the PATCH's answer when there was one)
    :param created: ``True`` when the meeting was created by this call
    :param status: ``created``, ``updated`` or ``unchanged``
    """

    status: MeetingStatus = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class BulkItemResult(FailableResult):
    """The outcome of one item of a bulk call.

    :param index: position of the item in the input
    :param external_id: the item's external id (``None`` when it was not a string)
    :param user_id: the organizer's Entra object id, where the request went (``None`` for
        ``/me``, and for an item refused before sending whose organizer had no object id)
    :param meeting: the meeting's kept fields (see ``meeting_fields``), or ``None`` on error
    :param created: ``True`` for 201 (created), ``False`` for 200 (existing), ``None`` on error
    :param error: why the item failed, or ``None``
    :param attempts: requests sent for this item (0 if it was refused before sending)
    :param http_status: the HTTP status of the item's last successful answer (``None`` on error)
    :param outcome: what the call did about the meeting (see :data:`MeetingStatus`;
        ``None`` on error); the XCom key ``status`` of :meth:`to_dict`
    :param given_user_id: the organizer as given (the item's ``user_id``, else the default
        organizer): a UPN, or the object id itself; ``None`` for ``/me``
    :param first_created: for an item whose createOrGet succeeded and whose ``PATCH`` or
        ``DELETE`` then failed: whether that createOrGet created the meeting (a deferred task
        that sends the item again reports a cancel as ``not_found``, as it would have);
        ``None`` otherwise. Not part of :meth:`to_dict`
    """

    index: int
    external_id: str | None
    user_id: str | None
    meeting: Mapping[str, Any] | None = None
    created: bool | None = None
    error: BaseException | None = None
    attempts: int = 0
    http_status: int | None = None
    outcome: MeetingStatus | None = None
    given_user_id: str | None = None
    first_created: bool | None = None

    @property
    def status(self) -> int | None:
        """Deprecated name of :attr:`http_status` (``to_dict()["status"]`` is the :attr:`outcome`)."""
        return self.http_status

    meeting_id = ResourceField("meeting", "id", "Graph's meeting id (``None`` on error or cancel).")
    join_url = ResourceField("meeting", "joinWebUrl", "The meeting's ``joinWebUrl``.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for XCom); carries no token and no passcode."""
        return {
            "index": self.index,
            "external_id": self.external_id,
            "user_id": self.user_id,
            "given_user_id": self.given_user_id,
            "meeting_id": self.meeting_id,
            "join_web_url": self.join_url,
            "created": self.created,
            "status": self.outcome,
            **error_fields(self.error),
        }
