"""The type that names a Graph operation's permissions, shared by every resource.

Each resource lists its own permissions as data (``meetings/permissions.py``,
``events/permissions.py``); the connection check and the ``login`` command read them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GRAPH_API_DOCS", "RequiredPermission"]

#: Where Microsoft's page of each Graph operation lives; its ``Permissions`` section is the
#: ``#permissions`` anchor.
GRAPH_API_DOCS = "https://learn.microsoft.com/graph/api/"


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

    @classmethod
    def documented(
        cls, operation: str, page: str, application: str, delegated: str | None = None
    ) -> RequiredPermission:
        """The permissions the ``Permissions`` section of Graph's API page ``page`` lists.

        :param operation: the operation, for people
        :param page: the page's name below :data:`GRAPH_API_DOCS` (e.g. ``user-get``)
        :param application: the least privileged application permission
        :param delegated: the least privileged delegated one; default: the same name
        """
        return cls(operation, application, delegated or application, f"{GRAPH_API_DOCS}{page}#permissions")

    def for_token(self, *, delegated: bool) -> str:
        """The permission a token of this kind must carry.

        :param delegated: whether the token acts as a signed-in user
        """
        return self.delegated if delegated else self.application
