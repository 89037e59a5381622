"""The Microsoft Graph permissions the calendar-event calls need, as data.

See :mod:`airflow_provider_meetings.meetings.permissions` for the meetings' ones and
:class:`~airflow_provider_meetings.graph.permissions.RequiredPermission` for the type.
Events need no Teams application access policy; an Exchange administrator can restrict an
app to some mailboxes instead (RBAC for Applications).
"""

from __future__ import annotations

from airflow_provider_meetings.graph.permissions import RequiredPermission

__all__ = ["CALENDAR_EVENTS", "CALENDAR_EVENTS_SHARED"]

#: ``POST /users/{id}/events`` (``/me/events`` with a delegated token), and the lookup by
#: extended property, PATCH and ``/cancel`` of the same events.
CALENDAR_EVENTS = RequiredPermission.documented("calendar events", "user-post-events", "Calendars.ReadWrite")

#: A delegated token that writes to **another** user's calendar (``user_id=`` with a
#: ``refresh_token`` connection) needs the shared permission and that user's delegation of
#: the calendar; an app-only token needs nothing more than :data:`CALENDAR_EVENTS`.
CALENDAR_EVENTS_SHARED = RequiredPermission(
    operation="calendar events in another user's calendar",
    application="Calendars.ReadWrite",
    delegated="Calendars.ReadWrite.Shared",
    source="https://learn.microsoft.com/graph/permissions-reference#calendarsreadwriteshared",
)
