"""The Microsoft Graph permissions the onlineMeetings calls need, as data.

One :class:`RequiredPermission` per operation names the least privileged permission of each
kind of token, as Microsoft's page of the operation lists it: an app-only token carries
application permissions in its ``roles`` claim, a delegated token carries delegated
permissions in its ``scp`` claim. The connection check reads them to say what is missing,
the ``login`` command asks for the delegated one, and a new resource adds its own here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CREATE_OR_GET", "USER_LOOKUP", "RequiredPermission"]


@dataclass(frozen=True)
class RequiredPermission:
    """The permission one Graph operation needs, for each kind of token.

    :param operation: the operation, for people (e.g. ``createOrGet``)
    :param application: the application permission (``roles`` of an app-only token)
    :param delegated: the delegated permission (``scp`` of a delegated token)
    :param source: the Microsoft page that lists them
    """

    operation: str
    application: str
    delegated: str
    source: str

    def for_token(self, *, delegated: bool) -> str:
        """The permission a token of this kind must carry.

        :param delegated: whether the token acts as a signed-in user
        """
        return self.delegated if delegated else self.application


#: ``POST /users/{id}/onlineMeetings/createOrGet`` (and the PATCH, DELETE and lookup by
#: ``JoinWebUrl`` of the same meetings, which the same permissions cover).
CREATE_OR_GET = RequiredPermission(
    operation="createOrGet",
    application="OnlineMeetings.ReadWrite.All",
    delegated="OnlineMeetings.ReadWrite",
    source="https://learn.microsoft.com/graph/api/onlinemeeting-createorget#permissions",
)

#: ``GET /users/{upn}?$select=id``: an organizer given by user principal name is looked up.
#: Delegated ``User.ReadBasic.All`` reads other users' basic properties (``id`` is one); the
#: signed-in user's own user needs only ``User.Read``.
USER_LOOKUP = RequiredPermission(
    operation="user lookup",
    application="User.Read.All",
    delegated="User.ReadBasic.All",
    source="https://learn.microsoft.com/graph/api/user-get#permissions",
)
