"""The Microsoft Graph permissions the onlineMeetings calls need, as data.

One :class:`RequiredPermission` per operation names the least privileged permission of each
kind of token, as Microsoft's page of the operation lists it: an app-only token carries
application permissions in its ``roles`` claim, a delegated token carries delegated
permissions in its ``scp`` claim. The connection check reads them to say what is missing,
the ``login`` command asks for the delegated one. :class:`RequiredPermission` lives in
:mod:`airflow_provider_meetings.graph.permissions` (re-exported here); calendar events name
theirs in :mod:`airflow_provider_meetings.events.permissions`.
"""

from __future__ import annotations

from airflow_provider_meetings.graph.permissions import RequiredPermission

__all__ = ["CREATE_OR_GET", "USER_LOOKUP", "RequiredPermission"]


#: ``POST /users/{id}/onlineMeetings/createOrGet`` (and the PATCH, DELETE and lookup by
#: ``JoinWebUrl`` of the same meetings, which the same permissions cover).
CREATE_OR_GET = RequiredPermission.documented(
    "createOrGet", "onlinemeeting-createorget", "OnlineMeetings.ReadWrite.All", "OnlineMeetings.ReadWrite"
)

#: ``GET /users/{upn}?$select=id``: an organizer given by user principal name is looked up.
#: Delegated ``User.ReadBasic.All`` reads other users' basic properties (``id`` is one); the
#: signed-in user's own user needs only ``User.Read``.
USER_LOOKUP = RequiredPermission.documented("user lookup", "user-get", "User.Read.All", "User.ReadBasic.All")
