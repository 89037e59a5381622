"""Where ``onlineMeetings/createOrGet`` exists: a fact of the resource, not of a cloud's endpoints.

The national-cloud table of https://learn.microsoft.com/graph/api/application-post-onlinemeetings
(and of ``onlinemeeting-createorget``) lists the global service, US Government L4 and L5 (DOD);
China operated by 21Vianet has no createOrGet in v1.0 (docs/connection.md, "Clouds").
"""

from __future__ import annotations

__all__ = ["CLOUDS_WITHOUT_CREATE_OR_GET", "has_create_or_get"]

#: The connection's ``cloud`` values whose Graph v1.0 has no ``onlineMeetings/createOrGet``.
CLOUDS_WITHOUT_CREATE_OR_GET: frozenset[str] = frozenset({"china"})


def has_create_or_get(cloud: str) -> bool:
    """Whether Graph v1.0 of ``cloud`` (a key of ``graph.settings.CLOUDS``) has createOrGet.

    :param cloud: the connection's ``cloud``
    """
    return cloud not in CLOUDS_WITHOUT_CREATE_OR_GET
