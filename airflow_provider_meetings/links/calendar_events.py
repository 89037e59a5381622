"""Extra links of the calendar-event operators: the Teams join link and the event in Outlook.

Both read the task's return value (:meth:`~airflow_provider_meetings.events.results.EventResult.to_dict`)
as :class:`~airflow_provider_meetings.links.online_meetings.JoinTeamsMeetingLink` reads a
meeting: only for a task instance that succeeded.
"""

from __future__ import annotations

from airflow_provider_meetings.links.return_value import ReturnValueLink, url_of

__all__ = ["JoinTeamsEventLink", "OutlookEventLink", "url_of"]


class JoinTeamsEventLink(ReturnValueLink):
    """Button "Join Teams meeting": the event's ``onlineMeeting.joinUrl``."""

    name = "Join Teams meeting"
    key = "join_url"


class OutlookEventLink(ReturnValueLink):
    """Button "Open in Outlook": the event in Outlook on the web."""

    name = "Open in Outlook"
    key = "outlook_url"
