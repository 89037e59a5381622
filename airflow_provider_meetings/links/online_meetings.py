"""Extra links of the online-meeting operators."""

from __future__ import annotations

from typing import Any

from airflow_provider_meetings.links.return_value import ReturnValueLink, url_of


def join_url_of(meeting: Any) -> str:
    """The meeting's ``joinWebUrl`` if it is an http(s) URL, else ``""``."""
    return url_of(meeting, JoinTeamsMeetingLink.key)


class JoinTeamsMeetingLink(ReturnValueLink):
    """Button "Join Teams meeting" on a task that returned an ``onlineMeeting``.

    The URL is the ``joinWebUrl`` of the meeting the task returned (its ``return_value``
    XCom); the link is empty when the task returned none, or did not succeed
    (:mod:`~airflow_provider_meetings.links.return_value` says why).

    .. seealso::
        ``docs/operators.md``
    """

    name = "Join Teams meeting"
    key = "joinWebUrl"
