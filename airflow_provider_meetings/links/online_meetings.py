"""Extra links of the online-meeting operators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


def join_url_of(meeting: Any) -> str:
    """The meeting's ``joinWebUrl`` if it is an http(s) URL, else ``""``."""
    if not isinstance(meeting, dict):
        return ""
    url = meeting.get("joinWebUrl")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return url
    return ""


class JoinTeamsMeetingLink(BaseOperatorLink):
    """Button "Join Teams meeting" on a task that returned an ``onlineMeeting``.

    The URL is the ``joinWebUrl`` of the meeting the task returned (its ``return_value``
    XCom); the link is empty when the task returned none.

    .. seealso::
        ``docs/operators.md``
    """

    name = "Join Teams meeting"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return join_url_of(XCom.get_value(ti_key=ti_key, key="return_value"))
