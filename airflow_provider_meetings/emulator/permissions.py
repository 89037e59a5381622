"""Which Graph permissions each emulated operation needs, from the permission tables of its docs page.

An app token needs one of the application permissions in its ``roles``; a delegated token
one of the delegated permissions in its ``scp``. The application access policy is checked
separately (it is not a permission).
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_meetings.emulator.errors import GraphError
from airflow_provider_meetings.emulator.tokens import AccessToken


@dataclass(frozen=True)
class Permissions:
    """The permissions that allow an operation, least privileged first.

    :param delegated: accepted in the ``scp`` of a delegated token.
    :param application: accepted in the ``roles`` of an app token.
    """

    delegated: tuple[str, ...]
    application: tuple[str, ...]


#: https://learn.microsoft.com/graph/api/onlinemeeting-createorget#permissions
CREATE_OR_GET = Permissions(("OnlineMeetings.ReadWrite",), ("OnlineMeetings.ReadWrite.All",))
#: https://learn.microsoft.com/graph/api/onlinemeeting-get#permissions
READ_MEETING = Permissions(
    ("OnlineMeetings.Read", "OnlineMeetings.ReadWrite"),
    ("OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"),
)
#: https://learn.microsoft.com/graph/api/onlinemeeting-update#permissions and
#: https://learn.microsoft.com/graph/api/onlinemeeting-delete#permissions
WRITE_MEETING = Permissions(("OnlineMeetings.ReadWrite",), ("OnlineMeetings.ReadWrite.All",))
#: https://learn.microsoft.com/graph/api/user-get#permissions (least privileged app permission)
READ_USER = Permissions(("User.Read", "User.ReadBasic.All", "User.Read.All"), ("User.Read.All",))

#: Message of the 403 for a token without the permission. Graph documents 403 as "Access is
#: denied to the requested resource. The user might not have enough permission"
#: (https://learn.microsoft.com/graph/errors) but not this operation's text: an assumption,
#: listed in docs/emulator.md.
INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."


def require(token: AccessToken, needed: Permissions) -> None:
    """Raise Graph's 403 unless ``token`` holds one of the permissions ``needed``."""
    accepted = needed.delegated if token.is_delegated else needed.application
    if not any(token.grants(permission) for permission in accepted):
        raise GraphError(403, "Forbidden", INSUFFICIENT_PRIVILEGES)


def for_meeting_route(route: str, method: str) -> Permissions:
    """The permissions of an ``onlineMeetings`` route (``createOrGet``, ``getMeeting``, ``listMeetings``)."""
    if route == "createOrGet":
        return CREATE_OR_GET
    if method.upper() in ("PATCH", "DELETE", "POST", "PUT"):
        return WRITE_MEETING
    return READ_MEETING
