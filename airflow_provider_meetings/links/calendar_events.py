"""Extra links of the calendar-event operators: the Teams join link and the event in Outlook.

Both read the task's return value (:meth:`~airflow_provider_meetings.events.results.EventResult.to_dict`)
the way :class:`~airflow_provider_meetings.links.online_meetings.JoinTeamsMeetingLink` reads a
meeting: only for a task instance that succeeded (see there why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


def url_of(value: Any, key: str) -> str:
    """``value[key]`` if ``value`` is a mapping and that is an http(s) URL, else ``""``."""
    if not isinstance(value, dict):
        return ""
    url = value.get(key)
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


class _EventResultLink(BaseOperatorLink):
    """A URL from the event result a task returned."""

    key: str = ""

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk import TaskInstanceState
        from airflow.sdk.execution_time.xcom import XCom

        if hasattr(ti_key, "state") and ti_key.state != TaskInstanceState.SUCCESS:
            return ""
        return url_of(XCom.get_value(ti_key=ti_key, key="return_value"), self.key)


class JoinTeamsEventLink(_EventResultLink):
    """Button "Join Teams meeting": the event's ``onlineMeeting.joinUrl``."""

    name = "Join Teams meeting"
    key = "join_url"


class OutlookEventLink(_EventResultLink):
    """Button "Open in Outlook": the event in Outlook on the web."""

    name = "Open in Outlook"
    key = "outlook_url"
