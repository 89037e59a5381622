"""A Graph error answer raised again as a more precise error class, its facts kept.

A resource that recognises an answer (a 403 for a permission it knows, a tenant setting)
raises its own subclass of :class:`~airflow_provider_meetings.graph.errors.GraphAPIError`
with advice in ``detail``; status, codes, message, request id and date stay those of
Graph's answer, so a caller branches on them as on any Graph error.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_meetings.graph.errors import GraphAPIError

__all__ = ["answer_facts"]


def answer_facts(error: GraphAPIError) -> dict[str, Any]:
    """The facts of Graph's answer in ``error``, as keyword arguments of :class:`GraphAPIError`.

    Everything but ``detail``, which the more precise class gives itself, e.g.
    ``CalendarAccessDeniedError(**answer_facts(error), detail=advice)``.

    :param error: the error the client raised for the answer
    """
    return {
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "request_id": error.request_id,
        "date": error.date,
        "retry_after": error.retry_after,
        "inner_code": error.inner_code,
    }
