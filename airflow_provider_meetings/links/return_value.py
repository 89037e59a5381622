"""The base of the provider's extra links: a URL from the mapping a task returned.

Airflow calls :meth:`~ReturnValueLink.get_link` on the worker once the task is over, whatever
its outcome, and stores the URL for the UI. A task instance that did not succeed returned
nothing, so the link is empty without asking for the XCom: asking would make the worker log
``[error] XCom not found`` beside the task's real error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["ReturnValueLink", "url_of"]


def url_of(value: Any, key: str) -> str:
    """``value[key]`` if ``value`` is a mapping and that is an http(s) URL, else ``""`` (a
    ``javascript:`` or other scheme never becomes a button).

    :param value: the task's return value
    :param key: the key of the URL in it
    """
    if not isinstance(value, dict):
        return ""
    url = value.get(key)
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


class ReturnValueLink(BaseOperatorLink):
    """A button whose URL is ``return_value[key]`` of a task instance that succeeded."""

    #: the key of the URL in the task's return value
    key: str = ""

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk import TaskInstanceState
        from airflow.sdk.execution_time.xcom import XCom

        # On the worker (task runner's finalize) ti_key is the task instance itself, with the
        # state the try ended in; a return_value XCom exists only after success. A plain
        # TaskInstanceKey has no state: look the XCom up.
        if hasattr(ti_key, "state") and ti_key.state != TaskInstanceState.SUCCESS:
            return ""
        return url_of(XCom.get_value(ti_key=ti_key, key="return_value"), self.key)
