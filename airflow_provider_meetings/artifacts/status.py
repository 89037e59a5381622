"""Whether a meeting's artifacts are there yet: what the sensor and its trigger poll.

Graph has no "meeting ended" flag (GRAPH_FACTS, "Series and restarts"): a session has
ended when its attendance report exists (reports are made when a session ends). The
status counts what exists now; ``ready`` says every requested kind has at least one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_meetings.artifact_args import ARTIFACTS, ArgumentError, check_artifacts
from airflow_provider_meetings.graph.errors import InvalidRequestError

__all__ = ["artifacts_status", "check_artifact_kinds"]


def check_artifact_kinds(artifacts: Any) -> tuple[str, ...]:
    """The requested kinds, checked before any request: the rule of
    :func:`~airflow_provider_meetings.artifact_args.check_artifacts` (the one the operators
    apply when a DAG file is parsed), refused as the provider's error.

    :param artifacts: an iterable of ``attendance``, ``transcript``, ``recording`` (or one of them)
    :return: the kinds without repeats, in the order of
        :data:`~airflow_provider_meetings.artifact_args.ARTIFACTS`
    :raises InvalidRequestError: (field ``artifacts``) not text, empty, or an unknown kind
    """
    try:
        return check_artifacts(artifacts)
    except ArgumentError as error:
        raise InvalidRequestError(error.argument, error.problem) from None


def artifacts_status(meeting_id: str, kinds: Iterable[str], count: Callable[[str], int]) -> dict[str, Any]:
    """``{"meeting_id", "ended", "attendance", "transcript", "recording", "ready"}``.

    :param meeting_id: the meeting
    :param kinds: the requested kinds (checked)
    :param count: how many of a kind exist now (one listing request per kind)
    :return: counts of the requested kinds (``0`` for the others, not asked); ``ended`` when
        an attendance report exists (asked when attendance was requested; otherwise when
        any requested artifact exists, as transcripts and recordings appear only after a
        session ended)
    """
    kinds = tuple(kinds)
    counts = {kind: count(kind) if kind in kinds else 0 for kind in ARTIFACTS}
    ready = all(counts[kind] > 0 for kind in kinds)
    ended = counts["attendance"] > 0 if "attendance" in kinds else any(counts[kind] > 0 for kind in kinds)
    return {"meeting_id": meeting_id, "ended": ended, **counts, "ready": ready}
