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

    Airflow calls :meth:`get_link` on the worker once the task is over, whatever its
    outcome, and stores the URL for the UI. A task instance that did not succeed returned
    no meeting, so the link is empty without asking for the XCom: asking would make the
    worker log ``[error] XCom not found`` beside the task's real error.

    .. seealso::
        ``docs/operators.md``
    """

    name = "Join Teams meeting"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk import TaskInstanceState
        from airflow.sdk.execution_time.xcom import XCom

        # On the worker (task runner's finalize) ti_key is the task instance itself, with the
        # state the try ended in; a return_value XCom exists only after success. A plain
        # TaskInstanceKey has no state: look the XCom up.
        if hasattr(ti_key, "state") and ti_key.state != TaskInstanceState.SUCCESS:
            return ""
        return join_url_of(XCom.get_value(ti_key=ti_key, key="return_value"))
