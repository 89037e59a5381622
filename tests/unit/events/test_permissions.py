"""The permissions calendar events need, as data (the connection check reads them)."""

from __future__ import annotations

from airflow_provider_meetings.events.permissions import CALENDAR_EVENTS, CALENDAR_EVENTS_SHARED
from airflow_provider_meetings.graph.permissions import RequiredPermission
from airflow_provider_meetings.meetings import permissions as meeting_permissions


def test_calendar_events_per_kind_of_token():
    # https://learn.microsoft.com/graph/api/user-post-events#permissions
    assert CALENDAR_EVENTS.for_token(delegated=False) == "Calendars.ReadWrite"
    assert CALENDAR_EVENTS.for_token(delegated=True) == "Calendars.ReadWrite"
    # Delegated writes to another user's calendar need the shared permission (and a delegation).
    assert CALENDAR_EVENTS_SHARED.for_token(delegated=True) == "Calendars.ReadWrite.Shared"
    assert CALENDAR_EVENTS_SHARED.for_token(delegated=False) == "Calendars.ReadWrite"


def test_the_type_is_shared_and_still_importable_from_meetings():
    assert meeting_permissions.RequiredPermission is RequiredPermission
    assert isinstance(meeting_permissions.CREATE_OR_GET, RequiredPermission)
